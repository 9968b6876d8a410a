"""Browser fixtures: headless Chromium (Debian's) driven by Playwright, against a real server."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.e2e.browser import open_dashboard
from tests.support import Server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 720}
# Chromium logs every 4xx answer as a console error; the tests that provoke one expect it.
EXPECTED_HTTP_ERROR = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder drives a real browser, and is slow."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (Debian package 'chromium')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mnist) -> Iterator[Server]:
    """One real server per test module (the dataset is cached before it starts)."""
    running = Server(tmp_path_factory.mktemp("e2e") / "data")
    yield running
    running.close()


class Console:
    """What the page said: console errors and uncaught exceptions."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def listen(self, page: Page) -> Page:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        return page

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def unexpected(self) -> list[str]:
        return [text for text in self.errors if not EXPECTED_HTTP_ERROR.search(text)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def context_factory(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """New browser contexts (fresh storage); closed after the test."""
    with ExitStack() as contexts:

        def make(**options: object) -> BrowserContext:
            options.setdefault("viewport", DESKTOP)
            context = contexts.enter_context(closing(browser.new_context(**options)))  # type: ignore[arg-type]
            context.set_default_timeout(15_000)
            return context

        yield make


@pytest.fixture
def page(context_factory: Callable[..., BrowserContext], console: Console, server: Server) -> Iterator[Page]:
    """A desktop page on the dashboard, connected; fails the test on any unexpected console error."""
    opened = console.listen(context_factory().new_page())
    open_dashboard(opened, server)
    yield opened
    assert console.unexpected() == []
