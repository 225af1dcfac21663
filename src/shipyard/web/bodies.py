"""Request bodies: read whole under a size limit, or as a JSON object.

    data = await read_json_object(request)   # {} for an empty body; 400 for anything else

Over the limit the request gets 413 in the app's own error shape (Starlette's body-limit
middleware answers plain text when the declared length is too large, so the limit is kept here).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request

from shipyard.errors import InvalidInputError

__all__ = ["MAX_JSON_BODY", "read_body", "read_json_object"]

MAX_JSON_BODY = 64 * 1024 * 1024
_CONSTANTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


async def read_body(request: Request, limit: int = MAX_JSON_BODY) -> bytes:
    """The whole body; 413 as soon as it (or its declared length) passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> HTTPException:
    mib = limit // (1024 * 1024)
    return HTTPException(413, f"request body over {mib} MiB: send less per request")


async def read_json_object(request: Request, limit: int = MAX_JSON_BODY) -> dict[str, Any]:
    """The body's JSON object; bare ``NaN`` and ``Infinity`` (as Python's json writes them)
    are accepted. An empty body is ``{}``."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = _loads_with_constants(raw)
    if not isinstance(data, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return data


def _loads_with_constants(raw: bytes) -> Any:
    """JSON that spells NaN or Infinity bare; orjson refuses those."""
    try:
        return json.loads(raw, parse_constant=_CONSTANTS.__getitem__)
    except (ValueError, KeyError, RecursionError) as exc:
        raise InvalidInputError(f"the request body is not valid JSON: {exc}") from exc
