"""The fleet file: workloads and fleet-wide constraints, validated into one Request per workload.

Each workload's fields are the `plan` request's fields (the Request model validates them, so the
limits have one home); the fleet-wide ones (deploy kinds, providers, tiers, regions, commitment,
on-prem assumptions, budgets) are copied into every workload's Request, a workload's own `regions`
(data residency), models and precisions replacing the fleet's. What only a fleet has: a quality
weight, GPU quotas and owned inventory. Every mistake is one line naming the workload and field.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from planner.catalog import Catalog
from planner.catalog.yaml_io import parse_yaml, read_input
from planner.errors import CatalogError, RequestError
from planner.k8s_names import check_name
from planner.request import Request

Objective = Literal["cost", "quality"]

# Workload fields that are Request fields (a fleet workload is an open-loop load: see docs/fleet.md).
WORKLOAD_REQUEST_FIELDS = ("task", "rps", "peak_rps", "tokens_per_day", "load_profile", "isl", "osl", "ttft_ms",
                           "tpot_ms", "min_quality", "models", "precisions", "regions")
WORKLOAD_FIELDS = ("name", *WORKLOAD_REQUEST_FIELDS, "weight")
# Fleet-wide fields copied into every workload's Request.
FLEET_REQUEST_FIELDS = ("budget", "capex_budget", "deploy", "providers", "tiers", "regions", "commit", "gpus",
                        "engine", "market", "allow_stale", "years", "power_price", "pue", "utilization", "models",
                        "precisions",
                        "colo_usd_per_kw_month", "ops_fraction", "cost_of_capital")
FLEET_FIELDS = (*FLEET_REQUEST_FIELDS, "objective", "quotas", "inventory")
QUOTA_FIELDS = ("gpu", "provider", "region", "max_gpus")
INVENTORY_FIELDS = ("gpu", "servers", "gpus_per_server")
TOP_FIELDS = ("fleet", "workloads")
MAX_WORKLOADS = 200


@dataclass(frozen=True)
class Quota:
    """At most `max_gpus` GPUs of `gpu` rented from `provider` (any when None) in `region` (any when None)."""

    gpu: str
    provider: str | None
    region: str | None
    max_gpus: int

    def applies(self, gpu: str, provider: str, region: str, geo: str) -> bool:
        return (gpu == self.gpu and (self.provider is None or provider == self.provider)
                and (self.region is None or self.region in (region, geo)))

    def __str__(self) -> str:
        where = " ".join(x for x in (self.provider, self.region) if x)
        return f"at most {self.max_gpus} {self.gpu}" + (f" in {where}" if where else "")


@dataclass(frozen=True)
class Owned:
    """Servers the fleet already owns: their purchase is sunk, only their running cost counts."""

    gpu: str
    servers: int
    gpus_per_server: int

    @property
    def gpus(self) -> int:
        return self.servers * self.gpus_per_server


@dataclass(frozen=True)
class WorkloadSpec:
    name: str
    request: Request  # sized at its peak (peak_rps, or the load profile's busiest hour)
    weight: float


@dataclass(frozen=True)
class FleetSpec:
    workloads: tuple[WorkloadSpec, ...]
    objective: Objective
    budget: float | None
    capex_budget: float | None
    quotas: tuple[Quota, ...]
    inventory: tuple[Owned, ...]


def _unknown(where: str, key: str, accepted: tuple[str, ...]) -> RequestError:
    close = difflib.get_close_matches(key, list(accepted), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"accepted: {', '.join(accepted)}"
    return RequestError(f"{where}.{key}: unknown field; {hint}")


def _mapping(value: Any, where: str, accepted: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RequestError(f"{where}: expected a mapping of {', '.join(accepted)}")
    out: dict[str, Any] = {}
    for key, v in value.items():
        name = str(key).replace("-", "_")
        if name not in accepted:
            raise _unknown(where, name, accepted)
        if name in out:
            raise RequestError(f"{where}.{name}: given twice (as {key!r} and another spelling)")
        out[name] = v
    return out


def _int(value: Any, where: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise RequestError(f"{where}: must be a whole number >= {least}, got {value!r}")
    return value


def _gpu(catalog: Catalog, value: Any, where: str) -> str:
    try:
        return catalog.gpu(str(value)).id
    except CatalogError as exc:
        raise RequestError(f"{where}: {exc}") from None


def _entries(raw: Any, name: str, allowed: tuple[str, ...], required: tuple[str, ...]
             ) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`name[i]`, mapping) for each entry of a fleet list, its fields checked; nothing when absent."""
    if raw is None:
        return
    if not isinstance(raw, list):
        raise RequestError(f"{name}: expected a list of {{{', '.join(allowed)}}}")
    for i, item in enumerate(raw):
        where = f"{name}[{i}]"
        entry = _mapping(item, where, allowed)
        for need in required:
            if need not in entry:
                raise RequestError(f"{where}.{need}: required")
        yield where, entry


def _quotas(raw: Any, catalog: Catalog) -> tuple[Quota, ...]:
    providers = sorted({o.provider for o in catalog.cloud.values()})
    places = sorted({o.region for o in catalog.cloud.values()} | {o.geo for o in catalog.cloud.values()})
    out = []
    for where, q in _entries(raw, "fleet.quotas", QUOTA_FIELDS, ("gpu", "max_gpus")):
        provider, region = q.get("provider"), q.get("region")
        if provider is not None and provider not in providers:
            raise RequestError(f"{where}.provider: unknown {provider!r}; accepted: {', '.join(providers)}")
        if region is not None and region not in places:
            raise RequestError(f"{where}.region: unknown {region!r}; accepted: {', '.join(places)}")
        out.append(Quota(_gpu(catalog, q["gpu"], f"{where}.gpu"), provider, region,
                         _int(q["max_gpus"], f"{where}.max_gpus", 0)))
    return tuple(out)


def _inventory(raw: Any, catalog: Catalog) -> tuple[Owned, ...]:
    out: dict[str, Owned] = {}
    for where, inv in _entries(raw, "fleet.inventory", INVENTORY_FIELDS, ("gpu", "servers")):
        gpu = _gpu(catalog, inv["gpu"], f"{where}.gpu")
        if gpu in out:
            raise RequestError(f"{where}.gpu: {gpu} is listed twice; give its servers in one entry")
        if not catalog.purchases_for(gpu):
            raise RequestError(f"{where}.gpu: {gpu} has no server record in the catalog, so its running cost "
                               "(power, facility, operations) cannot be priced")
        per = inv.get("gpus_per_server", catalog.gpu(gpu).gpus_per_node)
        out[gpu] = Owned(gpu, _int(inv["servers"], f"{where}.servers", 0),
                         _int(per, f"{where}.gpus_per_server", 1))
    return tuple(out.values())


def _request(data: dict[str, Any], where: str, own: set[str]) -> Request:
    """The Request model validates every field (one home for the limits); errors name the field."""
    try:
        return Request.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        if not err["loc"]:
            raise RequestError(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None
        name = str(err["loc"][0])
        prefix = f"{where}.{name}" if name in own else f"fleet.{name}"
        raise RequestError(f"{prefix}: {err['msg'].removeprefix('Value error, ')} (got {err['input']!r})") from None


def _workload(item: Any, i: int, fleet: dict[str, Any], catalog: Catalog, seen: set[str]) -> WorkloadSpec:
    where = f"workloads[{i}]"
    name = item.get("name") if isinstance(item, dict) else None
    if isinstance(name, str):
        where = f"workloads[{name}]"
    w = _mapping(item, where, WORKLOAD_FIELDS)
    if "name" not in w:
        raise RequestError(f"{where}.name: required (a DNS label: lower-case letters, digits, '-')")
    name = str(w.pop("name"))
    try:
        check_name(name, f"{where}.name")
    except RequestError as exc:
        raise RequestError(str(exc)) from None
    if name in seen:
        raise RequestError(f"{where}.name: duplicate workload name {name!r}")
    seen.add(name)
    if "task" not in w:
        raise RequestError(f"{where}.task: required")
    weight = w.pop("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1e6:
        raise RequestError(f"{where}.weight: must be a number > 0, got {weight!r}")
    if not any(k in w for k in ("rps", "tokens_per_day", "load_profile")):
        raise RequestError(f"{where}.rps: a fleet workload needs a load: rps, tokens_per_day or load_profile")
    if "load_profile" in w and "peak_rps" in w:
        raise RequestError(f"{where}.peak_rps: the load profile's busiest hour is the peak; give one of them")
    data = {k: v for k, v in fleet.items() if k in FLEET_REQUEST_FIELDS}
    data.update(w)
    request = _request(data, where, set(w))
    return WorkloadSpec(name, request, float(weight))


def parse_fleet(raw: Any, catalog: Catalog, where: str = "fleet file") -> FleetSpec:
    top = _mapping(raw if raw is not None else {}, where, TOP_FIELDS)
    fleet = _mapping(top.get("fleet") or {}, "fleet", FLEET_FIELDS)
    items = top.get("workloads")
    if not isinstance(items, list) or not items:
        raise RequestError("workloads: expected a non-empty list of workloads")
    if len(items) > MAX_WORKLOADS:
        raise RequestError(f"workloads: at most {MAX_WORKLOADS} workloads, got {len(items)}")
    objective = fleet.get("objective", "cost")
    if objective not in ("cost", "quality"):
        raise RequestError(f"fleet.objective: invalid value {objective!r}; accepted: cost, quality")
    if objective == "quality" and fleet.get("budget") is None:
        raise RequestError("fleet.objective: quality is maximised within a budget; give fleet.budget")
    seen: set[str] = set()
    workloads = tuple(_workload(item, i, fleet, catalog, seen) for i, item in enumerate(items))
    first = workloads[0].request
    return FleetSpec(workloads=workloads, objective=objective, budget=first.budget,
                     capex_budget=first.capex_budget, quotas=_quotas(fleet.get("quotas"), catalog),
                     inventory=_inventory(fleet.get("inventory"), catalog))


def load_fleet(path: Path, catalog: Catalog) -> FleetSpec:
    text = read_input(path, "FLEET.yaml", RequestError)
    return parse_fleet(parse_yaml(text, str(path), RequestError), catalog, str(path))
