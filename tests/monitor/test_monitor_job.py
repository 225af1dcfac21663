"""The `monitor run` job: gauges on /metrics, POST /feedback, webhook alert and clearing."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from shipyard.config import Settings
from shipyard.monitor.analyze import AnalysisOptions
from shipyard.monitor.job import JobConfig, MonitorJob
from shipyard.monitor.monitor import Monitor, MonitorOptions
from shipyard.monitor.windows import WindowSpec
from tests.monitor.conftest import PHASE_ROWS, ServedLog
from tests.monitor.webhooks import ScriptedWebhook

pytestmark = pytest.mark.slow


class _Webhook:
    """A Slack-style webhook receiver on a loopback port; keeps every JSON body it gets."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@pytest.fixture
def webhook() -> Iterator[_Webhook]:
    hook = _Webhook()
    hook.thread.start()
    yield hook
    hook.httpd.shutdown()
    hook.httpd.server_close()


def test_webhook_gets_the_alert_and_its_clearing_and_gauges_follow(
    served_classifier: ServedLog, webhook: _Webhook, tmp_path: Path
) -> None:
    lines = served_classifier.log.read_bytes().splitlines(keepends=True)
    records = [line for line in lines if b'"status":"ok"' in line]
    half = len(records) // 2  # the stationary phase, then the shifted one
    live = tmp_path / "live.jsonl"
    live.write_bytes(b"".join(records))
    # a fresh home so this job's store and stored windows are its own
    home = tmp_path / "home"
    shutil.copytree(
        served_classifier.env["SHIPYARD_HOME"], home, ignore=shutil.ignore_patterns("monitor")
    )
    settings = Settings.from_env({"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "tester"})
    options = MonitorOptions(
        AnalysisOptions(WindowSpec.parse(f"{PHASE_ROWS}rows")), logs=str(live), final=False
    )
    config = JobConfig(every_seconds=3600, port=0, webhook=webhook.url)
    with Monitor.open(settings, "clf:1") as monitor:
        job = MonitorJob(monitor, options, config)
        job.start()
        try:
            _, events = job.cycle()  # newest window: the shifted phase
            assert [(e.name, e.status) for e in events] == [("dataset_drift", "firing")]
            with httpx.Client(base_url=f"http://127.0.0.1:{job.server.port}") as http:
                metrics = http.get("/metrics").text
                assert 'shipyard_monitor_dataset_drift{model="clf",version="1"} 1.0' in metrics
                assert (
                    'shipyard_monitor_feature_drift{feature="x0",model="clf",version="1"} 1.0'
                    in metrics
                )
                body = "request_id,label\nclf-stationary-0,1\n"
                assert http.post("/feedback", content=body).json() == {"stored": 1}
                assert http.post("/feedback", content="nonsense").status_code == 400

            with live.open("ab") as stream:  # the stationary phase again: the drift clears
                stream.write(b"".join(records[:half]))
            _, events = job.cycle()
            assert [(e.name, e.status) for e in events] == [("dataset_drift", "resolved")]
            with httpx.Client(base_url=f"http://127.0.0.1:{job.server.port}") as http:
                assert (
                    'shipyard_monitor_dataset_drift{model="clf",version="1"} 0.0'
                    in http.get("/metrics").text
                )
            assert job.dispatcher is not None and job.dispatcher.wait_until_empty(10)
        finally:
            job.close()
    statuses = [m["shipyard"]["status"] for m in webhook.received]  # type: ignore[index]
    assert statuses == ["firing", "resolved"]
    assert all(isinstance(m["text"], str) and "clf:1" in m["text"] for m in webhook.received)
    assert "x0" in str(webhook.received[0]["text"])


def test_a_trickling_then_redirecting_webhook_neither_stalls_a_cycle_nor_loses_the_alert(
    served_classifier: ServedLog, tmp_path: Path
) -> None:
    lines = served_classifier.log.read_bytes().splitlines(keepends=True)
    live = tmp_path / "live.jsonl"
    live.write_bytes(b"".join(line for line in lines if b'"status":"ok"' in line))
    home = tmp_path / "home"
    shutil.copytree(
        served_classifier.env["SHIPYARD_HOME"], home, ignore=shutil.ignore_patterns("monitor")
    )
    settings = Settings.from_env({"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "tester"})
    options = MonitorOptions(
        AnalysisOptions(WindowSpec.parse(f"{PHASE_ROWS}rows")), logs=str(live), final=False
    )
    with ScriptedWebhook(["trickle", "redirect"], trickle_s=1.0) as hook:
        config = JobConfig(every_seconds=3600, port=0, webhook=hook.url, webhook_deadline_s=2)
        with Monitor.open(settings, "clf:1") as monitor:
            job = MonitorJob(monitor, options, config)
            assert job.dispatcher is not None
            job.dispatcher.base_delay_s = 0.1
            job.start()
            try:
                job.cycle()  # warm: the analysis itself is not what is timed
                started = time.monotonic()
                job.alerts.active.clear()  # the drift is still there: it fires again
                _, events = job.cycle()
                took = time.monotonic() - started
                assert [(e.name, e.status) for e in events] == [("dataset_drift", "firing")]
                assert job.dispatcher.wait_until_empty(20)
            finally:
                job.close()

    assert took < 2.0  # the trickling webhook (a byte a second, 40 s) held no cycle
    assert [m["shipyard"]["status"] for m in hook.received] == ["firing", "firing"]  # type: ignore[index]
    assert all(r.startswith("POST /hook ") for r in hook.requests)
    assert not list((home / "monitor-outbox").rglob("*.json"))
