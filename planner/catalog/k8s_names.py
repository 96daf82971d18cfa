"""Kubernetes name rules for the catalog's GPU fields, so a bad name fails at load, not at render.

Each check returns a one-line problem or None; the schema turns it into a validation error.
Rules from k8s.io/apimachinery `validation` (IsQualifiedName, IsValidLabelValue,
IsDNS1123Subdomain) and the extended-resource rule (a domain outside kubernetes.io).
"""

from __future__ import annotations

import re

_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_NAME_PART = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
MAX_NAME = 63
MAX_PREFIX = 253


_NAME_RULE = f"1-{MAX_NAME} characters of [A-Za-z0-9-_.], alphanumeric at both ends"


def _prefix_error(prefix: str) -> str | None:
    if len(prefix) > MAX_PREFIX or not _DNS1123_SUBDOMAIN.fullmatch(prefix):
        return (f"domain {prefix!r} is not a DNS subdomain (lower-case letters, digits, '-' and '.', "
                f"at most {MAX_PREFIX} characters)")
    return None


def _name_ok(name: str) -> bool:
    return len(name) <= MAX_NAME and bool(_NAME_PART.fullmatch(name))


def _qualified_error(value: str) -> str | None:
    """`<dns-subdomain>/<name>` or, when `value` has no '/', None for the caller to decide."""
    prefix, _, name = value.partition("/")
    problem = _prefix_error(prefix)
    if problem is None and not _name_ok(name):
        problem = f"name {name!r} is not {_NAME_RULE}"
    return problem


def extended_resource_error(value: str) -> str | None:
    """`<dns-subdomain>/<name>`, e.g. nvidia.com/gpu or amd.com/gpu."""
    problem = _qualified_error(value) if "/" in value else "no '/'"
    if problem:
        return f"not an extended resource name <domain>/<name> like nvidia.com/gpu: {problem}"
    prefix = value.partition("/")[0]
    if prefix == "kubernetes.io" or prefix.endswith(".kubernetes.io"):
        return "extended resources must use a domain outside kubernetes.io"
    return None


def label_key_error(key: str) -> str | None:
    """`[<dns-subdomain>/]<name>`, e.g. nvidia.com/gpu.product."""
    problem = _qualified_error(key) if "/" in key else (None if _name_ok(key) else f"must be {_NAME_RULE}")
    return f"not a label key [<domain>/]<name>: {problem}" if problem else None


def label_value_error(value: str) -> str | None:
    """A non-empty label value (empty is legal in Kubernetes but cannot pick out a GPU node)."""
    return None if _name_ok(value) else f"not a label value: must be {_NAME_RULE}"
