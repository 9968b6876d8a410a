"""The Step by step tab in a real browser against a real server: one real training step of a run's
network, stage by stage, its numbers checked against the API's own."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.browser import (
    FINISHED,
    ONE,
    SCREENSHOTS,
    screenshot,
    start_run,
    stop_active,
    stroke,
    wait_live,
    wait_run,
)
from tests.e2e.conftest import Console
from tests.support import Server

STAGE = "[data-step-stage]"
FIRST_FIVE = [0, 1, 2, 3, 4]
# the stages of a 784-50-10 network trained with SGD, in order
STAGES = ["X", "a1", "z1", "a2", "y_hat", "Loss", "dy", "dW2", "db2", "dz1", "da1", "dW1", "db1"]
STAGES += ["update-W1", "update-b1", "update-W2", "update-b2", "train"]


@pytest.fixture(scope="module")
def run_id(server: Server) -> str:
    """A finished 1-epoch notebook-sgd run: its epoch 0, the random start, is what the tab traces."""
    stop_active(server)
    run = start_run(server, preset="notebook-sgd", epochs=1)
    wait_run(server, run, lambda r: r["status"] in FINISHED)
    return run


def trace(server: Server, run_id: str, **batch: Any) -> dict[str, np.ndarray]:
    """The API's own trace of a batch (the tab's default: the first five, 5 steps), every value decoded."""
    body = {"epoch": 0, "indices": FIRST_FIVE, "steps": 5, "full": True, **batch}
    answer = server.http.post(f"/api/runs/{run_id}/trace", json=body)
    assert answer.status_code == 200, answer.text
    arrays = {}
    for traced in answer.json()["arrays"]:
        out = traced["array"]
        if out["values"] is not None:
            values = np.array(out["values"], dtype=np.float64)
        else:
            values = np.frombuffer(base64.b64decode(out["base64"]), "<f4").astype(np.float64)
        arrays[traced["name"]] = values.reshape(out["shape"])
    return arrays


@pytest.fixture(scope="module")
def traced(server: Server, run_id: str) -> dict[str, np.ndarray]:
    return trace(server, run_id)


def open_step(page: Page, server: Server, stage: str = "") -> None:
    page.goto(f"{server.url}/#step/{stage}")
    wait_live(page)
    expect(page.locator(STAGE)).to_have_attribute("data-stage", stage or "X")


def heatmap(page: Page, name: str) -> str:
    return f"{STAGE} .heatmap[data-array='{name}']"


def readout(page: Page, name: str) -> tuple[int, int, float]:
    """The cell a heat map reads out, and its value (as the page holds it: a float64 number)."""
    locator = page.locator(f"{heatmap(page, name)} .heatmap-readout")
    row, col, value = (locator.get_attribute(f"data-{key}") for key in ("row", "col", "value"))
    return int(row or -1), int(col or -1), float(value or "nan")


def hover_cell(page: Page, name: str, row: int, col: int) -> None:
    """Point at the middle of one cell of a heat map."""
    frame = page.locator(f"{heatmap(page, name)} .heatmap-frame")
    box = frame.bounding_box()
    assert box is not None
    rows, cols = (int(frame.locator("..").get_attribute(f"data-{key}") or 0) for key in ("rows", "cols"))
    page.mouse.move(
        box["x"] + (col + 0.5) * box["width"] / cols, box["y"] + (row + 0.5) * box["height"] / rows
    )


def focus_cell(page: Page, name: str, row: int, col: int) -> None:
    """Focus a heat map (its cursor starts at 0, 0) and move to a cell with the arrow keys."""
    page.locator(f"{heatmap(page, name)} .heatmap-frame").focus()
    for key, times in (("ArrowDown", row), ("ArrowRight", col)):
        for _ in range(times):
            page.keyboard.press(key)


# -- stages and addresses -------------------------------------------------------------------------


def test_every_stage_is_reached_with_the_keyboard_only(page: Page, server: Server, run_id: str) -> None:
    page.keyboard.press("Tab")  # the skip link
    while page.evaluate("document.activeElement.getAttribute('role')") != "tab":
        page.keyboard.press("Tab")
    page.keyboard.press("End")  # the last tab: Step by step
    expect(page.locator("[data-tab='step']")).to_have_attribute("aria-selected", "true")
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "X")  # the random start of the run shown
    expect(page.locator("[data-step-about]")).to_contain_text(run_id)
    for _ in range(40):  # into the panel, up to the Next button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('[data-step-next]')"):
            break
    expect(page.locator("[data-step-next]")).to_be_focused()
    seen = [page.get_attribute(STAGE, "data-stage")]
    for expected in STAGES[1:]:
        page.keyboard.press("ArrowRight")
        expect(page.locator(STAGE)).to_have_attribute("data-stage", expected)
        expect(page.locator(f"[data-stage-link='{expected}']")).to_have_attribute("aria-current", "step")
        assert page.evaluate("location.hash") == f"#step/{expected}"
        seen.append(expected)
    assert seen == STAGES
    expect(page.locator("[data-step-position]")).to_have_text(f"Stage {len(STAGES)} of {len(STAGES)}")
    page.keyboard.press("ArrowLeft")
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "update-b2")

    # Space plays and pauses (with the focus on a stage's link, where Space is no button's)
    page.locator("[data-stage-link='update-b2']").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("[data-stage-link='update-W2']")).to_be_focused()  # the focus follows the stage
    play = page.locator("[data-step-play]")
    page.keyboard.press(" ")
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(play).to_contain_text("Pause")
    page.keyboard.press(" ")
    expect(play).to_have_attribute("aria-pressed", "false")


def test_a_stages_address_opens_it_on_reload_and_back_and_forward(
    page: Page, server: Server, run_id: str
) -> None:
    open_step(page, server, "dW1")
    expect(page.locator("[data-stage-link='dW1']")).to_have_attribute("aria-current", "step")
    expect(page.locator(f"{STAGE} h2")).to_have_text("The gradient of the weights W1")
    page.reload()
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "dW1")
    page.click("[data-stage-link='da1']")
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "da1")
    page.click("[data-step-next]")
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "dW1")
    page.click("[data-step-next]")
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "db1")
    page.go_back()
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "dW1")
    page.go_back()
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "da1")
    page.go_forward()
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "dW1")
    page.goto(f"{server.url}/#train")
    page.goto(f"{server.url}/#step/dW7")  # no such stage in this network: the first
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "X")
    assert page.evaluate("location.hash") == "#step/X"

    # the concept help's link to an optimizer's update: no Adam run here, so it says how to make one
    page.goto(f"{server.url}/#step/update-W1?for=adam")
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "update-W1")
    expect(page.locator("[data-step-note]")).to_contain_text("notebook-adam")
    expect(page.locator(f"{STAGE} h2")).to_have_text("The update of W1 (SGD)")


def test_the_texts_follow_the_language(page: Page, server: Server, run_id: str) -> None:
    open_step(page, server, "db1")
    why = page.locator(f"{STAGE} .step-why")
    expect(why).to_contain_text("db1 = np.sum(dz1, axis=0)")  # the notebook's slip, pointed out
    expect(why).to_contain_text("sum da1, which is right")
    page.select_option("[data-language]", "ko")
    expect(page.locator("[data-tab='step']")).to_have_text("한 단계씩")
    expect(page.locator(f"{STAGE} h2")).to_have_text("편향 b1의 기울기")
    expect(why).to_contain_text("17번 셀")
    page.locator("[data-stage-link='da1']").click()
    expect(why).to_contain_text("최대 0.25")
    expect(why).to_contain_text("0.05보다 작거나 0.95보다 크면")  # the health rule's thresholds
    page.select_option("[data-language]", "en")


# -- the numbers ----------------------------------------------------------------------------------


def test_hover_and_focus_show_the_apis_values(
    page: Page, server: Server, traced: dict[str, np.ndarray]
) -> None:
    open_step(page, server, "a1")
    hover_cell(page, "a1", 2, 7)
    assert readout(page, "a1") == (2, 7, traced["a1"][2, 7])
    expect(page.locator(f"{heatmap(page, 'a1')} .heatmap-readout")).to_contain_text("a1[2, 7] = ")
    hover_cell(page, "X", 3, 400)  # an input of the stage: one pixel of the fourth image
    assert readout(page, "X") == (3, 400, traced["X"][3, 400])

    page.click("[data-stage-link='dW2']")
    focus_cell(page, "dW2", 3, 4)
    assert readout(page, "dW2") == (3, 4, traced["dW2"][3, 4])
    # what the row and the column stand for: the weight from hidden neuron 3 to class 4
    dW2 = page.locator(f"{heatmap(page, 'dW2')} .heatmap-readout")
    expect(dW2).to_contain_text("neuron 3 of layer 1 → class 4")

    # a large array (39,200 weights), every value sent in float32: exact too
    page.click("[data-stage-link='update-W1']")
    page.locator(f"{heatmap(page, 'W1')} .heatmap-frame").focus()
    for _ in range(35):
        page.keyboard.press("PageDown")  # ten rows a press
    page.keyboard.press("End")
    assert readout(page, "W1") == (350, 49, traced["W1"][350, 49])


def test_the_gradient_check_shows_the_numerical_derivative_beside_backprop(
    page: Page, server: Server, traced: dict[str, np.ndarray]
) -> None:
    open_step(page, server, "dW2")
    check = page.locator(f"{STAGE} .step-check")
    expect(check).to_have_attribute("data-state", "idle")
    focus_cell(page, "dW2", 3, 4)
    page.keyboard.press("Enter")
    expect(check).to_have_attribute("data-state", "done")
    expect(check).to_have_attribute("data-weight", "W2[3, 4]")
    backprop = float(check.get_attribute("data-backprop") or "nan")
    numerical = float(check.get_attribute("data-numerical") or "nan")
    assert abs(backprop - numerical) <= 1e-6 * abs(backprop)
    assert abs(backprop - traced["dW2"][3, 4]) <= 1e-4 * abs(backprop)  # float64 there, float32 here
    expect(check.locator("[data-agree='true']")).to_have_count(1)
    expect(check).to_contain_text("Backpropagation")
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the picture
    page.screenshot(path=str(SCREENSHOTS / "step-gradient-check.png"), full_page=True)

    # a click on a bias of db1 checks b1 (on the same batch)
    page.click("[data-stage-link='db1']")
    hover_cell(page, "db1", 0, 17)
    page.mouse.down()
    page.mouse.up()
    expect(check).to_have_attribute("data-weight", "b1[17]")
    expect(check).to_have_attribute("data-state", "done")
    assert abs(float(check.get_attribute("data-backprop") or "nan") - traced["db1"][17]) <= 1e-4 * abs(
        traced["db1"][17]
    )


def test_a_drawn_digit_added_to_the_batch_is_a_row_of_x(page: Page, server: Server, run_id: str) -> None:
    open_step(page, server, "X")
    expect(page.locator(f"{heatmap(page, 'X')}")).to_have_attribute("data-rows", "5")
    page.click("[data-step-draw] summary")
    add = page.locator("[data-step-add]")
    expect(add).to_be_disabled()  # nothing drawn, no label yet
    page.locator("[data-step-pad]").scroll_into_view_if_needed()
    stroke(page, ONE, pad="[data-step-pad]")
    page.select_option("[data-step-label]", "1")
    add.click()
    expect(page.locator("[data-step-batch-list] [data-item]")).to_have_count(6)
    expect(page.locator(heatmap(page, "X"))).to_have_attribute("data-rows", "6")
    row = page.locator(f"{STAGE} .step-rows [data-row='5']")
    expect(row).to_have_attribute("data-source", "drawing")
    expect(row).to_contain_text("5: 1")
    page.click("[data-step-pick] summary")  # the gallery of training images, open
    expect(page.locator("[data-step-gallery] button[aria-pressed='true']")).to_have_count(5)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "step-drawn-in-batch.png"), full_page=True)

    # the API, given the same picture, puts the same values in row 5
    image = page.get_attribute("[data-step-batch-list] [data-item^='drawing'] img", "src")
    assert image and image.startswith("data:image/png;base64,")
    arrays = trace(server, run_id, images=[{"image": image, "label": 1}])
    drawn = arrays["X"][5]
    assert drawn.sum() > 20  # ink
    pixel = int(np.argmax(drawn))
    hover_cell(page, "X", 5, pixel)
    assert readout(page, "X") == (5, pixel, drawn[pixel])

    # taken out again: five rows
    page.click("[data-step-batch-list] [data-item^='drawing'] [data-remove]")
    expect(page.locator(heatmap(page, "X"))).to_have_attribute("data-rows", "5")


def test_k_steps_on_the_batch_lower_its_loss(page: Page, server: Server, run_id: str) -> None:
    open_step(page, server, "train")
    expect(page.locator(f"{STAGE} .step-train")).to_have_attribute("data-steps", "5")
    expect(page.locator("[data-chart='step-losses']")).to_have_attribute("data-points", "6")
    page.fill("[data-step-steps]", "8")
    expect(page.locator(f"{STAGE} .step-train")).to_have_attribute("data-steps", "8")
    expect(page.locator("[data-chart='step-losses']")).to_have_attribute("data-points", "9")
    first = page.locator(f"{STAGE} .step-progress tr:nth-child(2) td")
    expect(first).to_have_count(9)
    p = [float(cell.get_attribute("data-p") or "nan") for cell in first.all()]
    assert p[-1] > p[0]  # the right class of image 0 gained probability
    page.fill("[data-step-steps]", "5")


def test_phone_touch_and_width(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console, run_id: str
) -> None:
    phone = context_factory(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = console.listen(phone.new_page())
    open_step(page, server, "dW2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    frame = page.locator(f"{heatmap(page, 'dW2')} .heatmap-frame")
    frame.tap()
    expect(page.locator(f"{STAGE} .step-check")).to_have_attribute("data-state", "done")
    assert readout(page, "dW2")[0] >= 0
    assert console.unexpected() == []


# -- concept help on the other tabs ---------------------------------------------------------------


def test_concept_help_opens_with_the_keyboard_and_links_to_its_stage(
    page: Page, server: Server, run_id: str
) -> None:
    info = server.http.get("/api/info").json()
    health = next(a["health"] for a in info["activations"] if a["name"] == "sigmoid")
    toggle = page.locator("[data-concept-toggle='optimizer']")
    panel = page.locator("[data-concept-panel='optimizer']")
    expect(panel).to_be_hidden()
    expect(toggle).to_have_attribute("aria-label", "What is this: the optimizer?")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(panel.locator("li")).to_have_count(3)
    links = panel.locator("a").evaluate_all("links => links.map((a) => a.getAttribute('href'))")
    assert links == [f"#step/update-W1?for={kind}" for kind in ("sgd", "momentum", "adam")]
    for name in ("batch_size", "epochs", "init", "lr_decay", "momentum"):
        expect(page.locator(f"[data-concept-toggle='{name}']")).to_have_count(1)

    page.click("[data-tab='inside']")
    page.click("[data-concept-toggle='saturation']")
    saturation = page.locator("[data-concept-panel='saturation']")
    expect(saturation).to_contain_text(f"below {health['low']:g} or above {health['high']:g}")
    screenshot(page, "step-concept-saturation-en")

    # the same help in Korean, its numbers still the server's
    page.select_option("[data-language]", "ko")
    expect(page.locator("[data-concept-toggle='saturation']")).to_have_attribute(
        "aria-label", "이것은 무엇인가요: 포화"
    )
    expect(saturation).to_contain_text(f"{health['low']:g}보다 작거나 {health['high']:g}보다 커지면")
    expect(saturation.locator("a")).to_have_text("한 단계씩 보기 →")
    page.click("[data-tab='train']")
    expect(panel).to_contain_text("Adam은")  # still open, now in Korean
    screenshot(page, "step-concept-optimizer-ko")
    page.select_option("[data-language]", "en")
    expect(panel).to_contain_text("Adam gives every weight")
    page.click("[data-tab='draw']")
    page.click("[data-concept-toggle='softmax']")
    page.click("[data-concept-panel='softmax'] a")
    expect(page.locator("[data-tab='step']")).to_have_attribute("aria-selected", "true")
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "y_hat")


# -- every stage, in both languages, light and dark, desktop and phone ------------------------------


SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
UNFILLED = r"/\{\w+\}|\b(step|concept)\.[a-zA-Z]+\.?[a-zA-Z]*\b/"  # a placeholder or a key left as is


@pytest.mark.parametrize(
    ("lang", "scheme", "size"),
    [
        ("en", "light", "desktop"),
        ("ko", "dark", "desktop"),
        ("en", "dark", "phone"),
        ("ko", "light", "phone"),
    ],
)
def test_every_stage_reads_well_in_both_languages_themes_and_sizes(
    server: Server,
    context_factory: Callable[..., BrowserContext],
    console: Console,
    run_id: str,
    lang: str,
    scheme: str,
    size: str,
) -> None:
    """Each stage: its texts filled in the language (no key, no {placeholder}), no sideways
    scrolling; a screenshot of each in artifacts/screenshots/step/."""
    mobile = size == "phone"
    context = context_factory(
        viewport=SIZES[size],
        color_scheme=scheme,
        locale="ko-KR" if lang == "ko" else "en-US",
        has_touch=mobile,
        is_mobile=mobile,
    )
    page = console.listen(context.new_page())
    open_step(page, server)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    folder = SCREENSHOTS / "step"
    folder.mkdir(parents=True, exist_ok=True)
    for i, stage in enumerate(STAGES):
        if i:
            page.locator("[data-step-next]").click()
        expect(page.locator(STAGE)).to_have_attribute("data-stage", stage)
        text = page.locator("[data-panel='step']").inner_text()
        assert not page.evaluate(f"(text) => {UNFILLED}.test(text)", text), f"{stage}: {text[:2000]}"
        if lang == "ko":  # the stage's explanation is Korean
            assert page.evaluate(
                r"() => /[\uac00-\ud7a3]/.test(document.querySelector('.step-why').innerText)"
            )
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= SIZES[size]["width"], f"{stage} is {width}px wide"
        page.screenshot(path=str(folder / f"{lang}-{scheme}-{size}-{i:02d}-{stage}.png"), full_page=True)
    assert console.unexpected() == []


# -- another optimizer (last: from here on the newest run trains with Adam) --------------------------


def test_the_concept_links_adam_update_to_an_adam_run_and_its_moments(
    page: Page, server: Server, run_id: str
) -> None:
    stop_active(server)
    adam = start_run(server, preset="notebook-adam", epochs=1)
    wait_run(server, adam, lambda r: r["status"] in FINISHED)
    page.goto(f"{server.url}/#train")
    page.click("[data-concept-toggle='optimizer']")
    page.click("[data-concept-panel='optimizer'] li:nth-child(3) a")
    expect(page.locator(STAGE)).to_have_attribute("data-stage", "update-W1")
    expect(page.locator("[data-step-about]")).to_contain_text(adam)  # the newest run: the Train tab's
    expect(page.locator("[data-step-note]")).to_be_hidden()
    expect(page.locator(f"{STAGE} h2")).to_have_text("The update of W1 (Adam)")
    for name in ("W1 before", "dW1", "m_W1", "v_W1", "step_W1"):
        expect(page.locator(heatmap(page, name))).to_have_count(1)
    expect(page.locator(f"{STAGE} .step-why")).to_contain_text("bias corrections")
    expect(page.locator(f"{STAGE} .step-facts")).to_contain_text("np.sqrt(v_hat)")
    # Adam's first step moves each weight by about lr, whatever its gradient: the step's map says so
    lr = server.http.get(f"/api/runs/{adam}").json()["config"]["optimizer"]["lr"]
    scale = float(
        page.locator(f"{heatmap(page, 'step_W1')} .heatmap-legend > span:nth-child(3)").inner_text()
    )
    assert 0.5 * lr <= scale <= 1.5 * lr
    page.screenshot(path=str(SCREENSHOTS / "step-adam-update.png"), full_page=True)

    # the SGD link, while the Train tab shows the Adam run: the SGD run is picked for it
    page.goto(f"{server.url}/#step/update-W1?for=sgd")
    expect(page.locator("[data-step-run]")).to_have_value(run_id)
    expect(page.locator("[data-step-about]")).to_contain_text(run_id)
    expect(page.locator(f"{STAGE} h2")).to_have_text("The update of W1 (SGD)")
    expect(page.locator(heatmap(page, "m_W1"))).to_have_count(0)
