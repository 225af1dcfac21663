"""The build stream parser: steps, cache hits, step images and the failure report."""

from __future__ import annotations

from shipyard.image.buildlog import BuildLog

STREAM = [
    {"stream": "Step 1/3 : FROM python:3.11-slim AS builder\n"},
    {"stream": " ---> 7af8e1b3ca04\n"},
    {"stream": "Step 2/3 : COPY requirements.lock /tmp/shipyard/requirements.lock\n"},
    {"stream": " ---> Using cache\n"},
    {"stream": " ---> 1a2b3c4d5e6f\n"},
    {"stream": "Step 3/3 : RUN python3 -m venv /opt/venv\n"},
    {"stream": " ---> Running in 0f0f0f0f0f0f\n"},
    {"stream": "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n"},
    {
        "errorDetail": {"code": 1, "message": "The command returned a non-zero code: 1"},
        "error": "The command '/bin/sh -c python3 -m venv /opt/venv' returned a non-zero code: 1",
    },
]


def test_follows_steps_and_cache_hits() -> None:
    log = BuildLog()
    for message in STREAM[:5]:
        log.feed(message)
    assert (log.step, log.total) == (2, 3)
    assert log.cached_steps == [2]
    assert log.step_images == []  # neither the base (FROM) nor a cached step's image is ours
    log.feed({"stream": "Step 3/3 : RUN true\n"})
    log.feed({"stream": " ---> 9a8b7c6d5e4f\n"})
    assert log.step_images == ["9a8b7c6d5e4f"]


def test_failure_report_names_the_step_and_its_output() -> None:
    log = BuildLog()
    for message in STREAM:
        log.feed(message)
    report = log.failure_report()
    assert log.failed
    assert report.startswith("step 3/3 failed: RUN python3 -m venv /opt/venv")
    assert "DO NOT MATCH THE HASHES" in report
    assert "non-zero code: 1" in report
    assert "Running in" not in report


def test_success_keeps_the_image_id() -> None:
    log = BuildLog()
    log.feed({"aux": {"ID": "sha256:abc"}})
    log.feed({"stream": "Successfully built abc\n"})
    assert log.image_id == "sha256:abc" and not log.failed


def test_missing_base_image_suggests_base_image_option() -> None:
    log = BuildLog()
    log.feed({"stream": "Step 1/23 : FROM python:3.11-slim AS builder\n"})
    log.feed({"error": 'Get "https://registry-1.docker.io/v2/": dial tcp: no such host'})
    assert "--base-image" in log.failure_report()
