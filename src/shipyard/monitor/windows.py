"""Windows of a log: fixed spans of time (``1h``) or fixed numbers of rows (``5000rows``).

>>> WindowSpec.parse("30m")
WindowSpec(kind='time', size=1800.0)
>>> WindowSpec.parse("5000rows").size
5000.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from shipyard.errors import InvalidInputError

__all__ = ["Window", "WindowSpec", "parse_since"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PATTERN = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d|w|rows?)?$")


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """How rows are grouped: by ``ts`` into spans of ``size`` seconds, or by ``seq`` count."""

    kind: Literal["time", "count"]
    size: float

    @classmethod
    def parse(cls, text: str) -> WindowSpec:
        match = _PATTERN.match(text.strip().lower())
        if not match or float(match.group(1)) <= 0:
            raise InvalidInputError(
                f"window {text!r} is invalid: use a duration (30s, 5m, 1h, 1d) or a row count "
                "(5000rows)"
            )
        number, unit = float(match.group(1)), match.group(2) or "rows"
        if unit.startswith("row"):
            return cls("count", float(int(number)))
        return cls("time", number * _UNITS[unit])

    @property
    def label(self) -> str:
        return f"{int(self.size)}rows" if self.kind == "count" else f"{int(self.size)}s"

    def keys(self, ts: np.ndarray, seq: np.ndarray) -> np.ndarray:
        """The window number of every row (``ts``: seconds; ``seq``: the row's number)."""
        if self.kind == "count":
            return (seq // int(self.size)).astype(np.int64)
        return np.floor(ts / self.size).astype(np.int64)

    def window(self, key: int) -> Window:
        return Window(self, int(key))


@dataclass(frozen=True, slots=True)
class Window:
    """One window: its number; for time windows also its start and end (UTC seconds)."""

    spec: WindowSpec
    key: int

    @property
    def start(self) -> float:
        return self.key * self.spec.size

    @property
    def end(self) -> float:
        return (self.key + 1) * self.spec.size


def parse_since(text: str | None, now: float) -> float | None:
    """``--since``: an ISO time, a duration ago (``2h``) or None."""
    if text is None:
        return None
    match = _PATTERN.match(text.strip().lower())
    if match and match.group(2) in _UNITS:
        return now - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"--since {text!r} is invalid: use an ISO time (2026-12-01T10:00) or a duration (2h)"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
