"""The dashboard in a real browser against a real server training on the real MNIST."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.browser import (
    ACCURACY,
    FINISHED,
    LOSS,
    ONE,
    ZERO,
    attribute_number,
    open_dashboard,
    route_sockets,
    screenshot,
    start_run,
    stop_active,
    stroke,
    wait_attribute_above,
    wait_following,
    wait_live,
    wait_run,
)
from tests.e2e.conftest import Console
from tests.support import Server

LONG_RUN = {"preset": "notebook-sgd", "epochs": 60}  # ~20 s unless stopped: time to look mid-run


@pytest.fixture(scope="module")
def trained(server: Server) -> dict[str, str]:
    """Two finished runs: notebook-adam (about 95% after 2 epochs) and notebook-sgd."""
    stop_active(server)
    runs = {}
    for preset, epochs in (("notebook-sgd", 3), ("notebook-adam", 2)):
        run_id = start_run(server, preset=preset, epochs=epochs)
        wait_run(server, run_id, lambda run: run["status"] in FINISHED)
        runs[preset] = run_id
    return runs


def status_of(page: Page) -> str | None:
    return page.get_attribute("[data-run-bar]", "data-status")


def set_field(page: Page, name: str, value: str) -> None:
    page.fill(f"[data-field='{name}']", value)


# -- loading ----------------------------------------------------------------------------------------


def test_page_loads_connected_without_console_errors(page: Page, console: Console) -> None:
    expect(page.locator("[data-field='preset'] option")).to_have_text(
        ["notebook-sgd", "notebook-adam", "relu-adam", "relu-adam-augmented"]
    )
    expect(page.locator("[data-token-bar]")).to_be_hidden()  # no token configured
    expect(page.locator("[data-field='epochs']")).not_to_have_value("")
    assert console.errors == []


def test_every_ui_string_exists_in_both_languages(page: Page) -> None:
    keys = page.evaluate(
        """async () => {
            const { dictionaries } = await import('/js/i18n.js');
            const used = [...document.querySelectorAll('[data-i18n]')].map((e) => e.dataset.i18n);
            return { en: Object.keys(dictionaries.en), ko: Object.keys(dictionaries.ko), used };
        }"""
    )
    assert sorted(keys["en"]) == sorted(keys["ko"])
    assert set(keys["used"]) <= set(keys["en"])


# -- training live ----------------------------------------------------------------------------------


def test_start_streams_loss_and_epoch_accuracy_then_stop(page: Page, server: Server) -> None:
    stop_active(server)
    page.select_option("[data-field='preset']", "notebook-sgd")
    set_field(page, "epochs", str(LONG_RUN["epochs"]))
    expect(page.locator("[data-preset-modified]")).to_be_visible()
    page.click("[data-start]")

    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "running")
    wait_attribute_above(page, LOSS, "data-points", 0)
    first = attribute_number(page, LOSS, "data-last-step")
    wait_attribute_above(page, LOSS, "data-last-step", first)  # the loss chart keeps gaining points
    wait_attribute_above(page, ACCURACY, "data-points", 1)  # two epochs done
    expect(page.locator("[data-run-accuracy]")).to_contain_text("%")
    expect(page.locator("[data-run-epoch]")).to_contain_text(f"of {LONG_RUN['epochs']}")
    expect(page.locator("[data-run-rate]")).to_contain_text("samples/s")
    expect(page.locator("[data-run-eta]")).to_contain_text("left")
    screenshot(page, "dashboard-mid-training")

    page.click("[data-run-stop]")
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "stopped")
    expect(page.locator("[data-run-stop]")).to_be_hidden()


def test_pause_and_resume(page: Page, server: Server) -> None:
    stop_active(server)
    wait_following(page, start_run(server, **LONG_RUN))
    page.click("[data-run-pause]")
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "paused")
    held = attribute_number(page, LOSS, "data-last-step")
    page.click("[data-run-resume]")
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "running")
    wait_attribute_above(page, LOSS, "data-last-step", held)
    stop_active(server)
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "stopped")


def test_reload_mid_run_shows_the_whole_history_and_carries_on(page: Page, server: Server) -> None:
    stop_active(server)
    wait_following(page, start_run(server, **LONG_RUN))
    wait_attribute_above(page, ACCURACY, "data-points", 0)
    before = attribute_number(page, LOSS, "data-last-step")
    epochs_before = attribute_number(page, ACCURACY, "data-points")

    page.reload()
    wait_live(page)
    # straight from the snapshot: the history from step 1, not only what streams after the reload
    wait_attribute_above(page, LOSS, "data-points", 0)
    assert attribute_number(page, LOSS, "data-first-step") == 1
    assert attribute_number(page, LOSS, "data-last-step") >= before
    assert attribute_number(page, ACCURACY, "data-points") >= epochs_before
    after = attribute_number(page, LOSS, "data-last-step")
    wait_attribute_above(page, LOSS, "data-last-step", after)  # and live again
    wait_attribute_above(page, ACCURACY, "data-points", epochs_before)
    stop_active(server)


def test_two_tabs_follow_the_same_run(
    page: Page, server: Server, context_factory: Callable[..., BrowserContext], console: Console
) -> None:
    stop_active(server)
    other = console.listen(context_factory().new_page())
    open_dashboard(other, server)
    page.click("[data-start]")  # the preset as it is: 15 epochs of notebook-sgd
    expect(page.locator("[data-run-bar]")).to_have_attribute(
        "data-status", re.compile("loading-data|running")
    )
    run_id = server.http.get("/api/runs").json()[0]["id"]
    expect(page.locator("[data-run-name]")).to_have_text(f"notebook-sgd, 15 epochs {run_id}")
    expect(other.locator("[data-run-name]")).to_have_text(f"notebook-sgd, 15 epochs {run_id}")
    wait_attribute_above(other, LOSS, "data-points", 0)

    other.click("[data-run-pause]")
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "paused")
    page.click("[data-run-resume]")
    expect(other.locator("[data-run-bar]")).to_have_attribute("data-status", "running")
    other.click("[data-run-stop]")
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "stopped")
    last = page.get_attribute(LOSS, "data-last-step")
    expect(other.locator(LOSS)).to_have_attribute("data-last-step", last or "")


def test_reconnects_after_the_connection_drops_and_resumes_from_the_snapshot(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console
) -> None:
    stop_active(server)
    page = console.listen(context_factory().new_page())
    sockets = route_sockets(page)
    open_dashboard(page, server)
    page.evaluate(
        """() => {
            const indicator = document.querySelector('[data-connection]');
            window.connectionStates = [];
            new MutationObserver(() => window.connectionStates.push(indicator.dataset.state))
                .observe(indicator, { attributes: true, attributeFilter: ['data-state'] });
        }"""
    )
    wait_following(page, start_run(server, **LONG_RUN))
    before = attribute_number(page, LOSS, "data-last-step")

    sockets[0].close()  # the page's side drops, as on a flaky network
    page.wait_for_function("window.connectionStates.includes('offline')")
    expect(page.locator("[data-connection]")).to_have_attribute("data-state", "live")
    assert len(sockets) == 2
    # the steps trained while it was away came with the snapshot: every step from 1 on, no gap
    page.wait_for_function(
        """(before) => {
            const chart = document.querySelector("[data-chart='loss']").dataset;
            return Number(chart.firstStep) === 1 && Number(chart.lastStep) > before + 100
                && Number(chart.points) === Number(chart.lastStep);
        }""",
        arg=before,
    )
    stop_active(server)
    assert console.unexpected() == []


# -- the form ---------------------------------------------------------------------------------------


def test_validation_messages_appear_next_to_their_field(page: Page, server: Server) -> None:
    stop_active(server)
    set_field(page, "lr", "0")
    set_field(page, "batch_size", "0")
    page.click("[data-start]")
    expect(page.locator("[data-error-for='lr']")).to_have_text("Input should be greater than 0")
    expect(page.locator("[data-error-for='batch_size']")).to_contain_text("greater than or equal to 1")
    expect(page.locator("[data-field='lr']")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-field='lr']")).to_be_focused()

    set_field(page, "lr", "0.1")  # editing a field clears its message
    expect(page.locator("[data-error-for='lr']")).to_be_hidden()
    set_field(page, "hidden", "50, lots")
    page.click("[data-start]")
    expect(page.locator("[data-error-for='hidden']")).to_contain_text("whole numbers")


# -- draw a digit -----------------------------------------------------------------------------------


def test_draw_digits_and_see_the_prediction(page: Page, trained: dict[str, str]) -> None:
    page.click("[data-tab='draw']")
    draw = page.locator("[data-panel='draw']")
    expect(draw).to_be_visible()
    expect(page.locator("[data-answer-hint]")).to_contain_text("Draw something")

    stroke(page, ONE)
    expect(draw).to_have_attribute("data-predicted", "1")
    winner = page.locator("[data-probs] li[data-winner]")
    expect(winner).to_have_attribute("data-class", "1")
    expect(winner.locator(".prob-value")).to_contain_text("%")
    expect(page.locator("[data-probs] li")).to_have_count(10)
    expect(page.locator("[data-answer-model]")).to_contain_text(trained["notebook-adam"])
    ink = page.evaluate(
        """() => {
            const seen = document.querySelector('[data-seen]').getContext('2d');
            const data = seen.getImageData(0, 0, 28, 28).data;
            let lit = 0;
            for (let i = 0; i < data.length; i += 4) if (data[i] > 128) lit += 1;
            return lit;
        }"""
    )
    assert 10 < ink < 300  # a thin upright stroke in the 28x28 the network saw
    screenshot(page, "draw-a-digit")

    page.locator("[data-pad]").focus()
    page.keyboard.press("c")  # the shortcut clears the pad and the answer
    expect(draw).to_have_attribute("data-predicted", "")
    expect(page.locator("[data-probs] li[data-winner]")).to_have_count(0)

    stroke(page, ZERO)
    expect(draw).to_have_attribute("data-predicted", "0")
    page.click("[data-clear]")
    expect(draw).to_have_attribute("data-predicted", "")


def test_draw_with_the_model_of_a_chosen_run(page: Page, trained: dict[str, str]) -> None:
    page.click("[data-tab='draw']")
    choice = page.locator("[data-model-choice]")
    expect(choice.locator(f"option[value='{trained['notebook-sgd']}']")).to_have_count(1)
    choice.select_option(trained["notebook-sgd"])
    stroke(page, ONE)
    expect(page.locator("[data-answer-model]")).to_contain_text(trained["notebook-sgd"])
    expect(page.locator("[data-panel='draw']")).not_to_have_attribute("data-predicted", "")


# -- history ----------------------------------------------------------------------------------------


def test_history_lists_compares_exports_and_deletes(
    page: Page, server: Server, trained: dict[str, str]
) -> None:
    sgd, adam = trained["notebook-sgd"], trained["notebook-adam"]
    page.click("[data-tab='history']")
    for run_id in (sgd, adam):
        item = page.locator(f"[data-run-id='{run_id}']")
        expect(item.locator(".badge")).to_have_text("Completed")
        expect(item.locator("[data-accuracy]")).to_contain_text("%")

    page.locator(f"[data-run-id='{sgd}'] [data-open]").click()
    expect(page.locator("[data-compare]")).to_have_attribute("data-runs", sgd)
    page.locator(f"[data-run-id='{adam}'] [data-compare-box]").check()
    expect(page.locator("[data-compare]")).to_have_attribute("data-runs", f"{sgd} {adam}")
    expect(page.locator("[data-compare-table] thead th")).to_have_count(3)
    expect(page.locator("[data-compare-table] tr[data-differs]").first).to_be_visible()
    wait_attribute_above(page, "[data-chart='compare-loss']", "data-points", 0)
    wait_attribute_above(page, "[data-chart='compare-accuracy']", "data-points", 4)  # 3 + 2 epochs
    expect(page.locator("[data-chart='compare-loss'] .u-legend .u-series")).to_have_count(3)
    screenshot(page, "history-compare")

    link = page.locator(f"[data-run-id='{adam}'] [data-csv]")
    expect(link).to_have_attribute("href", f"/api/runs/{adam}/metrics.csv")
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    header, *rows = path.read_text().splitlines()
    assert header.startswith("record,epoch,step,loss")
    assert sum(row.startswith("epoch,") for row in rows) == 2

    doomed = start_run(server, epochs=1)
    wait_run(server, doomed, lambda run: run["status"] in FINISHED)
    item = page.locator(f"[data-run-id='{doomed}']")
    item.locator("[data-delete]").click()
    expect(item.locator("[data-delete]")).to_have_attribute("data-delete", "confirm")
    item.locator("[data-delete]").click()
    expect(item).to_have_count(0)
    assert server.http.get(f"/api/runs/{doomed}").status_code == 404


# -- language, themes, sizes ------------------------------------------------------------------------


def test_switch_to_korean_and_it_is_remembered(page: Page, trained: dict[str, str]) -> None:
    page.select_option("[data-language]", "ko")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("[data-tab='train']")).to_have_text("학습")
    expect(page.locator("[data-start]")).to_have_text("시작")
    page.reload()
    wait_live(page)
    expect(page.locator("[data-tab='draw']")).to_have_text("그리기")
    expect(page.locator("[data-run-status]")).to_have_text(re.compile("완료|중지됨"))
    wait_attribute_above(page, LOSS, "data-points", 0)
    screenshot(page, "korean")
    page.select_option("[data-language]", "en")
    expect(page.locator("[data-tab='train']")).to_have_text("Train")


def test_dark_theme_follows_the_system(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console, trained: dict[str, str]
) -> None:
    page = console.listen(context_factory(color_scheme="dark").new_page())
    open_dashboard(page, server)
    wait_attribute_above(page, LOSS, "data-points", 0)
    assert brightness(page) < 120
    screenshot(page, "dark-theme")
    page.emulate_media(color_scheme="light")  # the system switches back: page and charts follow
    page.wait_for_function("getComputedStyle(document.body).backgroundColor !== 'rgb(14, 17, 22)'")
    assert brightness(page) > 600
    wait_attribute_above(page, LOSS, "data-points", 0)
    assert console.unexpected() == []


def brightness(page: Page) -> int:
    """Red + green + blue of the page background (0 to 765)."""
    color = page.evaluate("getComputedStyle(document.body).backgroundColor")
    return sum(int(part) for part in color[color.index("(") + 1 : -1].split(",")[:3])


def test_phone_width_fits_without_sideways_scrolling(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console, trained: dict[str, str]
) -> None:
    phone = context_factory(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = console.listen(phone.new_page())
    open_dashboard(page, server)
    wait_attribute_above(page, LOSS, "data-points", 0)
    for tab in ("train", "draw", "history"):
        page.click(f"[data-tab='{tab}']")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{tab} is {width}px wide"
    page.click("[data-tab='train']")
    screenshot(page, "phone")
    page.click("[data-tab='draw']")
    expect(page.locator("[data-pad]")).to_have_css("touch-action", "none")
    stroke(page, ONE)
    expect(page.locator("[data-answer-inline]")).to_contain_text("1 · ")  # visible beside the pad
    screenshot(page, "phone-draw")
    assert console.unexpected() == []


# -- long runs --------------------------------------------------------------------------------------


def test_downsampling_keeps_spikes_and_stays_cheap(page: Page) -> None:
    result = page.evaluate(
        """async () => {
            const { MinMaxIndex } = await import('/js/series.js');
            const n = 200000;
            const loss = new Float64Array(n);
            for (let i = 0; i < n; i++) loss[i] = 2 * Math.exp(-i / 20000) + 0.05 * Math.sin(i);
            loss[123457] = 9;  // one spike
            const buckets = new MinMaxIndex();
            const started = performance.now();
            let indices = [];
            for (let end = 100000; end <= n; end += 1000) indices = buckets.indices(loss, end, 800, 1);
            const perFrame = (performance.now() - started) / 101;
            const fresh = new MinMaxIndex().indices(loss, n, 800, 1);
            return { count: indices.length, spike: indices.includes(123457), perFrame,
                     same: JSON.stringify(fresh) === JSON.stringify(indices) };
        }"""
    )
    assert result["count"] <= 1602
    assert result["spike"]
    assert result["same"]  # the incremental answer equals the one computed from scratch
    assert result["perFrame"] < 8, result  # ms per redraw while 1,000 steps arrive per frame


def test_the_store_ignores_steps_and_epochs_it_already_holds(page: Page) -> None:
    result = page.evaluate(
        """async () => {
            const { Store } = await import('/js/store.js');
            const store = new Store();
            const epoch = (n) => ({ epoch: n, step: 3 * n, train_loss: 1, train_accuracy: 0.5,
                                    test_loss: 1, test_accuracy: 0.5, seconds: 1, samples_per_second: 1 });
            const run = { id: 'abc', status: 'running', steps_done: 4, epochs_done: 1, created_at: 1,
                          epochs: [epoch(1)], lr_changes: [],
                          steps: { step: [1, 2, 3, 4], epoch: [1, 1, 1, 2], loss: [4, 3, 2, 1],
                                   accuracy: [0, 0, 0, 0], downsampled: false } };
            store.loadRun(run);
            store.follow('abc');
            store.applySteps({ run_id: 'abc', step: [3, 4, 5, 6], epoch: [1, 2, 2, 2],
                               loss: [9, 9, 0.5, 0.4], accuracy: [0, 0, 0, 0] });
            store.applySteps({ run_id: 'other', step: [7], epoch: [2], loss: [9], accuracy: [0] });
            store.applyEpoch({ run_id: 'abc', metrics: epoch(1) });
            store.applyEpoch({ run_id: 'abc', metrics: epoch(2) });
            return { steps: Array.from(store.steps.step.subarray(0, store.steps.length)),
                     loss: Array.from(store.steps.loss.subarray(0, store.steps.length)),
                     epochs: store.epochs.map((e) => e.epoch), done: store.run.epochs_done,
                     other: store.record('other') };
        }"""
    )
    assert result["steps"] == [1, 2, 3, 4, 5, 6]
    assert result["loss"] == [4, 3, 2, 1, 0.5, 0.4]  # the repeated steps 3 and 4 kept their first values
    assert result["epochs"] == [1, 2]
    assert result["done"] == 2
    assert result["other"] is None  # steps of a run it has not heard of are not made into a run


def test_the_store_holds_every_run_and_follows_one_without_flipping(page: Page) -> None:
    result = page.evaluate(
        """async () => {
            const { Store } = await import('/js/store.js');
            const store = new Store();
            store.setInfo({ statuses: [{ name: 'running', active: true, resumable: false },
                                       { name: 'queued', active: true, resumable: false },
                                       { name: 'completed', active: false, resumable: false }] });
            const summary = (id, created, status) => ({ id, status, created_at: created, steps_done: 0,
                                                      epochs_done: 0, checkpoint_epoch: -1 });
            const followed = [];
            store.addEventListener('follow', () => followed.push(store.followedId));
            store.applyStatus(summary('a', 1, 'running'));
            store.follow('a');  // this page started it
            store.applyStatus(summary('b', 2, 'running'));  // another tab starts one
            for (let step = 1; step <= 5; step++) {
                for (const id of ['a', 'b']) {
                    store.applySteps({ run_id: id, step: [step], epoch: [1], loss: [1], accuracy: [0] });
                    store.applyStatus(summary(id, id === 'a' ? 1 : 2, 'running'));
                }
            }
            const whileBoth = store.followedId;
            const told = [];  // the followed run's status changes, as its views hear of them
            store.addEventListener('run', () => told.push(store.run.status));
            store.applyStatus(summary('b', 2, 'completed'));  // not the followed one
            store.applyStatus(summary('a', 1, 'completed'));
            const afterFinish = store.followedId;
            store.applyStatus(summary('c', 3, 'queued'));
            return { followed, whileBoth, afterFinish, told, now: store.followedId,
                     active: store.activeRuns.map((run) => run.id),
                     steps: ['a', 'b'].map((id) => store.record(id).steps.length) };
        }"""
    )
    assert result["whileBoth"] == "a"  # the other run's messages do not take the page away
    assert result["afterFinish"] == "a"  # a run that finishes stays in view
    assert result["told"] == ["completed"]
    assert result["now"] == "c"  # until a new one starts
    assert result["followed"] == ["a", "c"]
    assert result["active"] == ["c"]
    assert result["steps"] == [5, 5]  # both runs' series are held
