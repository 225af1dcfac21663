"""The one cache key of a step, the same for every executor (pure).

A key is the sha256 of a canonical JSON document holding the step's code digest, its environment
digest (an image id, or the locked requirements and Python), the content digest of every input,
the parameters and constants it reads, its declared env and its declared outputs. The step's name
is not in it: two identical steps share their results; nor are its resources: a timeout does not
change what a step computes.

    >>> cache_key(CacheInputs(code="ab..", environment="sha256:..", inputs={"data": "cd.."}))
    '1f3a...'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KEY_VERSION", "CacheInputs", "cache_key", "canonical_json"]

KEY_VERSION = 1
"""Bumped when the key's layout changes, so old entries simply stop matching."""


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, and only JSON types: a value's one spelling."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{value!r} cannot enter a cache key: pass JSON values (numbers, strings, lists, "
            "dicts) as parameters and constants, or a file"
        ) from exc


@dataclass(frozen=True, slots=True)
class CacheInputs:
    """Everything that decides what a step computes."""

    code: str
    environment: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    outputs: tuple[tuple[str, str], ...] = ()


def cache_key(parts: CacheInputs) -> str:
    """The step's cache key (64 hex digits)."""
    document = {
        "v": KEY_VERSION,
        "code": parts.code,
        "environment": parts.environment,
        "inputs": dict(parts.inputs),
        "values": dict(parts.values),
        "env": dict(parts.env),
        "outputs": [list(o) for o in parts.outputs],
    }
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()
