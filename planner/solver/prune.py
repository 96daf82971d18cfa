"""Which sized configurations the search may leave unpriced, exactly: none of their candidates could be shown.

A plan shows, per family of candidates (`choose.family_key`: model, precision, GPU, deploy kind,
provider), only the first feasible one in rank order (`choose.rank`), and rejects a model/precision/
GPU/engine only when it has no priced candidate at all. So once a configuration's engine family has
a priced candidate, its pricing (lines, filling them, the candidates) may be skipped when, in every
family its candidates fall in, a lower bound of its rank key already ranks after that family's best
feasible candidate so far, or after the first of a family with none feasible when it is surely
infeasible too (a key whose every part is at least the candidate's, ordered after, orders the
candidate after too). Ties are never skipped, so the plan is the whole search's, byte for byte
(tests/test_search_pruning.py); a request nothing meets is explained from the whole search.

The lines are the very ones `costing.self_hosted` prices; filling them with replicas only lowers
queueing waits, and the replicas it adds serve at most their slots' service rate. Without a load
(one replica, priced before its queue is sized) the ladder alone bounds that rate, so the queue
sizing is skipped too.
"""

from __future__ import annotations

import math

from planner.perf import Config
from planner.solver.choose import Rank, family_key, rank, violations
from planner.solver.costing import Candidate, PriceBook
from planner.solver.evaluate import MAX_REPLICAS, Ladder, Sized
from planner.solver.resolve import Resolved
from planner.solver.space import Family
from planner.terms import SECONDS_PER_MONTH

Key = tuple[float, ...]


class Pruner:
    def __init__(self, res: Resolved, book: PriceBook) -> None:
        self.res, self.book = res, book
        self.per_token = not res.has_load  # rank: $ per million tokens first, else monthly cost
        # Without a load the rank starts with quality tied to the best feasible; within a family the
        # quality is one, so that part is the same for all and the order is the rest of the key.
        self.order: Rank = rank(res)
        # An hourly profile is billed by schedule (costing.self_hosted), which `_lines` does not follow.
        self.active = res.workload.load_profile is None
        self.priced: set[tuple[str, str, str, str]] = set()
        self.best: dict[tuple[str, ...], Key] = {}  # per family: the first feasible candidate's rank key
        self.first: dict[tuple[str, ...], Key] = {}  # ... and the first of all (what a rejection names)

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

    def skip(self, fam: Family, sized: Sized) -> bool:
        """Once sized: True when every candidate of `sized` ranks after its family's best feasible one."""
        return self._loses(fam, sized.cfg, sized.replicas, sized.batch / sized.service_s, sized.service_s)

    def skip_ladder(self, fam: Family, cfg: Config, lad: Ladder) -> bool:
        """The same before the queue sizing, without a load only: one replica is priced whatever its rung,
        so only the rate it serves is unknown, and no rung serves more than its slots' service rate."""
        if not self.per_token or lad.failure is not None or not lad.rungs:
            return False
        return self._loses(fam, cfg, 1, max(r.batch / r.service_s for r in lad.rungs),
                           min(r.service_s for r in lad.rungs))

    def _loses(self, fam: Family, cfg: Config, replicas: int, rps: float, service_s: float) -> bool:
        """`replicas` replicas, each serving under `rps` requests/s, `service_s` seconds per request at least."""
        if not self.active or (fam.model, fam.precision, fam.gpu, fam.engine) not in self.priced:
            return False  # a family with no priced candidate is reported by its failures
        res = self.res
        other_engine = float(cfg.engine != "vllm")
        # Latency is at least the steady-state TTFT plus OSL × TPOT (queueing only adds).
        latency = service_s * 1000.0 * (1.0 - 1e-12)
        for kind, provider, monthly, n in self._lines(cfg, replicas):
            k = (fam.model, fam.precision, fam.gpu, kind, provider)
            best = self.best.get(k)
            if best is None:
                best = self.first.get(k)
                if best is None or not self._blocked(monthly, kind, -best[2 if self.per_token else 1]):
                    return False
            gpus = float(cfg.tp * n)
            if self.per_token:
                tokens = n * rps * SECONDS_PER_MONTH * res.osl
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

    def _lines(self, cfg: Config, replicas: int) -> list[tuple[str, str, float, int]]:
        """(deploy kind, provider as `family_key` has it, monthly cost, replicas) of each line
        `costing.self_hosted` prices for `replicas`, with the replicas it fills the line with."""
        res, book, tp, gpu = self.res, self.book, cfg.tp, cfg.gpu.id
        out: list[tuple[str, str, float, int]] = []
        if "cloud" in res.deploys:
            ln = book.cloud(gpu, tp, replicas)
            if ln is not None:
                out.append(("cloud", ln.provider, ln.monthly_usd, _filled(replicas, ln.gpus // tp)))
        if "onprem" in res.deploys:
            owned = book.onprem(gpu, tp * replicas)
            if owned is not None:
                n = _filled(replicas, owned.gpus // tp)
                if n > replicas:
                    owned = book.onprem(gpu, tp * n) or owned  # re-priced for the replicas it holds
                out.append(("onprem", "", owned.monthly_usd, n))
        return out


def _filled(replicas: int, fit: int) -> int:
    """The replicas `evaluate.fill` runs on a line holding `fit` of them."""
    return max(replicas, min(fit, MAX_REPLICAS))
