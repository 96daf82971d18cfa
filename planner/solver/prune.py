"""Which configurations the search may leave unsized or unpriced, exactly: none of their candidates could be shown.

A plan shows, per family of candidates (`choose.family_key`: model, precision, GPU, deploy kind,
provider), only the first feasible one in rank order (`choose.rank`), and rejects a model/precision/
GPU/engine only when it has no priced candidate at all. So once a configuration's engine family has
a priced candidate, it may be skipped when, in every family its candidates could fall in, a lower
bound of its rank key already ranks after that family's best feasible candidate so far (a key whose
every part is at least the candidate's, ordered after, orders the candidate after too). Ties are
never skipped, so the plan is the whole search's, byte for byte (tests/test_search_pruning.py).

The bounds: with the ladder (the load-free part of sizing), each rung's batch and service time;
once sized, its replicas' own lines. (A bound before the ladder, from the bare decode step, cost
more than it saved: it rarely beats a family's best.)
The fewest replicas then follow as `evaluate._sized` counts them (at least the queue's stability
bound); rent and purchases never cost less for more replicas (`cost.least_rent_by_provider` says
which providers can be the cheapest from a count on); filling instances only adds GPUs and lowers
waits. Without a load, one replica is priced on known lines and the rate it serves bounds $ per token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.perf import Config
from planner.solver.choose import Rank, family_key, rank, violations
from planner.solver.costing import Candidate, PriceBook
from planner.solver.evaluate import MAX_REPLICAS, Ladder, Sized
from planner.solver.resolve import Resolved
from planner.solver.space import Family
from planner.terms import SECONDS_PER_MONTH

Key = tuple[float, ...]


@dataclass(frozen=True)
class _Bound:
    """What every candidate of a configuration has at least: replicas, and latency in ms."""

    replicas: int
    rps: float  # requests/s per replica it never exceeds
    latency_ms: float
    exact: bool = False  # `replicas` is the sized count itself: its lines are the very ones priced


class Pruner:
    def __init__(self, res: Resolved, book: PriceBook) -> None:
        self.res, self.book = res, book
        self.per_token = not res.has_load  # rank: $ per million tokens first, else monthly cost
        # Without a load the rank starts with quality tied to the best feasible; within a family the
        # quality is one, so that part is the same for all and the order is the rest of the key.
        self.order: Rank = rank(res)
        # An hourly profile is billed by schedule, which these bounds do not cover.
        self.active = res.workload.load_profile is None
        self.priced: set[tuple[str, str, str, str]] = set()
        self.best: dict[tuple[str, ...], Key] = {}  # per family: the first feasible candidate's rank key
        self.first: dict[tuple[str, ...], Key] = {}  # ... and the first of all (it is what a rejection names)

    def record(self, cands: list[Candidate]) -> None:
        for c in cands:
            assert c.sized is not None
            cfg = c.sized.cfg
            self.priced.add((c.model, cfg.precision, cfg.gpu.id, cfg.engine))
            k, v = family_key(c), self.order(c)
            if k not in self.first or v < self.first[k]:
                self.first[k] = v
            if not violations(c, self.res) and (k not in self.best or v < self.best[k]):
                self.best[k] = v

    def skip_sized(self, fam: Family, cfg: Config, lad: Ladder) -> bool:
        """With its ladder: saves the queue sizing and pricing."""
        if lad.failure is not None or not lad.rungs or not self._may_skip(fam):
            return False
        rungs = tuple((r.batch, r.service_s) for r in lad.rungs)
        return self._loses(fam, cfg, _Bound(self._fewest(rungs), max(b / s for b, s in rungs),
                                            min(s for _, s in rungs) * 1000.0))

    def skip_priced(self, fam: Family, cfg: Config, sized: Sized) -> bool:
        """Once sized: saves the pricing."""
        if not self._may_skip(fam):
            return False
        return self._loses(fam, cfg, _Bound(sized.replicas, sized.batch / sized.service_s,
                                            sized.service_s * 1000.0, exact=True))

    def _may_skip(self, fam: Family) -> bool:
        # A family with no priced candidate is reported by its failures: all of them are needed.
        return self.active and (fam.model, fam.precision, fam.gpu, fam.engine) in self.priced

    def _loses(self, fam: Family, cfg: Config, b: _Bound) -> bool:
        """Whether every candidate `cfg` can have ranks after its family's best feasible one."""
        res, tp = self.res, cfg.tp
        other_engine = float(cfg.engine != "vllm")
        # Latency is the steady-state TTFT plus OSL × TPOT at least (queueing and rounding only add).
        latency = b.latency_ms * (1.0 - 1e-12)
        for kind, provider, monthly, replicas in self._lines(cfg, b):
            k = (fam.model, fam.precision, fam.gpu, kind, provider)
            best = self.best.get(k)
            if best is None:
                # No feasible candidate in the family yet: this one matters unless it is surely over the
                # budget or under the quality bar and ranks after the family's first (all blocked) one.
                best = self.first.get(k)
                if best is None or not self._blocked(monthly, kind, -best[2 if self.per_token else 1]):
                    return False
            gpus = float(tp * replicas)
            if self.per_token:
                tokens = replicas * b.rps * SECONDS_PER_MONTH * res.osl
                low: Key = (best[0], round(monthly / tokens * 1e6, 4), best[2], gpus, other_engine, latency,
                            round(monthly, 2))
            else:
                low = (round(monthly, 2), best[1], gpus, other_engine, latency, -math.inf)
            if not low > best:
                return False
        return True

    def _blocked(self, monthly: float, kind: str, quality: float) -> bool:
        """Whether a candidate costing at least `monthly` of this quality surely violates the request
        (`choose.violations`; a capex budget makes an on-prem candidate's monthly cash another number)."""
        req = self.res.request
        if req.min_quality is not None and quality < req.min_quality:
            return True
        cash_is_cost = kind == "cloud" or req.capex_budget is None
        return req.budget is not None and cash_is_cost and round(monthly, 2) > req.budget

    def _lines(self, cfg: Config, b: _Bound) -> list[tuple[str, str, float, int]]:
        """(deploy kind, provider as `family_key` has it, least monthly cost, fewest replicas) per family
        the candidates can fall in. Without a load or once sized: the lines `costing.self_hosted` prices
        and the replicas it fills them with."""
        res, book, tp, gpu = self.res, self.book, cfg.tp, cfg.gpu.id
        exact = b.exact or self.per_token
        out: list[tuple[str, str, float, int]] = []
        if "cloud" in res.deploys:
            if exact:
                ln = book.cloud(gpu, tp, b.replicas)
                if ln is not None:
                    out.append(("cloud", ln.provider, ln.monthly_usd, _filled(b.replicas, ln.gpus // tp)))
            else:
                out.extend(("cloud", p, rent, b.replicas) for p, rent in book.least_rent(gpu, tp, b.replicas).items())
        if "onprem" in res.deploys:
            owned = book.onprem(gpu, tp * b.replicas)
            if owned is not None:
                n = _filled(b.replicas, owned.gpus // tp) if exact else b.replicas
                if exact and n > b.replicas:
                    owned = book.onprem(gpu, tp * n) or owned  # re-priced for the replicas it holds
                out.append(("onprem", "", owned.monthly_usd, n))
        return out

    def _fewest(self, rungs: tuple[tuple[int, float], ...]) -> int:
        """The fewest replicas any of these (batch, service seconds) rungs is sized to."""
        res = self.res
        if self.per_token:
            return 1
        if res.concurrency is not None:
            n = res.concurrency
            if res.think_s > 0:  # an open queue at the users' rate, never above a slot per user
                return max(1, min(min(-(-n // b), math.ceil(n * s / (res.think_s + s) / b * (1.0 - 1e-9)))
                                  for b, s in rungs))
            return -(-n // max(b for b, _ in rungs))
        load = res.sizing_rps
        assert load is not None
        return max(1, min(math.ceil(load * s / b * (1.0 - 1e-9)) for b, s in rungs))


def _filled(replicas: int, fit: int) -> int:
    """The replicas `evaluate.fill` runs on a line holding `fit` of them."""
    return max(replicas, min(fit, MAX_REPLICAS))
