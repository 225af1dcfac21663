"""JSON responses, serialised with orjson, and Shipyard's error body.

return JSONBody({"runs": [...]})
return error_json(404, "no run 'abc'", "RESOURCE_DOES_NOT_EXIST")  # {"error", "code"}
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["JSONBody", "error_json"]


class JSONBody(Response):
    """``application/json`` through orjson (NaN and infinities become ``null``)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_json(
    status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> JSONBody:
    """Shipyard's error body: ``{"error": message, "code": code}``."""
    return JSONBody({"error": message, "code": code}, status, headers)
