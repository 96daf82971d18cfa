"""Print every flag of an engine's real argument parser as JSON: takes a value or not, choices, default.

Runs in the engine venv (tests/engines/setup.sh); bench/engine_contract.py calls it and checks the
result in as planner/render/contracts/<engine>-<version>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from device_shim import Device, fake_torch_device, stub_modules

H100 = Device("nvidia", "NVIDIA H100 80GB HBM3", (9, 0), 80, 8)


def _parser(engine: str) -> argparse.ArgumentParser:
    if engine == "vllm":
        import vllm_check

        vllm_check._fake_platform(H100)
        from vllm.entrypoints.common.cli_args import make_arg_parser
        from vllm.utils.argparse_utils import FlexibleArgumentParser

        return make_arg_parser(FlexibleArgumentParser(prog="vllm serve"))
    import sglang_check

    stub_modules(roots=sglang_check.KERNEL_PACKAGES)
    fake_torch_device(H100)
    from sglang.srt.server_args import ServerArgs

    p = argparse.ArgumentParser(prog="sglang serve")
    ServerArgs.add_cli_args(p)
    return p


def _plain(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return repr(v)


def main() -> None:
    engine = sys.argv[1]
    flags: dict[str, Any] = {}
    for action in _parser(engine)._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        entry = {
            "takes_value": action.nargs != 0,
            "choices": None if action.choices is None else sorted(str(c) for c in action.choices),
            "default": _plain(action.default),
            "dest": action.dest,
        }
        for opt in action.option_strings or [action.dest]:
            flags[opt] = entry
    print(json.dumps(dict(sorted(flags.items())), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
