"""Deliver queued alerts in the background, with retries and backoff, so no webhook ever
stalls a monitoring cycle.

One thread per job. It sends the outbox's alerts oldest first; the first that fails stops the
round (so alerts arrive in order) and is retried after a backoff (``base_delay_s`` doubling to
``max_delay_s``) or as soon as the next cycle ``wake``s it, whichever comes first. Each attempt is
bounded by the webhook's overall deadline; ``stop`` waits for at most one attempt.

    >>> dispatcher = AlertDispatcher(outbox, "https://hooks.example/x", deadline_s=10)
    >>> dispatcher.start()
    >>> outbox.put(event.payload()); dispatcher.wake()
"""

from __future__ import annotations

import logging
import threading
import time

from shipyard.monitor.outbox import AlertOutbox
from shipyard.monitor.webhook import DEFAULT_DEADLINE_S, deliver

__all__ = ["AlertDispatcher"]

logger = logging.getLogger("shipyard.monitor")


class AlertDispatcher:
    """The background sender of one outbox to one webhook."""

    def __init__(
        self,
        outbox: AlertOutbox,
        url: str,
        *,
        deadline_s: float = DEFAULT_DEADLINE_S,
        base_delay_s: float = 1.0,
        max_delay_s: float = 300.0,
    ) -> None:
        self.outbox = outbox
        self.url = url
        self.deadline_s = deadline_s
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.failures = 0
        self.delivered = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="shipyard-alerts", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Try now: a new alert is queued, or a cycle passed."""
        self._wake.set()

    def stop(self) -> None:
        """End the thread after the attempt under way (at most one deadline)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.deadline_s + 5)

    def drain(self) -> bool:
        """Deliver pending alerts in order; False at the first failure (it stays queued)."""
        for path in self.outbox.pending():
            if self._stop.is_set():
                return False
            payload = self.outbox.read(path)
            if payload is None:
                logger.error("unreadable queued alert %s set aside as .bad", path)
                continue
            result = deliver(self.url, payload, deadline_s=self.deadline_s)
            if not result.ok:
                self.failures += 1
                self.last_error = result.detail
                logger.warning(
                    "alert webhook %s failed (attempt %d, kept for retry): %s",
                    self.url,
                    self.failures,
                    result.detail,
                )
                return False
            self.outbox.remove(path)
            self.failures = 0
            self.delivered += 1
        return True

    def wait_until_empty(self, timeout_s: float) -> bool:
        """True once the outbox is empty (within ``timeout_s``); for shutdown and tests."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self.outbox.pending():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.1))
        return True

    def _delay(self) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * 2 ** max(self.failures - 1, 0)))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            done = self.drain()
            with self._idle:
                self._idle.notify_all()
            self._wake.wait(None if done else self._delay())
