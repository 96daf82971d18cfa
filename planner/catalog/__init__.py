"""The catalog: sourced YAML facts loaded once, validated and frozen (see docs/catalog.md)."""

from planner.catalog.lookup import Catalog
from planner.catalog.overlay import ENV_OVERLAY, load_catalog
from planner.catalog.yaml_io import data_dir

__all__ = ["ENV_OVERLAY", "Catalog", "data_dir", "load_catalog"]
