"""Shell words for launch.sh: everything single-quoted except the variables the script expands."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

# The only variables launch.sh documents and checks (`: "${NODE_RANK:?…}"`); any other `$` in an
# argument is literal text and stays quoted.
EXPANDED = ("NODE_RANK", "LEADER_ADDRESS")
_VAR = re.compile(r"\$(?:\{(" + "|".join(EXPANDED) + r")\}|(" + "|".join(EXPANDED) + r")(?![A-Za-z0-9_]))")
_DQ_SPECIAL = re.compile(r'([\\"$`])')


def shell_word(arg: str) -> str:
    """`arg` as one shell word; `$NODE_RANK` / `$LEADER_ADDRESS` inside it expand, nothing else does."""
    if not _VAR.search(arg):
        return shlex.quote(arg)
    parts: list[str] = []
    pos = 0
    for m in _VAR.finditer(arg):
        parts.append(_DQ_SPECIAL.sub(r"\\\1", arg[pos:m.start()]))
        parts.append("${" + (m.group(1) or m.group(2)) + "}")
        pos = m.end()
    parts.append(_DQ_SPECIAL.sub(r"\\\1", arg[pos:]))
    return '"' + "".join(parts) + '"'


def shell_join(args: Iterable[str]) -> str:
    return " ".join(shell_word(a) for a in args)
