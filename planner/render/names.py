"""Kubernetes name rules, checked before anything is written."""

from __future__ import annotations

import re

from planner.errors import RequestError

_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_KEY_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# LeaderWorkerSet pods are named <name>-<group>-<worker> and carry a controller-revision-hash
# label derived from the name, so leave room below the 63-character label limit.
MAX_NAME = 40


def slug(text: str) -> str:
    """A DNS-1035 label from a catalog id: `qwen3.5-27b` -> `qwen3-5-27b`."""
    out = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", out)


def check_name(value: str, field: str) -> str:
    """A resource or namespace name: DNS-1035 label (valid for Services too), at most 40 chars."""
    if len(value) > MAX_NAME or not _DNS1035_LABEL.fullmatch(value):
        raise RequestError(
            f"{field}: {value!r} is not a DNS-1123 label of at most {MAX_NAME} characters "
            "(lower-case letters, digits and '-', starting with a letter)"
        )
    return value


def check_label_value(value: str, field: str) -> str:
    if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
        raise RequestError(f"{field}: {value!r} is not a valid label value (<= 63 of [A-Za-z0-9-_.])")
    return value


def check_label_key(key: str, field: str) -> str:
    prefix, _, name = key.rpartition("/")
    ok = bool(_LABEL_KEY_NAME.fullmatch(name)) and len(name) <= 63
    if prefix:
        ok = ok and len(prefix) <= 253 and bool(_DNS1123_SUBDOMAIN.fullmatch(prefix))
    if not ok:
        raise RequestError(f"{field}: {key!r} is not a valid label key ([prefix/]name)")
    return key


def check_subdomain(value: str, field: str) -> str:
    """A DNS-1123 subdomain (StorageClass names): dot-separated labels, at most 253 characters."""
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(value):
        raise RequestError(
            f"{field}: {value!r} is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters)"
        )
    return value
