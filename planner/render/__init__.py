"""Deployment artifacts from a Plan: Kubernetes manifests, a Helm chart, a launch command."""

from __future__ import annotations

from planner.render.artifacts import render_files, write_artifacts
from planner.render.context import RenderOptions, build_context
from planner.render.engine import engine_args, engine_command, engine_image

__all__ = [
    "RenderOptions",
    "build_context",
    "engine_args",
    "engine_command",
    "engine_image",
    "render_files",
    "write_artifacts",
]
