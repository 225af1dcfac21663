"""Prediction-log records as monitoring sees them: one flat row per predicted row.

A logged request (schema ``v`` 1, see ``shipyard.serve.predlog``) becomes one row per input row:

    request_id  row  ts  model_version  status  in.<feature>...  out.<output>...

``in.`` columns follow the reference profile's naming (``flatten_columns``): a column input keeps
its name, a lone matrix input becomes ``in.0``, ``in.1``, ...; numbers are float64 and booleans
the strings ``"True"``/``"False"`` (as the profile counts them). A rejected request is one row
with status ``rejected`` and no ``in.``/``out.`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa

from shipyard.models.profile import flatten_columns
from shipyard.serve.predlog import SCHEMA_VERSION

__all__ = [
    "INPUT_PREFIX",
    "KNOWN_VERSIONS",
    "OUTPUT_PREFIX",
    "ReadStats",
    "flat_rows",
    "normalize_column",
]

INPUT_PREFIX: Final = "in."
OUTPUT_PREFIX: Final = "out."
KNOWN_VERSIONS: Final = frozenset({0, SCHEMA_VERSION})  # 0: records from before ``v`` existed
BASE_COLUMNS: Final = ("request_id", "row", "ts", "model_version", "status")


@dataclass
class ReadStats:
    """What a read saw: records kept, rows they hold, and lines skipped (never fatal)."""

    records: int = 0
    rows: int = 0
    rejected: int = 0
    bad_lines: int = 0
    foreign_lines: int = 0
    files: int = 0

    @property
    def skipped(self) -> int:
        return self.bad_lines + self.foreign_lines

    def add(self, other: ReadStats) -> None:
        for name in ("records", "rows", "rejected", "bad_lines", "foreign_lines", "files"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict[str, int]:
        return {
            "records": self.records,
            "rows": self.rows,
            "rejected": self.rejected,
            "bad_lines": self.bad_lines,
            "foreign_lines": self.foreign_lines,
            "files": self.files,
        }


def is_record(obj: Any) -> bool:
    """Does a parsed JSON value look like a prediction-log record this reader knows?"""
    if not isinstance(obj, dict) or not isinstance(obj.get("request_id"), str):
        return False
    if obj.get("v", 0) not in KNOWN_VERSIONS or not isinstance(obj.get("ts"), int | float):
        return False
    if obj.get("status", "ok") == "rejected":
        return True
    return isinstance(obj.get("inputs"), dict) and isinstance(obj.get("outputs"), dict)


def flat_rows(obj: Mapping[str, Any]) -> dict[str, np.ndarray] | None:
    """The flat columns of one record, or None when its arrays disagree on the row count."""
    if obj.get("status", "ok") == "rejected":
        return {}
    try:
        columns = {
            **{INPUT_PREFIX + k: v for k, v in flatten_columns(obj["inputs"]).items()},
            **{OUTPUT_PREFIX + k: v for k, v in flatten_columns(obj["outputs"]).items()},
        }
    except (ValueError, TypeError):
        return None
    if len({len(v) for v in columns.values()}) != 1:
        return None
    return columns


def normalize_column(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Numbers become float64 and booleans ``"True"``/``"False"``; text stays text."""
    kind = array.type
    if pa.types.is_boolean(kind):
        values = np.asarray(array.to_numpy(zero_copy_only=False), dtype=object)
        return pa.array([None if v is None else str(bool(v)) for v in values], pa.string())
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return array.cast(pa.float64())
    if pa.types.is_null(kind):
        return array.cast(pa.float64())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array.cast(pa.string())
    return array.cast(pa.string())
