"""qwen-plan: deployment planner for the Qwen3.5 Medium models."""

# A literal, read by hatchling at build time: importlib.metadata costs ~0.1 s at every start.
__version__ = "0.1.0"
