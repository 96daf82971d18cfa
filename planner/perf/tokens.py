"""Tokens a request carries: the one home of the visual-token count.

Qwen3.5's ViT cuts an image into patch × patch pixel squares (video: two frames per temporal patch)
and merges spatial_merge × spatial_merge patches into one prompt token, so a 1024×1024 image is
1,024 tokens and 64 frames of 448×448 are 6,272. The perf model (prefill, ViT FLOPs), the solver
(load in tokens per day, context length) and the Plan's Workload all count through here.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.perf.types import Shape


@dataclass(frozen=True)
class Visual:
    patches: float  # ViT patches encoded per request
    tokens: float  # prompt tokens they become after the spatial merge


def visual(shape: Shape, patch_size: int, temporal_patch_size: int, spatial_merge_size: int) -> Visual:
    """Patches and prompt tokens the request's images and video frames add, on average."""
    patch_px = patch_size * patch_size
    image = shape.images * shape.image_pixels / patch_px
    video = shape.video_frames / temporal_patch_size * shape.frame_pixels / patch_px
    patches = image + video
    return Visual(patches=patches, tokens=patches / (spatial_merge_size * spatial_merge_size))
