"""Request bodies: read whole under a size limit, or as a JSON object.

    raw = await read_body(request, limit)     # 413 from Content-Length, or as a chunked body grows
    async for chunk in stream_body(request, limit): ...   # the same limits, for uploads
    data = parse_json_object(raw)            # sync: call it in a worker thread for big bodies
    data = await read_json_object(request)   # both; over OFFLOAD_BYTES the parse runs in a thread

Over the limit the request gets 413 in the app's own error shape (Starlette's body-limit
middleware answers plain text when the declared length is too large, so the limit is kept here).
The JSON is parsed by orjson, which refuses lone surrogates, nesting past 1024 levels and numbers
past a double; bare ``NaN`` and ``Infinity`` (as Python's json writes them) are read by the
stdlib instead, and what it returns must then be what orjson could write back (no surrogates,
64-bit integers, nesting under 255), so both paths refuse the same hostile input with a 400.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request

from shipyard.errors import InvalidInputError

__all__ = [
    "MAX_JSON_BODY",
    "OFFLOAD_BYTES",
    "parse_json_object",
    "read_body",
    "read_json_object",
    "stream_body",
]

MAX_JSON_BODY = 1024 * 1024
OFFLOAD_BYTES = 256 * 1024
"""Bodies at least this big are parsed in a worker thread, off the event loop."""
_BARE_CONSTANT = re.compile(rb"NaN|Infinity")
_CONSTANTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


async def read_body(request: Request, limit: int = MAX_JSON_BODY) -> bytes:
    """The whole body; 413 as soon as it (or its declared length) passes ``limit`` bytes."""
    return b"".join([chunk async for chunk in stream_body(request, limit)])


async def stream_body(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; 413 before the first when the declared length passes
    ``limit``, and as soon as a chunked body does."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        yield chunk


def _too_large(limit: int) -> HTTPException:
    if limit >= 1024**3 and limit % 1024**3 == 0:
        shown = f"{limit // 1024**3} GiB"
    else:
        shown = f"{limit // 1024**2} MiB"
    return HTTPException(413, f"request body over {shown}: send less per request")


async def read_json_object(request: Request, limit: int = MAX_JSON_BODY) -> dict[str, Any]:
    """The body's JSON object (``{}`` for an empty body), parsed off the event loop when big."""
    raw = await read_body(request, limit)
    if len(raw) >= OFFLOAD_BYTES:
        return await anyio.to_thread.run_sync(parse_json_object, raw)
    return parse_json_object(raw)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """``raw``'s JSON object; ``InvalidInputError`` for anything else. An empty body is ``{}``."""
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if _BARE_CONSTANT.search(raw) is None:
            raise InvalidInputError(f"the request body is not valid JSON: {exc}") from None
        data = _loads_with_constants(raw)
    if not isinstance(data, dict):
        raise InvalidInputError("the request body must be a JSON object")
    if b"\\u0000" in raw and _holds_nul(data):  # databases refuse NUL in text
        raise InvalidInputError("the request body holds a NUL character (\\u0000) in a string")
    return data


def parse_json_text(text: str, what: str) -> Any:
    """The JSON document ``text`` holds (a field that carries JSON as a string, as MLflow's
    dataset tags and records do), held to the body's rules: no NUL, no lone surrogates, no
    ``NaN`` or ``Infinity``; ``InvalidInputError`` naming ``what`` otherwise."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{what} is not valid JSON (NaN and Infinity are not): {exc}"
        ) from None
    if "\\u0000" in text and _holds_nul(data):
        raise InvalidInputError(f"{what} holds a NUL character (\\u0000) in a string")
    return data


def _holds_nul(data: Any) -> bool:
    """True when a string (or key) in ``data`` holds NUL; a loop, as nesting may be deep."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _loads_with_constants(raw: bytes) -> Any:
    """JSON that spells NaN or Infinity bare (orjson refuses those), held to orjson's limits."""
    try:
        data = json.loads(raw, parse_constant=_CONSTANTS.__getitem__)
        orjson.dumps(data)  # surrogates, integers past 64 bits and deep nesting raise here
    except (ValueError, KeyError, RecursionError, orjson.JSONEncodeError) as exc:
        raise InvalidInputError(f"the request body is not valid JSON: {exc}") from None
    return data
