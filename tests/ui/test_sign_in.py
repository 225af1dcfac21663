"""A server with access keys: the UI asks for a token (or a key name and token), then works;
a wrong token is asked again; signing out forgets it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import UiServer, screenshot

expect = pytest.importorskip("playwright.sync_api", reason="pip install playwright").expect


def test_the_ui_asks_for_a_token_then_shows_the_experiments(
    anonymous_page: Any, ui_server: UiServer
) -> None:
    page = anonymous_page
    page.goto(f"{ui_server.url}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "sign-in")
    page.get_by_label("Token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Token").fill(ui_server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Experiments")).to_be_visible()
    expect(page.get_by_role("table", name="Experiments")).to_contain_text("Default")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_key_name_and_token_sign_in_as_basic_auth(
    anonymous_page: Any, ui_server: UiServer
) -> None:
    page = anonymous_page
    page.goto(f"{ui_server.url}/#/models")
    page.get_by_label("Key name (optional)").fill("ana")
    page.get_by_label("Token").fill(ui_server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible()
