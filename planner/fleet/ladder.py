"""The solver's `size`, with its load-free part (`evaluate.ladder`: memory fit, the largest batch
meeting TPOT, each rung's TTFT and TPOT) computed once per configuration, shape and targets, so
workloads of one request shape share it; `evaluate.size_on` finishes it for each workload's load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.perf import Config, Shape
from planner.solver.evaluate import Failure, Ladder, Sized, ladder, size_on
from planner.solver.resolve import Resolved

LadderKey = tuple[int, Shape, float, float, float, int]


@dataclass
class Ladders:
    """Ladders by configuration (its identity: `lazy.Spaces` hands every workload of one task the same
    Config objects, and keeps them alive) and what `ladder` reads of the request."""

    _by: dict[LadderKey, Ladder] = field(default_factory=dict)

    def size(self, cfg: Config, res: Resolved) -> Sized | Failure:
        k = (id(cfg), res.shape, res.tpot_ms, res.ttft_ms, res.request.confidence, res.osl)
        if k not in self._by:
            self._by[k] = ladder(cfg, res)
        return size_on(cfg, res, self._by[k])
