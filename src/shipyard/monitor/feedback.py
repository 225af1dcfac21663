"""Ground-truth labels from CSV or JSON lines: ``request_id``, optional ``row``, and ``label``.

    request_id,label            {"request_id": "req-1", "label": 1}
    req-1,1                     {"request_id": "req-2", "row": 3, "label": "cat"}

The label column may also be called ``target``, ``y`` or ``ground_truth``. A line without a
request id or a label is an error naming its line number: nothing of the file is stored then.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from shipyard.errors import InvalidInputError
from shipyard.monitor.store import Feedback

__all__ = ["parse_feedback"]

_LABELS = ("label", "target", "y", "ground_truth")


def parse_feedback(data: bytes) -> list[Feedback]:
    """Labels from a CSV (with a header) or JSON-lines document."""
    text = data.decode("utf-8-sig", errors="replace")
    first = text.lstrip()[:1]
    if first in ("{", "["):
        return _json(text)
    return _csv(text)


def _json(text: str) -> list[Feedback]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            items = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise InvalidInputError(f"feedback is not valid JSON: {exc}") from None
        return [_item(obj, i + 1) for i, obj in enumerate(items)]
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise InvalidInputError(f"feedback line {number} is not JSON: {line[:80]!r}") from None
        out.append(_item(obj, number))
    return out


def _csv(text: str) -> list[Feedback]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "request_id" not in reader.fieldnames:
        raise InvalidInputError(
            "feedback CSV needs a header with request_id and label (or target), e.g. "
            "'request_id,label'"
        )
    return [_item(dict(row), number + 2) for number, row in enumerate(reader)]


def _item(obj: Any, number: int) -> Feedback:
    if not isinstance(obj, dict):
        raise InvalidInputError(f"feedback item {number} is not an object")
    request_id = obj.get("request_id")
    label_key = next((k for k in _LABELS if k in obj and obj[k] not in (None, "")), None)
    if not isinstance(request_id, str) or not request_id or label_key is None:
        raise InvalidInputError(
            f"feedback item {number} needs a request_id and a label: got {str(obj)[:80]}"
        )
    try:
        row = int(obj.get("row") or 0)
    except ValueError:
        raise InvalidInputError(f"feedback item {number}: row must be a whole number") from None
    return Feedback(request_id, row, _number(obj[label_key]))


def _number(value: Any) -> Any:
    """CSV labels arrive as text: numbers become numbers."""
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                continue
    return value
