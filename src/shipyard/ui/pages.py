"""The UI's routes: the one page at ``/`` and its static files under ``/ui/static/``.

    routes = ui_routes()          # Route("/") + Mount("/ui/static")

The page routes on the URL fragment (``#/experiments/1/runs/<id>``, as the mlflow client prints),
so one document serves every view. It is sent with a Content-Security-Policy that allows only
this origin's scripts, styles and images (and ``blob:`` images for artifact previews), and with
``Cache-Control: no-cache`` so that an upgraded server's page is not stale.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["STATIC", "STATIC_PREFIX", "ui_routes"]

STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/ui/static"
PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-cache",
}


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


def ui_routes() -> list[BaseRoute]:
    """The routes of the UI, to add to the tracking server's app."""
    return [
        Route("/", _index, methods=["GET"]),
        Mount(STATIC_PREFIX, app=StaticFiles(directory=STATIC), name="ui-static"),
    ]
