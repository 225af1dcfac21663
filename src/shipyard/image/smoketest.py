"""The smoke test: run a model image once, with no network, and read what it found about itself.

The container runs ``python -m shipyard verify-self`` (``image/selfcheck.py``) as the image's own
non-root user with ``network_mode="none"``: a model that needs anything the image lacks (a package
left out of its requirements, a download at load time) fails here, within seconds, instead of in
production. The result carries the container's error output and the measurements deploy sizes
probes and memory limits from (recorded as version tags, see ``shipyard.contract``).

    >>> result = run_smoke_test(engine, "shipyard/iris:3")
    >>> result.passed, result.check.load_seconds, result.check.peak_rss_bytes
    (True, 0.84, 183500800)
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipyard.contract import MODEL_DIR, SMOKE_LOAD_SECONDS_TAG, SMOKE_PEAK_RSS_TAG, VENV_DIR
from shipyard.docker_engine import DockerEngine, engine_errors
from shipyard.errors import SmokeTestError
from shipyard.image.selfcheck import MARKER, SelfCheck

__all__ = [
    "SMOKE_CHECKED_AT_TAG",
    "SMOKE_EXACT_TAG",
    "SMOKE_IMAGE_TAG",
    "SMOKE_TEST_LABEL",
    "SmokeTest",
    "require_passed",
    "run_smoke_test",
    "self_check_argv",
]

SMOKE_IMAGE_TAG = "shipyard.smoke.image_id"
SMOKE_EXACT_TAG = "shipyard.smoke.exact"
SMOKE_CHECKED_AT_TAG = "shipyard.smoke.checked_at"
SMOKE_TEST_LABEL = "io.shipyard.smoke-test"
"""Set on smoke-test containers, so a leftover one can be found and removed."""
_TAIL = 40


def self_check_argv() -> tuple[list[str], list[str]]:
    """Entrypoint and command that make an image check itself (instead of serving)."""
    return [f"{VENV_DIR}/bin/python", "-m", "shipyard"], ["verify-self", MODEL_DIR]


@dataclass(frozen=True, slots=True)
class SmokeTest:
    """One run of an image's self-check, as seen from the host."""

    image: str
    image_id: str
    exit_code: int
    seconds: float
    check: SelfCheck | None
    stderr: str

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and self.check is not None and self.check.passed

    def tags(self) -> dict[str, str]:
        """The version tags that record this (passed) run."""
        check = self.check or SelfCheck(passed=False)
        tags = {
            SMOKE_PEAK_RSS_TAG: str(check.peak_rss_bytes),
            SMOKE_IMAGE_TAG: self.image_id,
            SMOKE_CHECKED_AT_TAG: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if check.load_seconds is not None:
            tags[SMOKE_LOAD_SECONDS_TAG] = f"{check.load_seconds:.3f}"
        if check.exact is not None:
            tags[SMOKE_EXACT_TAG] = "true" if check.exact else "false"
        return dict(sorted(tags.items()))

    def failure_report(self) -> str:
        """What went wrong, with the end of the container's error output."""
        if self.check is None:
            lines = [f"the image exited with code {self.exit_code} without a self-check result"]
        elif self.check.error:
            lines = [f"the image could not load its model: {self.check.error}"]
            if "cannot open shared object file" in self.check.error:
                lines.append(
                    "a library needs a system package the base image lacks (LightGBM needs "
                    "libgomp1, for example): build with a --base-image that has it"
                )
        else:
            lines = ["the image did not reproduce the golden sample saved with the model:"]
            lines += [f"  {problem}" for problem in self.check.problems]
        tail = [line for line in self.stderr.splitlines() if line.strip()][-_TAIL:]
        if tail:
            lines.append("the container's error output ended with:")
            lines += [f"  {line}" for line in tail]
        lines.append(
            "fix the model's requirements (save_model(..., extra_requirements=[...])) or code, "
            "then build again; `shipyard verify IMAGE` repeats this check"
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "image_id": self.image_id,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "check": None if self.check is None else self.check.to_dict(),
            "stderr_tail": self.stderr.splitlines()[-_TAIL:],
        }


def run_smoke_test(engine: DockerEngine, image: str, *, timeout_s: float = 300.0) -> SmokeTest:
    """Run ``image``'s self-check once without network; the container is removed afterwards."""
    entrypoint, command = self_check_argv()
    image_id = engine.inspect(image).id
    started = time.monotonic()
    with engine_errors(f"starting the smoke test of {image}"):
        container = engine.client.containers.run(
            image_id,
            entrypoint=entrypoint,
            command=command,
            network_mode="none",
            healthcheck={"test": ["NONE"]},  # it checks itself once and exits
            detach=True,
            name=f"shipyard-smoke-{uuid.uuid4().hex[:12]}",
            labels={SMOKE_TEST_LABEL: "1"},
        )
    try:
        try:
            status = container.wait(timeout=timeout_s)
        except Exception as exc:  # the SDK raises requests' ReadTimeout on timeout
            raise SmokeTestError(
                f"the smoke test of {image} did not finish within {timeout_s:.0f}s ({exc}): the "
                f"model takes too long to load. Its output ended with:\n{_logs(container, True)}"
            ) from exc
        with engine_errors(f"reading the smoke test of {image}"):
            out = container.logs(stdout=True, stderr=False).decode(errors="replace")
            err = container.logs(stdout=False, stderr=True).decode(errors="replace")
    finally:
        with engine_errors(f"removing the smoke-test container of {image}"):
            container.remove(force=True)
    return SmokeTest(
        image=image,
        image_id=image_id,
        exit_code=int(status.get("StatusCode", -1)),
        seconds=time.monotonic() - started,
        check=_parse(out),
        stderr=err,
    )


def require_passed(result: SmokeTest) -> SmokeTest:
    """``result`` itself when it passed; else ``SmokeTestError`` with the failure report."""
    if not result.passed:
        raise SmokeTestError(f"the smoke test of {result.image} failed: {result.failure_report()}")
    return result


def _parse(stdout: str) -> SelfCheck | None:
    """The self-check result: the last JSON line of the container's stdout with the marker."""
    for line in reversed(stdout.splitlines()):
        text = line.strip()
        if not text.startswith("{"):
            continue
        try:
            data = json.loads(text)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get(MARKER) == 1:
            return SelfCheck.from_dict(data)
    return None


def _logs(container: Any, stderr: bool) -> str:
    try:
        return str(container.logs(stdout=not stderr, stderr=stderr, tail=_TAIL).decode())
    except Exception:  # the container is going away anyway
        return "(no output)"
