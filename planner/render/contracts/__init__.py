"""The pinned engines' flag contracts, derived from their own argument parsers by bench/engine_contract.py."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from planner.catalog.schema import Engine


class Flag(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    takes_value: bool
    choices: list[str] | None
    default: Any


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    engine: Engine
    version: str
    wheel: str
    wheel_sha256: str
    generated_by: str
    flags: dict[str, Flag]
    writable_env: dict[str, str]


@cache
def contract(engine: Engine) -> Contract:
    from planner.render.engine import engine_table  # the pinned version lives in the engine table

    version = engine_table().engines[engine].version
    path = Path(__file__).with_name(f"{engine}-{version}.json")
    return Contract.model_validate(json.loads(path.read_text(encoding="utf-8")))
