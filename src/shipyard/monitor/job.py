"""``shipyard monitor run``: re-analyse every few minutes, export gauges, post alert changes.

One cycle: compact new log lines, analyse, store the windows, refresh the gauges, evaluate the
alerts on the newest window and queue each change in the outbox
(``$SHIPYARD_HOME/monitor-outbox/NAME/VERSION``), which a background ``AlertDispatcher`` delivers
to the webhook: a slow, hanging or failing webhook never holds a cycle, and an alert it did not
take is kept and retried. A failed cycle is logged and retried at the next tick; ``stop()``
(SIGTERM in the CLI) ends the loop after the current cycle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.errors import ShipyardError
from shipyard.monitor.alerts import AlertEvent, AlertPolicy, AlertState
from shipyard.monitor.dispatch import AlertDispatcher
from shipyard.monitor.exporter import MonitorGauges, MonitorServer
from shipyard.monitor.feedback import parse_feedback
from shipyard.monitor.monitor import Monitor, MonitorOptions
from shipyard.monitor.outbox import AlertOutbox
from shipyard.monitor.results import DriftReport
from shipyard.monitor.webhook import DEFAULT_DEADLINE_S, validate_webhook_url

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
    webhook_deadline_s: float = DEFAULT_DEADLINE_S
    outbox: Path | None = None
    """Where undelivered alerts wait; None: ``$SHIPYARD_HOME/monitor-outbox/NAME/VERSION``."""

    def __post_init__(self) -> None:
        if self.webhook is not None:
            validate_webhook_url(self.webhook)


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
        self.dispatcher: AlertDispatcher | None = None
        if config.webhook:
            version = monitor.version
            folder = config.outbox or (
                monitor.registry.home / "monitor-outbox" / version.name / str(version.version)
            )
            self.dispatcher = AlertDispatcher(
                AlertOutbox(folder), config.webhook, deadline_s=config.webhook_deadline_s
            )

    def _feedback(self, body: bytes) -> int:
        items = parse_feedback(body)
        with self._lock:
            return self.monitor.results.add_feedback(self.monitor.version.name, items)

    def cycle(self) -> tuple[DriftReport, list[AlertEvent]]:
        with self._lock:
            report = self.monitor.update(self.options)
        self.gauges.update(report)
        events = self.alerts.evaluate(report, self.config.policy)
        if self.dispatcher is not None:
            for event in events:
                self.dispatcher.outbox.put(event.payload())
            self.dispatcher.wake()  # also retries what an earlier cycle could not deliver
        return report, events

    def start(self) -> None:
        """Listen for /metrics and /feedback, and start delivering queued alerts."""
        self.server.start()
        if self.dispatcher is not None:
            self.dispatcher.start()

    def close(self) -> None:
        """Stop delivering (undelivered alerts stay queued) and listening."""
        if self.dispatcher is not None:
            self.dispatcher.stop()
        self.server.close()

    def run(self) -> None:
        """Serve, then cycle every ``every_seconds`` until ``stop()``."""
        self.start()
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
            self.close()

    def stop(self) -> None:
        self._stop.set()
