"""A server with an API token: the token field appears, is sent, is remembered. Before any run: no model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ONE, stop_active, stroke, wait_live
from tests.support import Server

TOKEN = "correct horse battery staple"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mnist) -> Iterator[Server]:
    """A fresh server (no runs, so no model) that wants a token for mutating calls."""
    running = Server(tmp_path_factory.mktemp("e2e-token") / "data", {"DEEPLOOK_API_TOKEN": TOKEN})
    yield running
    stop_active(running, {"Authorization": f"Bearer {TOKEN}"})
    running.close()


def test_drawing_before_any_training_says_to_train_first(page: Page) -> None:
    page.click("[data-tab='draw']")
    stroke(page, ONE)
    expect(page.locator("[data-answer-hint]")).to_contain_text("No trained model yet")
    expect(page.locator("[data-answer-hint]")).to_have_attribute("data-problem", "true")
    expect(page.locator("[data-panel='draw']")).to_have_attribute("data-predicted", "")


def test_token_field_appears_and_is_sent_and_remembered(page: Page) -> None:
    token = page.locator("[data-token]")
    expect(token).to_be_visible()
    expect(page.locator("label[for='token']")).to_have_text("API token")

    page.click("[data-start]")
    expect(page.locator("[data-form-error]")).to_contain_text("needs an API token")
    token.fill("not it")
    page.click("[data-start]")
    expect(page.locator("[data-form-error]")).to_contain_text("token is wrong")

    token.fill(TOKEN)
    expect(page.locator("[data-token-saved]")).to_be_visible()
    page.fill("[data-field='epochs']", "60")
    page.click("[data-start]")
    expect(page.locator("[data-form-error]")).to_be_hidden()
    expect(page.locator("[data-run-stop]")).to_be_visible()

    page.reload()
    wait_live(page)
    expect(token).to_have_value(TOKEN)
    page.click("[data-run-stop]")  # sends the remembered token
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "stopped")
    expect(page.locator("[data-run-error]")).to_be_hidden()
