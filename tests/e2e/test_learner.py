"""The dashboard through a learner's eyes (issue 12): human layer names, server words in Korean, axis
titles, the keyboard (focus, Space, the confusion matrix), the phone's first screen, the pace."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.browser import FINISHED, open_dashboard, start_run, stop_active, wait_run
from tests.e2e.conftest import Console
from tests.support import Server

SMALL = {"train_size": 1000, "epochs": 1}  # 10 steps of 100: an epoch in a moment
PHONE = {"width": 390, "height": 844}


def finished_run(server: Server, **settings: object) -> str:
    stop_active(server)
    run_id = start_run(server, **{**SMALL, **settings})
    wait_run(server, run_id, lambda run: run["status"] in FINISHED and run["checkpoint_epoch"] >= 1)
    return run_id


# -- the phone's first screen (first: the module's server has no run yet) ---------------------------


def test_on_a_phone_start_is_on_the_first_screen_before_any_run(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console
) -> None:
    assert server.http.get("/api/runs").json() == []
    page = console.listen(context_factory(viewport=PHONE, is_mobile=True, has_touch=True).new_page())
    open_dashboard(page, server)
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "none")
    start = page.locator("[data-start]")
    box = start.bounding_box()
    assert box is not None
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] + box["height"] <= PHONE["height"], box  # no scrolling past empty charts
    assert console.unexpected() == []


# -- names --------------------------------------------------------------------------------------------


def test_layers_are_named_from_the_runs_config_in_both_languages(page: Page, server: Server) -> None:
    run_id = finished_run(server, preset="relu-adam", hidden=[32, 16])
    page.goto(f"{server.url}/#inside")
    health = page.locator("[data-health-card]")
    expect(health.locator("[data-histograms] figure").first).to_be_visible()
    text = health.inner_text()
    for name in ("hidden 1 (32, ReLU)", "hidden 2 (16, ReLU)", "output (10, softmax)"):
        assert name in text, name
    assert "hidden 1 (32, ReLU) weights" in text and "hidden 1 (32, ReLU) biases" in text
    assert "dense" not in page.locator("main").inner_text()
    summary = page.locator("[data-chart='update-ratio'] [data-summary]")
    expect(summary).to_contain_text("output (10, softmax)")

    page.select_option("[data-language]", "ko")
    expect(health.locator("[data-histograms]")).to_contain_text("은닉층 1 (32, ReLU) 가중치")
    expect(health.locator("[data-histograms]")).to_contain_text("출력층 (10, 소프트맥스)")

    # the Train tab calls the run by what distinguishes it, and shows its settings
    page.select_option("[data-language]", "en")
    page.click("[data-tab='train']")
    expect(page.locator("[data-run-name]")).to_have_text(f"relu-adam, 1 epochs {run_id}")
    expect(page.locator("[data-run-settings]")).to_contain_text("784-32-16-10 relu")


def test_epoch_zero_has_no_gradient_histograms(page: Page, server: Server) -> None:
    finished_run(server)
    page.goto(f"{server.url}/#inside")
    slider = page.locator("[data-inside-epoch]")
    expect(page.locator("[data-histograms] figure").first).to_be_visible()
    slider.focus()
    page.keyboard.press("Home")  # epoch 0, the random start
    gradients = page.locator("[data-histograms] figure[data-kind='gradients']").first
    expect(gradients).to_have_attribute("data-none", "true")
    expect(gradients).to_contain_text("no gradients yet")
    expect(page.locator("[data-histograms] figure[data-kind='weights'] canvas").first).to_be_visible()


# -- the server's words in Korean ------------------------------------------------------------------


def test_a_korean_page_shows_a_server_error_and_a_run_reason_in_korean(
    server_factory: Callable[..., Server], context_factory: Callable[..., BrowserContext], console: Console
) -> None:
    full = server_factory(env={"DEEPLOOK_MAX_ACTIVE_RUNS": "1", "DEEPLOOK_MAX_QUEUED_RUNS": "0"})
    page = console.listen(context_factory(locale="ko-KR").new_page())
    open_dashboard(page, full)
    run_id = start_run(full, **{**SMALL, "epochs": 5}, pace="step")  # holds the only trainer, at rest
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-followed", run_id)
    page.click("[data-start]")
    error = page.locator("[data-form-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("대기열이 꽉 찼습니다")
    assert not re.search("[A-Za-z]{4,}", error.inner_text())  # no English sentence left in it

    full.http.post(f"/api/runs/{run_id}/stop")
    reason = page.locator("[data-run-reason]")
    expect(reason).to_have_attribute("data-code", "stopped_by_request")
    expect(reason).to_have_text("요청에 따라 중지했습니다.")
    expect(page.locator("[data-run-state-explain]")).to_contain_text("완전히 중지")
    expect(error).to_be_hidden()  # the state changed: the message about the old one is gone
    assert console.unexpected() == []


def test_every_error_code_of_the_server_has_texts_in_both_languages(page: Page, server: Server) -> None:
    info = server.http.get("/api/info").json()
    words = page.evaluate("async () => (await import('/js/i18n.js')).dictionaries")
    assert info["errors"], "the server lists its error codes"
    missing = [code for code in info["errors"] if f"error.{code}" not in words["en"]]
    untranslated = [code for code in info["errors"] if not isinstance(words["ko"].get(f"error.{code}"), str)]
    assert missing == [] and untranslated == []
    # a Korean text quotes only what the server's template quotes
    field = re.compile(r"\{(\w+)[^}]*\}")
    for code, template in info["errors"].items():
        assert set(field.findall(words["ko"][f"error.{code}"])) <= set(field.findall(template)) | {"retry"}, (
            code
        )


# -- charts -------------------------------------------------------------------------------------------


def test_every_chart_has_axis_titles_and_a_text_summary(page: Page, server: Server) -> None:
    finished_run(server, epochs=2)
    page.reload()
    expect(page.locator("[data-chart='accuracy']")).to_have_attribute("data-points", "2")
    titles = {
        "loss": "step|cross-entropy (nats)",
        "accuracy": "epoch|accuracy",
        "epoch-loss": "epoch|loss (nats)",
    }
    for chart, expected in titles.items():
        expect(page.locator(f"[data-chart='{chart}']")).to_have_attribute("data-axis-titles", expected)
    expect(page.locator("[data-chart='loss']")).to_have_attribute("data-epoch-boundaries", "1")
    summary = page.locator("[data-chart='loss'] [data-summary]")
    expect(summary).to_have_text(
        re.compile(r"Loss per step went from 2\.\d+ to [\d.]+ over 20 steps \(2 epochs\)\.")
    )
    expect(page.locator("[data-chart='accuracy'] [data-summary]")).to_contain_text("after epoch 2")

    page.click("[data-tab='inside']")
    for chart in ("update-ratio", "flat", "weight-rms"):
        host = page.locator(f"[data-chart='{chart}']")
        expect(host).to_have_attribute("data-axis-titles", re.compile(r"^epoch\|\S"))
        expect(host.locator("[data-summary]")).to_contain_text("hidden 1 (50, sigmoid)")
    expect(page.locator("[data-scale-high]")).to_have_text(re.compile(r"^\+0\.\d+"))


# -- keyboard -----------------------------------------------------------------------------------------


def test_focus_stays_on_start_and_moves_from_pause_to_resume(page: Page, server: Server) -> None:
    stop_active(server)
    page.fill("[data-field='epochs']", "3")
    page.select_option("[data-run-form] [data-field='pace']", "watchable")
    page.focus("[data-start]")
    page.keyboard.press("Enter")
    bar = page.locator("[data-run-bar]")
    expect(bar).to_have_attribute("data-status", re.compile("loading-data|running"))
    expect(page.locator("[data-start]")).to_be_focused()
    expect(bar).to_have_attribute("data-status", "running")
    page.focus("[data-run-pause]")
    page.keyboard.press("Enter")
    expect(bar).to_have_attribute("data-status", "paused")
    expect(page.locator("[data-run-resume]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(bar).to_have_attribute("data-status", "running")
    expect(page.locator("[data-run-pause]")).to_be_focused()
    stop_active(server)


def test_space_pauses_and_resumes_when_the_page_has_the_focus(page: Page, server: Server) -> None:
    stop_active(server)
    run_id = start_run(server, **{**SMALL, "epochs": 3}, pace="watchable")
    bar = page.locator("[data-run-bar]")
    expect(bar).to_have_attribute("data-followed", run_id)
    expect(bar).to_have_attribute("data-status", "running")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press(" ")
    expect(bar).to_have_attribute("data-status", "paused")
    assert server.http.get(f"/api/runs/{run_id}").json()["status"] == "paused"
    page.keyboard.press(" ")
    expect(bar).to_have_attribute("data-status", "running")
    # in a field, Space is the field's
    page.focus("[data-field='hidden']")
    page.keyboard.press(" ")
    time.sleep(0.5)
    assert server.http.get(f"/api/runs/{run_id}").json()["status"] == "running"
    stop_active(server)


def test_the_confusion_matrix_is_one_tab_stop_with_arrow_keys(page: Page, server: Server) -> None:
    finished_run(server)
    page.goto(f"{server.url}/#inside")
    cells = page.locator("[data-confusion] button[data-true]")
    expect(cells).to_have_count(100)
    assert page.locator("[data-confusion] button[tabindex='0']").count() == 1
    first = page.locator("[data-confusion] [data-true='0'][data-predicted='0']")
    expect(first).to_have_attribute("tabindex", "0")
    first.focus()

    def focused() -> tuple[str, str]:
        return tuple(
            page.evaluate("[document.activeElement.dataset.true, document.activeElement.dataset.predicted]")
        )

    page.keyboard.press("ArrowRight")
    assert focused() == ("0", "1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert focused() == ("2", "1")
    page.keyboard.press("End")
    assert focused() == ("2", "9")
    page.keyboard.press("ArrowRight")  # the edge holds
    assert focused() == ("2", "9")
    assert page.locator("[data-confusion] button[tabindex='0']").count() == 1
    page.keyboard.press("Tab")  # one Tab leaves the whole matrix
    assert page.evaluate("!document.activeElement.closest('[data-confusion]')")
    page.keyboard.press("Shift+Tab")  # and comes back to the cell it left
    assert focused() == ("2", "9")


# -- pace ---------------------------------------------------------------------------------------------


def test_the_watchable_pace_makes_an_epoch_last_about_twenty_seconds(page: Page, server: Server) -> None:
    stop_active(server)
    page.fill("[data-field='epochs']", "1")
    page.click("[data-more] summary")
    page.fill("[data-field='train_size']", "1000")
    page.select_option("[data-run-form] [data-field='pace']", "watchable")
    page.click("[data-start]")
    bar = page.locator("[data-run-bar]")
    expect(bar).to_have_attribute("data-status", "running", timeout=30_000)
    began = time.monotonic()
    run_id = bar.get_attribute("data-followed")
    assert run_id
    expect(bar).to_have_attribute("data-pace", "watchable")
    # time left counts the pace: about 20 s at first, not the instant of full speed
    expect(page.locator("[data-run-eta]")).to_have_text(re.compile(r"0:(1\d|2\d) left"), timeout=10_000)
    expect(page.locator("[data-chart='accuracy']")).to_have_attribute("data-points", "1", timeout=40_000)
    took = time.monotonic() - began
    assert 15 <= took <= 25, took  # within 25% of the 20 s target
    run = server.http.get(f"/api/runs/{run_id}").json()
    assert run["steps_per_epoch"] == 10 and run["epochs_done"] == 1


# -- the network on one digit ----------------------------------------------------------------------


def test_one_digit_shows_scores_before_softmax_units_against_and_hover_values(
    page: Page, server: Server
) -> None:
    finished_run(server)
    page.goto(f"{server.url}/#inside")
    page.locator("[data-test-gallery] > *").first.click()
    logits = page.locator("[data-digit-logits] li")
    expect(logits).to_have_count(10)
    shown = [float(value) for value in logits.evaluate_all("(items) => items.map((li) => li.dataset.value)")]
    winner = int(page.get_attribute("[data-digit-logits] li.logit-winner", "data-class") or -1)
    assert winner == max(range(10), key=lambda i: shown[i])  # the highest score is the answer
    against = page.locator("[data-contributions-against] li")
    assert against.count() > 0
    values = against.locator(".prob-value").all_inner_texts()
    assert all(text.startswith("-") for text in values), values
    expect(page.locator("[data-contrib-against-title]")).to_contain_text("pushed against")

    strip = page.locator("[data-digit-layers] canvas").first
    strip.scroll_into_view_if_needed()
    box = strip.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    expect(page.locator("[data-digit-layers] [data-readout]").first).to_have_text(
        re.compile(r"^neuron 0: [\d.]+")
    )
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    expect(page.locator("[data-digit-layers] [data-readout]").first).to_have_text(re.compile(r"^neuron 49: "))
    expect(page.locator("[data-digit-layers] .layer-label").first).to_have_text("hidden 1 (50, sigmoid)")


def test_on_a_phone_after_a_run_a_link_leads_to_start(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console
) -> None:
    finished_run(server)
    page = console.listen(context_factory(viewport=PHONE, is_mobile=True, has_touch=True).new_page())
    open_dashboard(page, server)
    link = page.locator("[data-run-new-link]")
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    link.tap()
    expect(page.locator("[data-start]")).to_be_in_viewport()
    assert console.unexpected() == []


def test_after_the_server_goes_away_the_status_says_so_and_no_time_left(
    server_factory: Callable[..., Server], context_factory: Callable[..., BrowserContext]
) -> None:
    gone = server_factory()
    page = context_factory().new_page()
    open_dashboard(page, gone)
    start_run(gone, **{**SMALL, "epochs": 3}, pace="watchable")
    bar = page.locator("[data-run-bar]")
    expect(bar).to_have_attribute("data-status", "running")
    expect(page.locator("[data-run-eta]")).to_have_text(re.compile("left"))
    gone.kill()
    expect(bar).to_have_attribute("data-offline", "true")
    expect(page.locator("[data-run-eta]")).to_have_text("")
    expect(page.locator("[data-run-rate]")).to_have_text("Connection lost: this status may be out of date.")
    expect(page.locator("[data-run-status]")).to_have_text("Running?")


def test_historys_table_scrolls_on_a_phone_with_a_cue_and_compares_more_than_two_runs(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console
) -> None:
    for _ in range(3 - len(server.http.get("/api/runs").json())):
        finished_run(server)
    page = console.listen(context_factory(viewport=PHONE, is_mobile=True, has_touch=True).new_page())
    open_dashboard(page, server, "history")
    boxes = page.locator("[data-compare-box]")
    expect(boxes.first).to_be_visible()
    for i in range(3):
        boxes.nth(i).check()
    compare = page.locator("[data-compare]")
    expect(compare).to_have_attribute("data-runs", re.compile(r"^\w+ \w+ \w+$"))
    expect(page.locator("[data-chart='compare-test-loss']")).not_to_have_attribute("data-points", "0")
    for chart in ("compare-loss", "compare-accuracy", "compare-test-loss"):
        box = page.locator(f"[data-chart='{chart}']").bounding_box()
        assert box is not None and box["height"] >= 240, (chart, box)
    expect(page.locator("[data-table-scroll-cue]")).to_be_visible()
    wrap = page.locator("[data-compare] .table-wrap")
    assert wrap.evaluate("(el) => el.scrollWidth > el.clientWidth")
    headers = page.locator("[data-compare-table] thead th").all_inner_texts()[1:]
    assert len(headers) == 3 and all(not re.fullmatch(r"[0-9a-f]{12}", text.strip()) for text in headers)
    assert console.unexpected() == []
