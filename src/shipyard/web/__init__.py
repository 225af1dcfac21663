"""The one HTTP core of everything Shipyard serves beside the prediction hot path.

The tracking server, the monitor job's exporter and the web UI are Starlette applications run by
uvicorn; this package holds what they share:

    logs.py        the logging config (uvicorn's, plus ``shipyard`` and the access log)
    bodies.py      request bodies read with a size limit; JSON objects (NaN/Infinity tolerated)
    responses.py   ``JSONBody`` (orjson) and Shipyard's error body
    errors.py      exception handlers: ShipyardError kinds -> status and code, 404/405, 500
    middleware.py  ``AccessLog`` (one line per request) and ``ServerTiming``
    origins.py     Host allow-list, same-origin and simple-request checks (stdlib only)
    guards.py      ``BrowserGuard``: those checks as middleware (421, 403, 415); ``NulFreeUrls``
    running.py     ``serve`` (foreground, signals) and ``BackgroundServer`` (a thread)

``shipyard serve`` keeps its own tuned core (``serve/http.py``, ``serve/protocol.py``); it may use
``logs`` and ``origins`` (which import no Starlette), never the rest. This ``__init__`` imports
nothing, so that importing ``shipyard.web.logs`` does not load Starlette.
"""
