"""The models pages in a real browser: the list, one model's versions and audit trail, and
"move alias" (a rollback), confirmed first and recorded with the signed-in key's name."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

import shipyard
from shipyard.config import Settings
from shipyard.registry.registry import Registry
from tests.ui.conftest import UiServer, screenshot

expect = pytest.importorskip("playwright.sync_api", reason="pip install playwright").expect


@pytest.fixture
def two_versions(ui_server: UiServer) -> tuple[str, Settings]:
    """A model with versions 1 and 2, ``production`` on 2 (moved by the server's user)."""
    settings = Settings.from_env({"SHIPYARD_HOME": str(ui_server.home), "SHIPYARD_USER": "server"})
    features, target = load_iris(return_X_y=True, as_frame=True)
    name = f"iris-{uuid.uuid4().hex[:8]}"
    for depth in (2, 3):
        model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(features, target)
        shipyard.save_model(model, name, sample_input=features.head(3), settings=settings)
    with Registry.from_settings(settings) as registry:
        registry.set_alias(name, "production", 2)
    return name, settings


def test_a_model_shows_its_versions_and_an_alias_moves_back_after_confirming(
    page: Any, ui_server: UiServer, two_versions: tuple[str, Settings]
) -> None:
    name, settings = two_versions
    page.goto(f"{ui_server.url}/#/models")
    expect(page.get_by_role("table", name="Models")).to_contain_text(name)
    page.get_by_role("link", name=name).click()
    expect(page.locator("h1")).to_have_text(name)
    versions = page.get_by_role("table", name="Versions")
    expect(versions.locator("tbody tr")).to_have_count(2)
    expect(versions.locator("tbody tr").first).to_contain_text("production")
    expect(page.get_by_role("table", name="Audit trail")).to_contain_text("server")

    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss() if len(asked) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.locator("#alias-name").fill("staging")
    page.locator("#alias-version").select_option("1")
    page.get_by_role("button", name="Move…").click()  # dismissed: staging is not made
    page.locator("#alias-name").fill("production")
    page.get_by_role("button", name="Move…").click()  # accepted: the rollback
    expect(versions.locator("tbody tr").last).to_contain_text("production")
    assert asked[0].startswith(f"Move {name}@staging → v1?")
    assert asked[1].startswith(f"Move {name}@production → v1?")
    audit = page.get_by_role("table", name="Audit trail")
    expect(audit.locator("tbody tr").first).to_contain_text("ana")  # the key's name
    screenshot(page, "model")

    with Registry.from_settings(settings) as registry:
        assert registry.get(f"{name}@production").version == 1
        assert [(e.alias, e.actor) for e in registry.history(name)] == [
            ("production", "server"),
            ("production", "ana"),
        ]


def test_a_read_only_key_sees_the_refusal_and_nothing_moves(
    anonymous_page: Any, ui_server: UiServer, two_versions: tuple[str, Settings]
) -> None:
    name, settings = two_versions
    page = anonymous_page
    page.add_init_script(
        f"sessionStorage.setItem('shipyard.authorization', 'Bearer {ui_server.read_only_token}')"
    )
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{ui_server.url}/#/models/{name}")
    page.locator("#alias-version").select_option("1")
    page.get_by_role("button", name="Move…").click()
    expect(page.locator("#alias-status")).to_contain_text("read-only")
    with Registry.from_settings(settings) as registry:
        assert registry.get(f"{name}@production").version == 2
