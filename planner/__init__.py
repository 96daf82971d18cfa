"""qwen-plan: deployment planner for the Qwen3.5 Medium models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qwen-plan")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"
