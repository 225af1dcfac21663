"""Probe timings and memory sizing from what the build measured (the smoke test's tags).

A model that took 4 s to load gets a start budget of a few times that, not Docker's blanket
120 s: a broken version is found (and rolled back) quickly, a slow one is not killed early.

    >>> start_budget_seconds(4.0)
    20
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from shipyard import contract
from shipyard.contract import HEALTH_PATH, READY_PATH, SERVE_ENV_PREFIX, VENV_DIR

__all__ = [
    "DEFAULT_LOAD_SECONDS",
    "healthcheck_test",
    "load_figures",
    "memory_request_bytes",
    "start_budget_seconds",
]

DEFAULT_LOAD_SECONDS = 10.0
"""Assumed when the version has no measured load time (built before the smoke test existed)."""
_LOAD_TAG = getattr(contract, "SMOKE_LOAD_SECONDS_TAG", "shipyard.smoke.load_seconds")
_RSS_TAG = getattr(contract, "SMOKE_PEAK_RSS_TAG", "shipyard.smoke.peak_rss_bytes")
_HEALTH_SCRIPT = f"""\
import json, os, signal, urllib.error, urllib.request
base = "http://127.0.0.1:" + os.environ.get("{SERVE_ENV_PREFIX}PORT", "8080")
try:
    urllib.request.urlopen(base + "{READY_PATH}", timeout=2)
except Exception:
    try:
        urllib.request.urlopen(base + "{HEALTH_PATH}", timeout=2)
    except urllib.error.HTTPError as exc:
        if json.loads(exc.read() or b"{{}}").get("status") == "failed":
            os.kill(1, signal.SIGTERM)  # the model cannot load: end now, not after the start period
    except Exception:
        pass
    raise SystemExit(1)
"""


def load_figures(tags: Mapping[str, str]) -> tuple[float | None, int | None]:
    """(load seconds, peak RSS bytes) from a model version's tags; ``None`` where absent."""
    try:
        seconds = float(tags[_LOAD_TAG]) if _LOAD_TAG in tags else None
    except ValueError:
        seconds = None
    try:
        rss = int(float(tags[_RSS_TAG])) if _RSS_TAG in tags else None
    except ValueError:
        rss = None
    return seconds, rss


def start_budget_seconds(load_seconds: float | None) -> int:
    """How long a replica may take to become ready: 3x the measured load plus 8 s, 15-600 s."""
    seconds = DEFAULT_LOAD_SECONDS if load_seconds is None else load_seconds
    return max(15, min(600, math.ceil(3 * seconds + 8)))


def memory_request_bytes(peak_rss_bytes: int | None) -> int | None:
    """A memory request from the measured peak RSS: 1.5x, rounded up to 16 MiB; else ``None``."""
    if peak_rss_bytes is None:
        return None
    step = 16 * 2**20
    return max(128 * 2**20, math.ceil(peak_rss_bytes * 1.5 / step) * step)


def healthcheck_test() -> list[str]:
    """A container healthcheck in exec form: the image's own Python asks ``/readyz``; when
    ``/healthz`` reports a failed model load it stops the server, so an orchestrator sees a
    failed task at once instead of waiting out the start period."""
    return [f"{VENV_DIR}/bin/python", "-c", _HEALTH_SCRIPT]
