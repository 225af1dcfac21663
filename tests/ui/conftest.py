"""Browser fixtures: ONE ``shipyard server`` (the real CLI, access keys required) and ONE
headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright from PyPI) for the
whole session; each test gets a fresh browser context (its own sessionStorage).

Skipped, with the reason, when chromium or Playwright is absent. No browser is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shipyard.tracking.server.keys import KeyFile
from tests.tracking.conftest import RunningServer, running_server

CHROMIUM = os.environ.get("SHIPYARD_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("SHIPYARD_UI_SCREENSHOTS", "build/ui-screenshots"))


@dataclass(frozen=True)
class UiServer:
    """The session's server and the tokens of its two keys."""

    server: RunningServer
    home: Path
    token: str
    read_only_token: str

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client with the read-write key's token (or the token ``key``)."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key or self.token}"},
            timeout=30,
        )


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    home = tmp_path_factory.mktemp("ui-home")
    keys = KeyFile(home / "server-keys.json")
    _, token = keys.add("ana")
    _, read_only = keys.add("viewer", read_only=True)
    env = {"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "server"}
    log = tmp_path_factory.mktemp("ui-log") / "server.log"
    with running_server(env, log, "--quiet") as server:
        yield UiServer(server, home, token, read_only)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; scripts/services.sh)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def anonymous_page(browser: Any, ui_server: UiServer) -> Iterator[Any]:
    """A page in a fresh context, not signed in; a console error or page error fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    context.close()
    expected = [p for p in problems if "401" not in p and "403" not in p]
    assert expected == [], f"browser console errors: {expected}"


@pytest.fixture
def page(anonymous_page: Any, ui_server: UiServer) -> Any:
    """A page signed in with the read-write key (as the sign-in form would store it)."""
    anonymous_page.add_init_script(
        f"sessionStorage.setItem('shipyard.authorization', 'Bearer {ui_server.token}')"
    )
    return anonymous_page


def screenshot(page: Any, name: str) -> None:
    """Keep a picture of the view for CI's artifacts (``SHIPYARD_UI_SCREENSHOTS``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def _no_stray_mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def mlflow_at(ui_server: UiServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The real ``mlflow`` module logging to the session's server with the read-write key."""
    import mlflow
    import mlflow.tracking.fluent

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", ui_server.token)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    mlflow.set_tracking_uri(ui_server.url)
    yield mlflow
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
