"""Helpers for the browser tests: opening the page, waiting on its data-* hooks, drawing, screenshots,
and driving the server over REST."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, WebSocketRoute, expect

from deeplook.engine.status import FINISHED as FINISHED_STATUSES
from tests.support import Server

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
FINISHED = frozenset(str(status) for status in FINISHED_STATUSES)  # the engine's, as the page derives them
LOSS = "[data-chart='loss']"
ACCURACY = "[data-chart='accuracy']"

# Strokes in drawing-pad units (the pad is 280 x 280 whatever its size on screen).
ONE = [(150, 40), (145, 140), (140, 240)]
ZERO = [
    (140 + 62 * math.sin(2 * math.pi * k / 40), 140 - 95 * math.cos(2 * math.pi * k / 40)) for k in range(42)
]


def open_dashboard(page: Page, server: Server, tab: str = "train") -> None:
    page.goto(f"{server.url}/#{tab}")
    wait_live(page)


def wait_live(page: Page) -> None:
    """Connected (the snapshot has arrived) and the presets loaded."""
    page.wait_for_selector("[data-connection][data-state='live']")
    page.wait_for_function("document.querySelector('[data-field=preset]').options.length > 0")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def attribute_number(page: Page, selector: str, name: str) -> float:
    value = page.get_attribute(selector, name)
    return float(value) if value else 0.0


def wait_attribute_above(page: Page, selector: str, name: str, above: float) -> None:
    """Wait until the number in an attribute (such as a chart's data-points) exceeds ``above``."""
    page.wait_for_function(
        """([selector, name, above]) =>
            Number(document.querySelector(selector)?.getAttribute(name) || 0) > above""",
        arg=[selector, name, above],
    )


def wait_following(page: Page, run_id: str) -> None:
    """Wait until the page follows this run and its loss chart holds some of the run's steps.

    (Until then the page may still show the previous run, whose points would satisfy a bare wait.)
    """
    page.wait_for_function(
        """(id) => document.querySelector('[data-run-name]')?.textContent.includes(id)
            && Number(document.querySelector("[data-chart='loss']").dataset.points || 0) > 0""",
        arg=run_id,
    )


def stroke(page: Page, points: list[tuple[float, float]], pad: str = "[data-pad]") -> None:
    """Draw one stroke with the mouse through points in pad units (on the Draw tab's pad by default)."""
    box = page.locator(pad).bounding_box()
    assert box is not None
    scale = box["width"] / 280

    def at(point: tuple[float, float]) -> tuple[float, float]:
        return box["x"] + point[0] * scale, box["y"] + point[1] * scale

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*at(point), steps=3)
    page.mouse.up()


# -- the server's side, over REST -------------------------------------------------------------------


def start_run(server: Server, **settings: object) -> str:
    response = server.http.post("/api/runs", json={"preset": "notebook-sgd", **settings})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def wait_run(server: Server, run_id: str, until: Callable[[dict], bool], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = server.http.get(f"/api/runs/{run_id}").json()
        if until(run):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} is {run['status']} at epoch {run['epochs_done']}")
        time.sleep(0.05)


def change_run(server: Server, run_id: str, **changes: object) -> dict:
    response = server.http.patch(f"/api/runs/{run_id}", json=changes)
    assert response.status_code == 200, response.text
    return dict(response.json())


def start_race(server: Server, **request: object) -> dict:
    response = server.http.post("/api/races", json=request)
    assert response.status_code == 201, response.text
    return dict(response.json())


def run_points(page: Page, selector: str) -> dict[str, int]:
    """What a race chart holds per run: its data-run-points ("id:n id:n") as {id: n}."""
    text = page.get_attribute(selector, "data-run-points") or ""
    return {run_id: int(n) for run_id, n in (pair.split(":") for pair in text.split())}


def record_attribute(page: Page, selector: str, name: str) -> None:
    """Start recording every value an attribute takes (read them with ``recorded``)."""
    page.evaluate(
        """([selector, name]) => {
            const target = document.querySelector(selector);
            window.recorded = window.recorded || {};
            const values = (window.recorded[selector + '|' + name] = [target.getAttribute(name)]);
            new MutationObserver(() => values.push(target.getAttribute(name)))
                .observe(target, { attributes: true, attributeFilter: [name] });
        }""",
        [selector, name],
    )


def recorded(page: Page, selector: str, name: str) -> list[str | None]:
    return list(page.evaluate("(key) => window.recorded[key]", f"{selector}|{name}"))


def stop_active(server: Server, headers: dict[str, str] | None = None) -> None:
    """Stop whatever run is training, so that the next test can start one."""
    for run in server.http.get("/api/runs").json():
        if run["status"] not in FINISHED:
            server.http.post(f"/api/runs/{run['id']}/stop", headers=headers or {})
            wait_run(server, run["id"], lambda r: r["status"] in FINISHED)


def route_sockets(page: Page) -> list[WebSocketRoute]:
    """The page's websockets, passed through to the server and listed as they open (a test can close
    one to drop the connection, as a flaky network would)."""
    sockets: list[WebSocketRoute] = []

    def through(socket: WebSocketRoute) -> None:
        sockets.append(socket)
        socket.connect_to_server()

    page.route_web_socket("**/ws", through)
    return sockets


def open_inside(page: Page, run_id: str) -> None:
    """The Look inside tab on ``run_id``, picked in its list once the list holds it."""
    page.click("[data-tab='inside']")
    page.wait_for_function(
        "(id) => [...document.querySelectorAll('[data-inside-run] option')].some((o) => o.value === id)",
        arg=run_id,
    )
    page.select_option("[data-inside-run]", run_id)
    expect(page.locator("[data-panel='inside']")).to_have_attribute("data-run", run_id)
