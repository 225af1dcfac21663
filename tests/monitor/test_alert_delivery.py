"""Alerts that are never lost: a checked webhook URL, one overall deadline per delivery, no
redirects, every protocol error caught, and a persistent outbox retried with backoff."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.errors import InvalidInputError
from shipyard.monitor.dispatch import AlertDispatcher
from shipyard.monitor.outbox import AlertOutbox
from shipyard.monitor.webhook import deliver, validate_webhook_url

from .webhooks import ScriptedWebhook

ALERT = {"text": "ALERT dataset_drift on clf:1", "shipyard": {"alert": "dataset_drift"}}


@pytest.mark.parametrize("url", ["not-a-url", "file:///x", "ftp://host/x", "http://", ""])
def test_a_webhook_that_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidInputError, match="--webhook"):
        validate_webhook_url(url)


@pytest.mark.parametrize("url", ["not-a-url", "file:///x"])
def test_monitor_run_refuses_a_bad_webhook_at_start_with_exit_2(
    url: str, shipyard_env: dict[str, str]
) -> None:
    result = CliRunner().invoke(app, ["monitor", "run", "clf:1", "--webhook", url])

    assert result.exit_code == 2, result.output
    assert "is not an http:// or https:// URL" in result.output


def test_a_trickling_webhook_fails_at_the_overall_deadline_not_per_read() -> None:
    with ScriptedWebhook(["trickle"], trickle_s=0.3) as hook:  # a byte every 0.3 s, for 14 s
        started = time.monotonic()
        result = deliver(hook.url, ALERT, deadline_s=1.0)
        elapsed = time.monotonic() - started

    assert not result.ok
    assert "deadline" in result.detail
    assert elapsed < 2.0


def test_a_redirect_is_a_failure_and_is_not_followed() -> None:
    with ScriptedWebhook(["redirect"]) as hook:
        result = deliver(hook.url, ALERT, deadline_s=5)

    assert (result.ok, result.status) == (False, 302)
    assert "/elsewhere" in result.detail and "not followed" in result.detail
    assert hook.requests == ["POST /hook HTTP/1.1"]


@pytest.mark.parametrize("answer", ["bad-status", "giant-header", "500"])
def test_a_broken_answer_is_a_failed_delivery_not_a_crash(answer: str) -> None:
    with ScriptedWebhook([answer]) as hook:
        result = deliver(hook.url, ALERT, deadline_s=5)

    assert not result.ok
    assert result.detail


@pytest.mark.parametrize("answer", ["many-headers", "huge-header"])
def test_over_100_headers_or_a_64_kib_header_line_are_read_not_a_crash(answer: str) -> None:
    with ScriptedWebhook([answer]) as hook:
        assert deliver(hook.url, ALERT, deadline_s=5).ok


def test_a_closed_port_is_a_failed_delivery() -> None:
    with ScriptedWebhook() as hook:
        url = hook.url
    assert not deliver(url, ALERT, deadline_s=2).ok


def test_undelivered_alerts_stay_queued_and_are_delivered_in_order_later(
    tmp_path: Path,
) -> None:
    outbox = AlertOutbox(tmp_path / "outbox")
    first, second = {**ALERT, "n": 1}, {**ALERT, "n": 2}
    with ScriptedWebhook(["redirect", "bad-status", "hang"], trickle_s=0.2) as hook:
        dispatcher = AlertDispatcher(outbox, hook.url, deadline_s=0.5)
        outbox.put(first)
        outbox.put(second)
        for _ in range(3):  # redirect, bad status line, a hang: each kept for the next try
            assert dispatcher.drain() is False
            assert len(outbox.pending()) == 2
        assert dispatcher.failures == 3

        restarted = AlertDispatcher(AlertOutbox(tmp_path / "outbox"), hook.url)  # a new job
        assert restarted.drain() is True

    assert hook.received == [first, second]
    assert outbox.pending() == []


def test_the_background_dispatcher_retries_with_backoff_until_delivered(tmp_path: Path) -> None:
    outbox = AlertOutbox(tmp_path / "outbox")
    with ScriptedWebhook(["500", "trickle", "redirect"], trickle_s=0.3) as hook:
        dispatcher = AlertDispatcher(
            outbox, hook.url, deadline_s=0.5, base_delay_s=0.05, max_delay_s=0.2
        )
        dispatcher.start()
        try:
            started = time.monotonic()
            outbox.put(ALERT)  # what a cycle does: queue, wake, go on
            dispatcher.wake()
            assert time.monotonic() - started < 0.1
            assert dispatcher.wait_until_empty(timeout_s=10)
        finally:
            dispatcher.stop()

    assert hook.received == [ALERT]
    assert [r.split()[0] for r in hook.requests] == ["POST"] * 4  # never a GET after the 302


def test_an_unreadable_queued_alert_is_set_aside_not_retried_forever(tmp_path: Path) -> None:
    outbox = AlertOutbox(tmp_path / "outbox")
    outbox.put(ALERT)
    (tmp_path / "outbox" / "00000000000000000000-broken.json").write_text("{not json")
    with ScriptedWebhook() as hook:
        assert AlertDispatcher(outbox, hook.url, deadline_s=5).drain() is True

    assert hook.received == [ALERT]
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["00000000000000000000-broken.bad"]
