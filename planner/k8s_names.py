"""Kubernetes name rules: the one place their regular expressions live.

Rules from k8s.io/apimachinery `validation` (IsDNS1035Label, IsQualifiedName, IsValidLabelValue,
IsDNS1123Subdomain) and the extended-resource rule (a domain outside kubernetes.io). The `*_error`
functions return a one-line problem or None (the catalog schema turns it into a validation error);
the `check_*` functions raise RequestError naming the flag or plan field (render).
"""

from __future__ import annotations

import re

from planner.errors import RequestError

_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_NAME_PART = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
MAX_NAME_PART = 63
MAX_SUBDOMAIN = 253
# LeaderWorkerSet pods are named <name>-<group>-<worker> and carry a controller-revision-hash
# label derived from the name, so resource names leave room below the 63-character label limit.
MAX_RESOURCE_NAME = 40

_NAME_RULE = f"1-{MAX_NAME_PART} characters of [A-Za-z0-9-_.], alphanumeric at both ends"


def _subdomain_error(prefix: str) -> str | None:
    if len(prefix) > MAX_SUBDOMAIN or not _DNS1123_SUBDOMAIN.fullmatch(prefix):
        return (f"domain {prefix!r} is not a DNS subdomain (lower-case letters, digits, '-' and '.', "
                f"at most {MAX_SUBDOMAIN} characters)")
    return None


def _name_ok(name: str) -> bool:
    return len(name) <= MAX_NAME_PART and bool(_NAME_PART.fullmatch(name))


def _qualified_error(value: str) -> str | None:
    """`<dns-subdomain>/<name>`; the caller decides what a value without '/' means."""
    prefix, _, name = value.partition("/")
    problem = _subdomain_error(prefix)
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
    """A non-empty label value (empty is legal in Kubernetes but selects nothing useful here)."""
    return None if _name_ok(value) else f"not a label value: must be {_NAME_RULE}"


def slug(text: str) -> str:
    """A DNS-1035 label from a catalog id: `qwen3.5-27b` -> `qwen3-5-27b`."""
    out = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", out)


def check_name(value: str, field: str) -> str:
    """A resource or namespace name: a DNS-1035 label (valid for Services too), at most 40 chars."""
    if len(value) > MAX_RESOURCE_NAME or not _DNS1035_LABEL.fullmatch(value):
        raise RequestError(
            f"{field}: {value!r} is not a DNS-1123 label of at most {MAX_RESOURCE_NAME} characters "
            "(lower-case letters, digits and '-', starting with a letter)"
        )
    return value


def check_label_value(value: str, field: str) -> str:
    """A label value; empty is legal here (a node label set with no value)."""
    problem = label_value_error(value) if value else None
    if problem:
        raise RequestError(f"{field}: {value!r} is {problem}")
    return value


def check_label_key(key: str, field: str) -> str:
    problem = label_key_error(key)
    if problem:
        raise RequestError(f"{field}: {key!r} is {problem}")
    return key


def check_subdomain(value: str, field: str) -> str:
    """A DNS-1123 subdomain (StorageClass names): dot-separated labels, at most 253 characters."""
    if _subdomain_error(value):
        raise RequestError(
            f"{field}: {value!r} is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', "
            f"starting and ending with a letter or digit, at most {MAX_SUBDOMAIN} characters)"
        )
    return value
