"""The strict YAML loader: libyaml's safe loader (when installed) that refuses duplicate keys.

Its own module so that `yaml` is imported only when a file is actually parsed (yaml_io.parse_yaml).
"""

from __future__ import annotations

from typing import Any

import yaml

# libyaml when present: several times faster than the pure-Python parser.
_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_STR_TAG = "tag:yaml.org,2002:str"


class StrictLoader(_BASE_LOADER):  # type: ignore[valid-type,misc]
    """Safe loader that rejects a key given twice in one mapping (PyYAML keeps the last, silently).

    Only mapping construction is Python code; parsing stays in libyaml, so the check is cheap
    enough for the embedded catalog too.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may be overridden
                continue
            # Plain string keys (nearly all) are compared as written; others as the values they build.
            key = (key_node.value if key_node.tag == _STR_TAG and isinstance(key_node, yaml.ScalarNode)
                   else self.construct_object(key_node, deep=True))
            try:
                first = seen.get(key)
            except TypeError:  # unhashable key: the base constructor reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}, first on line {first + 1}", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]
