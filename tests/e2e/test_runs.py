"""Many runs at once in a real browser against a real server: following one while others train,
the queue, mid-run changes from the run bar, a live race, and two runs side by side in Look inside."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.browser import (
    FINISHED,
    LOSS,
    SCREENSHOTS,
    attribute_number,
    change_run,
    open_dashboard,
    record_attribute,
    recorded,
    route_sockets,
    run_points,
    start_race,
    start_run,
    stop_active,
    wait_attribute_above,
    wait_following,
    wait_run,
)
from tests.e2e.conftest import Console
from tests.support import Server

BAR = "[data-run-bar]"
SWITCH = "[data-run-switch]"
RACE_LOSS = "[data-chart='race-loss']"
RACE_ACCURACY = "[data-chart='race-accuracy']"
WATCHED = {"preset": "notebook-sgd", "epochs": 60, "pace": "watchable"}  # ~20 s an epoch, little CPU
SGD, ADAM = "optimizer sgd, lr 0.1", "optimizer adam, lr 0.001"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mnist) -> Iterator[Server]:
    """Two runs train at once (the cores here), one more may wait; a further start gets 429."""
    running = Server(
        tmp_path_factory.mktemp("e2e-runs") / "data",
        {"DEEPLOOK_MAX_ACTIVE_RUNS": "2", "DEEPLOOK_MAX_QUEUED_RUNS": "1"},
    )
    yield running
    running.close()


@pytest.fixture(scope="module")
def finished_race(server: Server) -> list[str]:
    """A finished 2-epoch sgd-vs-adam race: the ids of its runs, SGD's first."""
    stop_active(server)
    race = start_race(server, race="sgd-vs-adam", settings={"epochs": 2})
    ids = [run["id"] for run in race["runs"]]
    for run_id in ids:
        wait_run(server, run_id, lambda run: run["status"] in FINISHED, timeout=120)
    return ids


def both_above(page: Page, selector: str, floor: dict[str, int], ids: list[str]) -> None:
    """Wait until a race chart holds more than `floor` points of each run."""
    page.wait_for_function(
        """([selector, floor, ids]) => {
            const text = document.querySelector(selector)?.dataset.runPoints || '';
            const held = Object.fromEntries(text.split(' ').filter(Boolean).map((p) => p.split(':')));
            return ids.every((id) => Number(held[id] || 0) > (floor[id] || 0));
        }""",
        arg=[selector, floor, ids],
    )


def settled_steps(server: Server, run_id: str) -> int:
    """The steps a paused run has trained, once the last one before the pause has landed."""
    last = -1
    while True:
        steps = int(server.http.get(f"/api/runs/{run_id}").json()["steps_done"])
        if steps == last:
            return steps
        last = steps
        time.sleep(0.4)


def tall_screenshot(page: Page, name: str, height: int = 1000) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    assert size is not None
    page.set_viewport_size({"width": size["width"], "height": height})
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(400)  # the charts follow their new size
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


# -- several runs at once -----------------------------------------------------------------------------


def test_two_runs_train_at_once_and_the_page_keeps_following_its_own(
    page: Page, server: Server, context_factory: Callable[..., BrowserContext], console: Console
) -> None:
    stop_active(server)
    page.fill("[data-field='epochs']", "60")
    page.select_option("[data-field='pace']", "watchable")
    page.click("[data-start]")
    expect(page.locator(BAR)).to_have_attribute("data-status", "running")
    mine = page.get_attribute(BAR, "data-followed") or ""
    record_attribute(page, BAR, "data-followed")

    other = start_run(server, **WATCHED, name="the other one")
    switch = page.locator(SWITCH)
    expect(switch).to_be_visible()
    expect(switch.locator(f"[data-follow='{other}']")).to_contain_text("the other one")
    expect(switch.locator(f"[data-follow='{mine}']")).to_have_attribute("aria-pressed", "true")
    # both train and stream to the page; it stays on the run it started
    wait_run(server, other, lambda run: run["steps_done"] > 30)
    held = attribute_number(page, LOSS, "data-last-step")
    wait_attribute_above(page, LOSS, "data-last-step", held + 30)
    assert set(recorded(page, BAR, "data-followed")) == {mine}
    assert len(server.http.get("/api/stats").json()["training"]) == 2

    # pressing the other run follows it, with its whole history at once
    switch.locator(f"[data-follow='{other}']").click()
    expect(page.locator(BAR)).to_have_attribute("data-followed", other)
    expect(page.locator("[data-run-name]")).to_have_text(f"the other one {other}")
    expect(page.locator(LOSS)).to_have_attribute("data-first-step", "1")
    wait_attribute_above(page, LOSS, "data-points", 30)
    expect(switch.locator(f"[data-follow='{other}']")).to_be_focused()
    expect(switch.locator(f"[data-follow='{other}']")).to_have_attribute("aria-pressed", "true")

    # a page opened now follows the newest active run, and stays on it while both stream
    fresh = console.listen(context_factory().new_page())
    open_dashboard(fresh, server)
    expect(fresh.locator(BAR)).to_have_attribute("data-followed", other)
    expect(fresh.locator(SWITCH).locator("[data-follow]")).to_have_count(2)
    record_attribute(fresh, BAR, "data-followed")
    fresh.wait_for_timeout(2000)
    assert set(recorded(fresh, BAR, "data-followed")) == {other}
    stop_active(server)


def test_reconnecting_rebuilds_every_run_from_the_snapshots(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console
) -> None:
    stop_active(server)
    page = console.listen(context_factory().new_page())
    sockets = route_sockets(page)
    first = start_run(server, **WATCHED)
    second = start_run(server, **WATCHED)
    open_dashboard(page, server)
    page.locator(f"{SWITCH} [data-follow='{first}']").click()  # the learner's choice
    wait_following(page, first)
    wait_attribute_above(page, LOSS, "data-points", 30)

    sockets[0].close()
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "offline")
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "live")
    assert len(sockets) == 2
    expect(page.locator(BAR)).to_have_attribute("data-followed", first)  # the choice holds
    expect(page.locator(f"{SWITCH} [data-follow]")).to_have_count(2)
    # the other run's history came whole with its snapshot: every step from 1 on, no gap
    page.locator(f"{SWITCH} [data-follow='{second}']").click()
    page.wait_for_function(
        """() => {
            const chart = document.querySelector("[data-chart='loss']").dataset;
            return Number(chart.firstStep) === 1 && Number(chart.lastStep) > 30
                && Number(chart.points) === Number(chart.lastStep);
        }"""
    )
    stop_active(server)
    assert console.unexpected() == []


# -- the queue --------------------------------------------------------------------------------------


def test_a_start_while_every_trainer_is_busy_waits_and_shows_its_place(page: Page, server: Server) -> None:
    stop_active(server)
    busy = [start_run(server, **WATCHED) for _ in range(2)]
    start = page.locator("[data-start]")
    note = page.locator("[data-start-note]")
    expect(start).to_have_text("Queue it (position 1)")
    expect(note).to_have_text(
        "All 2 trainers are busy: it waits in the queue at position 1 and starts when one is free."
    )

    page.fill("[data-field='epochs']", "60")
    start.click()
    expect(page.locator(BAR)).to_have_attribute("data-status", "queued")
    expect(page.locator("[data-run-queue]")).to_have_text("position 1 in the queue")
    queued = page.get_attribute(BAR, "data-followed") or ""
    assert server.http.get(f"/api/runs/{queued}").json()["queue_position"] == 1
    expect(page.locator(f"{SWITCH} [data-follow='{queued}']")).to_contain_text("#1 in queue")
    expect(page.locator(f"{SWITCH} [data-follow]")).to_have_count(3)

    # one may wait (DEEPLOOK_MAX_QUEUED_RUNS=1): the page says so, and the server's 429 in words
    expect(note).to_have_attribute("data-outlook", "full")
    start.click()
    error = page.locator("[data-form-error]")
    expect(error).to_have_attribute("data-code", "queue_full")
    expect(error).to_have_text(
        re.compile(r"^The queue is full \(1 waiting for a trainer\): try again in \d+ s, or once one")
    )
    page.select_option("[data-language]", "ko")
    start.click()
    expect(error).to_have_text(
        re.compile(r"^대기열이 꽉 찼습니다 \(1개가 학습기를 기다리는 중\)\. \d+초 뒤에")
    )

    # a trainer frees: the waiting run starts, and the message goes with the state it was about
    server.http.post(f"/api/runs/{busy[0]}/stop")
    expect(page.locator(BAR)).to_have_attribute("data-status", re.compile("loading-data|running"))
    expect(error).to_be_hidden()
    expect(page.locator("[data-run-queue]")).to_have_text("")
    page.select_option("[data-language]", "en")
    expect(start).to_have_text("Queue it (position 1)")  # still two training
    stop_active(server)
    expect(start).to_have_text("Start")
    expect(note).to_have_text("Starts at once: 0 of 2 trainers are busy.")


# -- mid-run changes --------------------------------------------------------------------------------


def test_a_learning_rate_change_is_a_marker_on_the_loss_chart_and_one_step_trains_one_step(
    page: Page, server: Server
) -> None:
    stop_active(server)
    run_id = start_run(server, **WATCHED)
    wait_following(page, run_id)
    field = page.locator("[data-run-lr]")
    expect(field).to_have_value("0.1")
    field.fill("0.5")
    field.press("Enter")
    expect(page.locator(LOSS)).to_have_attribute("data-markers", re.compile(r"^\d+:0\.5$"))
    step = int((page.get_attribute(LOSS, "data-markers") or "").split(":")[0])
    assert server.http.get(f"/api/runs/{run_id}").json()["lr_changes"] == [{"step": step, "lr": 0.5}]
    expect(page.locator("[data-run-tune-note]")).to_contain_text(f"Learning rate 0.5 from step {step} on")
    expect(field).to_be_focused()
    expect(field).to_have_value("0.5")
    wait_attribute_above(page, LOSS, "data-last-step", step + 20)  # the line stands inside the curve
    page.locator(LOSS).scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "lr-change.png"))

    # one step at a time
    page.select_option("[data-run-pace]", "step")
    expect(page.locator(BAR)).to_have_attribute("data-status", "paused")
    expect(page.locator(BAR)).to_have_attribute("data-pace", "step")
    one = page.locator("[data-run-one-step]")
    expect(one).to_be_visible()
    expect(page.locator("[data-run-pause]")).to_be_hidden()
    held = settled_steps(server, run_id)
    expect(page.locator(LOSS)).to_have_attribute("data-last-step", str(held))
    one.click()
    expect(page.locator(LOSS)).to_have_attribute("data-last-step", str(held + 1))
    expect(one).to_be_focused()
    one.press("Enter")
    expect(page.locator(LOSS)).to_have_attribute("data-last-step", str(held + 2))
    assert settled_steps(server, run_id) == held + 2

    # back to a pace that trains by itself: it goes on
    page.select_option("[data-run-pace]", "watchable")
    expect(page.locator(BAR)).to_have_attribute("data-status", "running")
    expect(one).to_be_hidden()
    wait_attribute_above(page, LOSS, "data-last-step", held + 10)

    # pause and resume keep the keyboard where it was
    page.locator("[data-run-pause]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-run-resume]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("[data-run-pause]")).to_be_focused()
    stop_active(server)


# -- races ------------------------------------------------------------------------------------------


def test_a_race_of_sgd_and_adam_draws_both_runs_live_in_one_chart(page: Page, server: Server) -> None:
    stop_active(server)
    page.click("button[data-mode='race']")
    expect(page.locator("[data-race-part]")).to_be_visible()
    page.select_option("[data-race-choice]", "sgd-vs-adam")
    expect(page.locator("[data-race-about]")).to_contain_text("plain SGD (lr 0.1) and by Adam (lr 0.001)")
    expect(page.locator("[data-vary] [data-varied] > span")).to_have_text(["Optimizer", "Learning rate"])
    expect(page.locator("[data-variant-table] tbody tr")).to_have_count(2)
    expect(page.locator("[data-field='optimizer']")).to_be_hidden()  # it differs: not a shared field
    expect(page.locator("[data-start]")).to_have_text("Start the race")
    page.fill("[data-field='epochs']", "30")  # shared; long enough to look
    page.click("[data-start]")

    card = page.locator("[data-race]")
    expect(card).to_be_visible()
    expect(page.locator("[data-race-name]")).to_have_text("Race: sgd-vs-adam")
    race = server.http.get(f"/api/races/{card.get_attribute('data-race')}").json()
    assert [run["name"] for run in race["runs"]] == [SGD, ADAM]
    ids = [run["id"] for run in race["runs"]]
    expect(page.locator(BAR)).to_have_attribute("data-followed", ids[0])

    # one chart, a series per run, each named by what makes it different, both growing
    expect(page.locator(RACE_LOSS)).to_have_attribute("data-series", "2")
    legend = page.locator(f"{RACE_LOSS} .u-legend .u-series")
    expect(legend).to_have_count(3)  # the step, then the two runs
    expect(legend.nth(1)).to_contain_text(SGD)
    expect(legend.nth(2)).to_contain_text(ADAM)
    both_above(page, RACE_LOSS, {}, ids)
    before = run_points(page, RACE_LOSS)
    both_above(page, RACE_LOSS, before, ids)
    both_above(page, RACE_ACCURACY, {ids[0]: 1, ids[1]: 1}, ids)  # two epochs each
    expect(page.locator(f"{RACE_ACCURACY} .u-legend .u-series")).to_have_count(3)
    assert all(count > 0 for count in run_points(page, RACE_LOSS).values())

    # slowed down to look at (the test's own call): still live, still growing
    for run_id in ids:
        change_run(server, run_id, pace="watchable")
    before = run_points(page, RACE_LOSS)
    both_above(page, RACE_LOSS, before, ids)
    expect(page.locator(f"[data-race-runs] [data-follow='{ids[1]}']")).to_contain_text(ADAM)
    tall_screenshot(page, "race")
    page.select_option("[data-language]", "ko")
    expect(page.locator("[data-race-name]")).to_have_text("경주: sgd-vs-adam")
    expect(page.locator("[data-race-stop]")).to_have_text("경주 중지")
    tall_screenshot(page, "race-ko")
    page.select_option("[data-language]", "en")

    # stop the race: every run of it stops
    page.click("[data-race-stop]")
    for run_id in ids:
        wait_run(server, run_id, lambda run: run["status"] == "stopped")
        expect(page.locator(f"[data-race-run='{run_id}'] .badge")).to_have_text("Stopped")
    expect(page.locator("[data-race-stop]")).to_be_hidden()
    expect(card).to_be_focused()


def test_a_race_of_ones_own_varies_what_the_learner_picks(page: Page, server: Server) -> None:
    stop_active(server)
    page.click("button[data-mode='race']")
    page.select_option("[data-race-choice]", "")  # your own
    expect(page.locator("[data-race-about]")).to_contain_text("Choose what differs")
    page.select_option("[data-vary-add]", "activation")
    expect(page.locator("[data-variant='0'] [data-variant-field='activation']")).to_be_focused()
    for name in ("optimizer", "lr"):  # the race differs in the activation only
        page.click(f"[data-vary-remove='{name}']")
    expect(page.locator("[data-vary] [data-varied] > span")).to_have_text(["Activation"])
    rows = page.locator("[data-variant-table] tbody tr")
    page.select_option("[data-variant='0'] [data-variant-field='activation']", "sigmoid")
    page.select_option("[data-variant='1'] [data-variant-field='activation']", "relu")
    page.click("[data-variant-add]")
    expect(rows).to_have_count(3)
    page.select_option("[data-variant='2'] [data-variant-field='activation']", "tanh")
    expect(page.locator("[data-variant-add]")).to_be_visible()
    page.fill("[data-field='epochs']", "1")
    before = {race["id"] for race in server.http.get("/api/races").json()}
    page.click("[data-start]")
    shown = page.locator("[data-race]")
    expect(shown).to_be_visible()
    # the race on screen may still be an earlier test's for a moment: wait for the new one
    deadline = time.monotonic() + 30
    while shown.get_attribute("data-race") in before and time.monotonic() < deadline:
        time.sleep(0.05)
    race = server.http.get(f"/api/races/{shown.get_attribute('data-race')}").json()
    assert race["differs"] == ["activation"]
    names = [run["name"] for run in race["runs"]]
    assert names == ["activation sigmoid", "activation relu", "activation tanh"]
    expect(page.locator("[data-race-differs]")).to_have_text("differs in Activation")
    expect(page.locator(RACE_LOSS)).to_have_attribute("data-series", "3")
    for run in race["runs"]:
        wait_run(server, run["id"], lambda summary: summary["status"] in FINISHED, timeout=120)
    both_above(page, RACE_ACCURACY, {}, [run["id"] for run in race["runs"]])


# -- History and Look inside ------------------------------------------------------------------------


def test_an_opened_run_in_history_grows_while_it_trains(page: Page, server: Server) -> None:
    stop_active(server)
    run_id = start_run(server, **WATCHED)
    wait_run(server, run_id, lambda run: run["steps_done"] > 0)
    page.click("[data-tab='history']")
    page.locator(f"[data-run-id='{run_id}'] [data-open]").click()
    expect(page.locator("[data-compare]")).to_have_attribute("data-runs", run_id)
    chart = "[data-chart='compare-loss']"
    wait_attribute_above(page, chart, "data-points", 0)
    held = attribute_number(page, chart, "data-points")
    wait_attribute_above(page, chart, "data-points", held + 20)
    expect(page.locator(f"[data-run-id='{run_id}'] .badge")).to_have_text("Running")
    stop_active(server)
    expect(page.locator(f"[data-run-id='{run_id}'] .badge")).to_have_text("Stopped")


def test_look_inside_shows_two_runs_of_a_race_side_by_side(page: Page, finished_race: list[str]) -> None:
    sgd, adam = finished_race
    page.click("[data-tab='inside']")
    page.wait_for_function(
        "(id) => [...document.querySelectorAll('[data-inside-run] option')].some((o) => o.value === id)",
        arg=sgd,
    )
    page.select_option("[data-inside-run]", sgd)
    second = page.locator("[data-inside-second-run]")
    expect(second.locator(f"option[value='{adam}']")).to_have_text(f"{ADAM} · {adam} (same race)")
    second.select_option(adam)

    panel = page.locator("[data-panel='inside']")
    expect(panel).to_have_attribute("data-side-by-side", "")
    lens = page.locator("[data-inside-lens]")
    expect(lens).to_have_attribute("data-run", adam)
    grids = panel.locator("[data-weights]")
    expect(grids).to_have_count(2)
    for grid in (grids.nth(0), grids.nth(1)):
        expect(grid.locator("canvas")).to_have_count(50)
    cards = panel.locator("[data-weights-card]")
    expect(cards.nth(0)).to_have_attribute("data-shown-epoch", "2")
    expect(cards.nth(1)).to_have_attribute("data-shown-epoch", "2")
    for chart in ("update-ratio", "flat", "weight-rms"):
        expect(lens.locator(f"[data-chart='{chart}']")).to_have_attribute("data-points", "3")  # epochs 0..2
    labels = panel.locator("[data-lens-label]")
    expect(labels.nth(0)).to_contain_text(SGD)
    expect(labels.nth(2)).to_contain_text(ADAM)
    first_box, second_box = grids.nth(0).bounding_box(), grids.nth(1).bounding_box()
    assert first_box and second_box
    assert first_box["x"] + first_box["width"] <= second_box["x"]  # next to each other
    assert abs(first_box["y"] - second_box["y"]) < 40
    # the same epoch: back to the random start, both of them
    page.locator("[data-inside-epoch]").focus()
    page.keyboard.press("Home")
    expect(cards.nth(0)).to_have_attribute("data-shown-epoch", "0")
    expect(cards.nth(1)).to_have_attribute("data-shown-epoch", "0")
    page.keyboard.press("End")
    expect(cards.nth(1)).to_have_attribute("data-shown-epoch", "2")
    tall_screenshot(page, "inside-side-by-side", 1500)

    second.select_option("")
    expect(panel).not_to_have_attribute("data-side-by-side", "")
    expect(lens).to_be_hidden()
