"""Post one alert to a webhook, within one overall deadline, and say whether it was delivered.

``validate_webhook_url`` runs when ``shipyard monitor run`` starts: only ``http://`` and
``https://`` URLs with a host are taken. ``deliver`` never raises: whatever the webhook does (a
refused connection, a non-HTTP status line, a 64 KiB header line, a byte every 5 s, a hang), the
answer is a ``Delivery`` saying why it failed, after at most ``deadline_s`` seconds in all
(``asyncio.timeout`` around the whole exchange, not httpx's per-read timeouts). Redirects are not
followed: a 3xx is a failure, since following one would drop the body.

    >>> validate_webhook_url("https://hooks.slack.com/services/T0/B0/X")
    >>> deliver("http://127.0.0.1:9000/hook", {"text": "drift"}, deadline_s=10).ok
    True
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import httpx

from shipyard.errors import InvalidInputError

__all__ = ["DEFAULT_DEADLINE_S", "Delivery", "deliver", "validate_webhook_url"]

DEFAULT_DEADLINE_S = 10.0
"""The most one delivery may take, connection to answer."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one attempt: ``ok`` only for a 2xx answer."""

    ok: bool
    detail: str
    status: int | None = None


def validate_webhook_url(url: str) -> str:
    """``url`` when it is an ``http(s)://HOST/...`` URL, else ``InvalidInputError``."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidInputError(
            f"--webhook {url!r} is not a URL ({exc}): give http(s)://HOST/..."
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInputError(
            f"--webhook {url!r} is not an http:// or https:// URL with a host: give the "
            "webhook's address, e.g. https://hooks.slack.com/services/..."
        )
    return url


def deliver(url: str, payload: dict[str, object], *, deadline_s: float) -> Delivery:
    """POST ``payload`` as JSON to ``url``; a ``Delivery`` within ``deadline_s``, never raises."""
    body = json.dumps(payload).encode()
    try:
        return asyncio.run(_post(url, body, deadline_s))
    except TimeoutError:
        return Delivery(False, f"no answer within the {deadline_s:g}s deadline")
    except httpx.HTTPError as exc:  # connection, protocol (bad status line, huge header), ...
        return Delivery(False, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a webhook must never crash the job: the alert stays queued
        return Delivery(False, f"{type(exc).__name__}: {exc}")


async def _post(url: str, body: bytes, deadline_s: float) -> Delivery:
    async with (
        asyncio.timeout(deadline_s),
        httpx.AsyncClient(follow_redirects=False, timeout=deadline_s) as client,
    ):
        headers = {"Content-Type": "application/json"}
        async with client.stream("POST", url, content=body, headers=headers) as response:
            status = response.status_code  # the body is never read: the status says it all
    if 200 <= status < 300:
        return Delivery(True, f"HTTP {status}", status)
    if 300 <= status < 400:
        where = response.headers.get("location", "?")
        detail = f"HTTP {status} redirect to {where[:200]} not followed: give the final URL"
        return Delivery(False, detail, status)
    return Delivery(False, f"HTTP {status}", status)
