"""Stand-in GPUs, so an engine's own argument parsing and configuration checks run on a CPU-only machine.

Runs inside the engine venv (tests/engines/setup.sh), never inside qwen-plan's. Only what the engines
ask the driver or the compiled kernels is faked: the device count, name, compute capability or gfx
architecture and memory, and the kernels' import-time registrations. Every argument, default and
validation rule exercised is the engine's own Python code from the pinned wheel.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from dataclasses import dataclass
from typing import Any
from unittest import mock


@dataclass(frozen=True)
class Device:
    vendor: str  # "nvidia" | "amd"
    name: str  # the driver's marketing name, e.g. "NVIDIA H100 80GB HBM3"
    capability: tuple[int, int]  # CUDA compute capability; for AMD the gfx major/minor (9, 4) = gfx942
    memory_gib: float
    count: int  # GPUs visible on one node
    gfx: str = ""  # AMD only: gcnArchName, e.g. "gfx942"

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Device:
        return cls(d["vendor"], d["name"], (int(d["capability"][0]), int(d["capability"][1])),
                   float(d["memory_gib"]), int(d["count"]), d.get("gfx", ""))

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gib * 2**30)


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a permissive stand-in for compiled-kernel modules that cannot load without a GPU."""

    def __init__(self, exact: tuple[str, ...], roots: tuple[str, ...]) -> None:
        self.exact = exact
        self.roots = roots

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name in self.exact or name.split(".")[0] in self.roots:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        m = mock.MagicMock(name=spec.name)
        m.__path__ = []
        m.__spec__ = spec
        return m  # type: ignore[no-any-return]

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def stub_modules(exact: tuple[str, ...] = (), roots: tuple[str, ...] = ()) -> None:
    sys.meta_path.insert(0, _StubFinder(exact, roots))


def fake_torch_device(dev: Device) -> None:
    import torch

    props = types.SimpleNamespace(
        name=dev.name, major=dev.capability[0], minor=dev.capability[1], total_memory=dev.memory_bytes,
        multi_processor_count=132, gcnArchName=dev.gfx, uuid="GPU-0", L2_cache_size=50 * 2**20,
    )
    torch.cuda.is_available = lambda: True
    torch.cuda.device_count = lambda: dev.count
    torch.cuda.get_device_capability = lambda d=None: dev.capability
    torch.cuda.get_device_name = lambda d=None: dev.name
    torch.cuda.get_device_properties = lambda d=None: props
    torch.cuda.mem_get_info = lambda d=None: (dev.memory_bytes, dev.memory_bytes)
    torch.cuda.current_device = lambda: 0
    if dev.vendor == "amd":
        torch.version.hip = "7.2.0"
        torch.version.cuda = None
    else:
        torch.version.cuda = torch.version.cuda or "13.0"
        torch.version.hip = None

    # Compiled ops are absent: look-ups of their namespaces return stand-ins, and registering
    # meta implementations for them is skipped.
    original = torch._ops._OpNamespace.__getattr__
    compiled = {"_C", "_moe_C", "_C_cache_ops", "_C_custom_ar", "_rocm_C", "_qutlass_C", "_C_stable_libtorch",
                "sgl_kernel"}

    def getattr_(self: Any, name: str) -> Any:
        try:
            return original(self, name)
        except AttributeError:
            if self.name in compiled:
                return mock.MagicMock(name=f"{self.name}.{name}")
            raise

    torch._ops._OpNamespace.__getattr__ = getattr_

    def register_fake(op: Any, fn: Any = None, *a: Any, **k: Any) -> Any:
        return fn if fn is not None else (lambda f: f)

    torch.library.register_fake = register_fake
    if hasattr(torch.library, "impl_abstract"):
        torch.library.impl_abstract = register_fake
    _fake_triton_driver(dev)


def _fake_triton_driver(dev: Device) -> None:
    """Triton asks its driver for the current GPU target when kernels are declared at import."""
    try:
        from triton.backends.compiler import GPUTarget
        from triton.runtime import driver
    except ImportError:  # no Triton in this venv: the engines use their placeholders
        return
    if dev.vendor == "amd":
        target = GPUTarget("hip", dev.gfx, 64)
    else:
        target = GPUTarget("cuda", dev.capability[0] * 10 + dev.capability[1], 32)
    fake = mock.MagicMock(name="triton-driver")
    fake.get_current_target.return_value = target
    fake.get_current_device.return_value = 0
    driver.set_active(fake)
