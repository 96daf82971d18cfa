"""The frozen Catalog and its lookups: callers ask it questions instead of walking raw data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from planner.catalog.schema import (
    ApiOffer,
    CloudOffer,
    GpuSpec,
    ModelSpec,
    PrecisionPenalty,
    PurchaseOffer,
    TaskSpec,
    TcoAssumptions,
)
from planner.errors import CatalogError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Catalog:
    """The frozen catalog. Callers ask it questions instead of walking raw data."""

    models: dict[str, ModelSpec]
    gpus: dict[str, GpuSpec]
    cloud: dict[str, CloudOffer]
    purchase: dict[str, PurchaseOffer]
    api: dict[str, ApiOffer]
    tasks: dict[str, TaskSpec]
    penalties: dict[str, PrecisionPenalty]
    tco: TcoAssumptions
    origin: dict[tuple[str, str], Path]
    calibrations: tuple[Path, ...] = ()
    """Calibration profiles found in the overlay folder (applied by the CLI, planner/calibrate)."""

    def model(self, model_id: str) -> ModelSpec:
        return _lookup(self.models, model_id, "model")

    def gpu(self, gpu_id: str) -> GpuSpec:
        return _lookup(self.gpus, gpu_id, "gpu")

    def task(self, task_id: str) -> TaskSpec:
        return _lookup(self.tasks, task_id, "task")

    def offers_for(self, gpu_id: str) -> list[CloudOffer]:
        return list(self._offers_by_gpu.get(gpu_id, ()))

    @cached_property
    def _offers_by_gpu(self) -> dict[str, tuple[CloudOffer, ...]]:
        # The solver asks thousands of times per plan; the catalog is frozen, so index it once.
        return _by_gpu(self.cloud.values())

    def purchases_for(self, gpu_id: str) -> list[PurchaseOffer]:
        return list(self._purchases_by_gpu.get(gpu_id, ()))

    @cached_property
    def _purchases_by_gpu(self) -> dict[str, tuple[PurchaseOffer, ...]]:
        return _by_gpu(self.purchase.values())

    def api_offers_for(self, model_id: str) -> list[ApiOffer]:
        return [o for o in self.api.values() if o.model == model_id]

    def checkpoints_of(self, model_id: str) -> dict[str, Any]:
        return {c.precision: c for c in self.model(model_id).checkpoints}

    def open_twin(self, model_id: str) -> ModelSpec:
        """The model whose weights serve `model_id`: itself, or the open twin of a hosted-only model."""
        model = self.model(model_id)
        return self.model(model.hosted_twin_of) if model.architecture is None and model.hosted_twin_of else model

    def penalty(self, precision: str) -> float:
        p = self.penalties.get(precision)
        return p.points if p else 0.0


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def _names(entry: BaseModel) -> set[str]:
    """Every spelling an entry answers to: id, name, aliases, and (models) its checkpoint repos."""
    names = {getattr(entry, "id", ""), getattr(entry, "name", ""), *getattr(entry, "aliases", ())}
    for ckpt in getattr(entry, "checkpoints", ()):
        names |= {ckpt.repo, ckpt.repo.split("/")[-1]}
    return {_norm(n) for n in names if n}


def matching_ids(table: dict[str, M], key: str) -> list[str]:
    """Ids `key` names: the exact id, else every entry whose id, name, alias or repo matches
    case-insensitively (e.g. `H100`, `Qwen/Qwen3.5-27B-FP8`). Sorted; empty when none."""
    if key in table:
        return [key]
    wanted = _norm(key)
    return sorted(k for k, entry in table.items() if wanted == _norm(k) or wanted in _names(entry))


def spellings(table: dict[str, M]) -> dict[str, str]:
    """Every normalised spelling -> its id, for "did you mean" suggestions."""
    out: dict[str, str] = {}
    for k in sorted(table):
        for name in sorted(_names(table[k]) | {_norm(k)}):
            out.setdefault(name, k)
    return out


def _lookup(table: dict[str, M], key: str, what: str) -> M:
    """Exact id first; then a case-insensitive match on names and aliases (e.g. `H100`, `Qwen/Qwen3.5-27B`)."""
    hits = matching_ids(table, key)
    if len(hits) == 1:
        return table[hits[0]]
    choices = hits or sorted(table)
    raise CatalogError(f"unknown {what} {key!r}; accepted: {', '.join(choices)}") from None


Offer = TypeVar("Offer", CloudOffer, PurchaseOffer)


def _by_gpu(offers: Iterable[Offer]) -> dict[str, tuple[Offer, ...]]:
    out: dict[str, list[Offer]] = {}
    for o in offers:
        out.setdefault(o.gpu, []).append(o)
    return {k: tuple(v) for k, v in out.items()}
