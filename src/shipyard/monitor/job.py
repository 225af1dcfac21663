"""``shipyard monitor run``: re-analyse every few minutes, export gauges, post alert changes.

One cycle: compact new log lines, analyse, store the windows, refresh the gauges, evaluate the
alerts on the newest window and post each change to the webhook. A failed cycle is logged and
retried at the next tick; ``stop()`` (SIGTERM in the CLI) ends the loop after the current cycle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from shipyard.errors import ShipyardError
from shipyard.monitor.alerts import AlertEvent, AlertPolicy, AlertState, post_webhook
from shipyard.monitor.exporter import MonitorGauges, MonitorServer
from shipyard.monitor.feedback import parse_feedback
from shipyard.monitor.monitor import Monitor, MonitorOptions
from shipyard.monitor.results import DriftReport

__all__ = ["JobConfig", "MonitorJob"]

logger = logging.getLogger("shipyard.monitor")


@dataclass(frozen=True, slots=True)
class JobConfig:
    """How often to run, where to listen and whom to tell."""

    every_seconds: float = 300.0
    host: str = "127.0.0.1"
    port: int = 9108
    webhook: str | None = None
    policy: AlertPolicy = field(default_factory=AlertPolicy)


class MonitorJob:
    """The long-running monitoring loop of one model version."""

    def __init__(
        self,
        monitor: Monitor,
        options: MonitorOptions,
        config: JobConfig,
        on_cycle: Callable[[DriftReport, list[AlertEvent]], None] | None = None,
    ) -> None:
        self.monitor = monitor
        self.options = options
        self.config = config
        self.gauges = MonitorGauges()
        self.alerts = AlertState()
        self.server = MonitorServer(self.gauges, self._feedback, config.host, config.port)
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one database writer per job: cycles and feedback
        self._on_cycle = on_cycle

    def _feedback(self, body: bytes) -> int:
        items = parse_feedback(body)
        with self._lock:
            return self.monitor.results.add_feedback(self.monitor.version.name, items)

    def cycle(self) -> tuple[DriftReport, list[AlertEvent]]:
        with self._lock:
            report = self.monitor.update(self.options)
        self.gauges.update(report)
        events = self.alerts.evaluate(report, self.config.policy)
        if self.config.webhook:
            for event in events:
                post_webhook(self.config.webhook, event)
        return report, events

    def run(self) -> None:
        """Serve, then cycle every ``every_seconds`` until ``stop()``."""
        self.server.start()
        try:
            while not self._stop.is_set():
                try:
                    report, events = self.cycle()
                except ShipyardError as exc:
                    logger.error("monitoring cycle failed (retrying next tick): %s", exc)
                else:
                    if self._on_cycle is not None:
                        self._on_cycle(report, events)
                self._stop.wait(self.config.every_seconds)
        finally:
            self.server.close()

    def stop(self) -> None:
        self._stop.set()
