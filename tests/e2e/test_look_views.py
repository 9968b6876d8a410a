"""The views of the Look inside tab beyond its overview, in a real browser against a real server: the
hidden space, what each unit wants, and the coach."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.browser import (
    FINISHED,
    ONE,
    ZERO,
    open_dashboard,
    open_inside,
    record_attribute,
    recorded,
    screenshot,
    start_run,
    stop_active,
    stroke,
    wait_run,
)
from tests.e2e.conftest import Console
from tests.support import Server

SPACE = "[data-look-view='space']"
WANTS = "[data-look-view='wants']"
COACH = "[data-look-view='coach']"


@pytest.fixture(scope="module")
def runs(server: Server) -> dict[str, str]:
    """Two finished runs, trained at once: a healthy notebook-adam (2 epochs) and notebook-sgd at lr 5,
    which saturates its sigmoid units and takes steps far too large."""
    stop_active(server)
    made = {
        "healthy": start_run(server, preset="notebook-adam", epochs=2),
        "provoked": start_run(server, preset="notebook-sgd", lr=5, epochs=2),
    }
    for run_id in made.values():
        wait_run(server, run_id, lambda run: run["status"] in FINISHED, timeout=180)
    return made


def open_look(page: Page, run_id: str, view: str) -> None:
    """The Look inside tab on ``run_id`` (picked in its list), showing one of its views."""
    open_inside(page, run_id)
    page.click(f"[data-look-tab='{view}']")
    expect(page.locator("[data-panel='inside']")).to_have_attribute("data-look", view)
    if view != "overview":
        expect(page.locator(f"[data-look-view='{view}']")).to_be_visible()


def embedding(server: Server, run_id: str, epoch: int, view: str = "readout") -> dict[str, Any]:
    response = server.http.get(f"/api/runs/{run_id}/embedding", params={"epoch": epoch, "view": view})
    assert response.status_code == 200, response.text
    return dict(response.json())


def percent(value: float, digits: int) -> str:
    """A share as the page writes it: Chromium rounds the shortest decimal form, halves up."""
    shown = (Decimal(repr(value)) * 100).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return f"{shown}%"


def first_point(page: Page) -> tuple[float, float]:
    x, y = (page.get_attribute(SPACE, "data-first") or ",").split(",")
    return float(x), float(y)


def expect_epoch(page: Page, server: Server, run_id: str, epoch: int, view: str = "readout") -> None:
    """The space shows ``epoch``: its 2,000 points where the API puts them, its separation the API's."""
    expect(page.locator(SPACE)).to_have_attribute("data-epoch", str(epoch))
    expect(page.locator(SPACE)).to_have_attribute("data-view", view)
    data = embedding(server, run_id, epoch, view)
    assert page.get_attribute(SPACE, "data-points") == str(len(data["x"])) == "2000"
    assert first_point(page) == (data["x"][0], data["y"][0])
    separation = dict(zip(data["separation_epochs"], data["separation"], strict=True))[epoch]
    assert float(page.get_attribute(SPACE, "data-separation") or "nan") == separation
    expect(page.locator("[data-space-separation]")).to_contain_text(percent(separation, 1))


# -- the hidden space ---------------------------------------------------------------------------------


def test_the_hidden_space_follows_a_run_live(page: Page, server: Server, runs: dict[str, str]) -> None:
    """Epochs of a training run appear as they are saved (a small run, held paused until the page looks)."""
    run_id = start_run(server, preset="notebook-adam", epochs=2, train_size=500, pace="step")
    wait_run(server, run_id, lambda run: run["status"] == "paused")
    open_look(page, run_id, "space")
    expect_epoch(page, server, run_id, 0)
    record_attribute(page, SPACE, "data-epoch")
    assert server.http.post(f"/api/runs/{run_id}/resume").status_code == 200
    wait_run(server, run_id, lambda run: run["status"] in FINISHED)
    expect_epoch(page, server, run_id, 2)
    expect(page.locator("[data-space-epoch]")).to_have_attribute("max", "2")
    shown = [value for value in recorded(page, SPACE, "data-epoch") if value]
    assert shown[0] == "0" and shown[-1] == "2"


def test_the_hidden_space_moves_with_the_slider_and_play_and_marks_the_drawing(
    page: Page, server: Server, runs: dict[str, str]
) -> None:
    run_id = runs["healthy"]
    page.click("[data-tab='draw']")
    stroke(page, ONE)
    expect(page.locator("[data-panel='draw']")).to_have_attribute("data-predicted", re.compile(r"\d"))
    drawn = page.eval_on_selector("[data-pad]", "(pad) => pad.toDataURL('image/png')")

    open_look(page, run_id, "space")
    expect_epoch(page, server, run_id, 2)

    # the drawing lands where the API's plane puts its last hidden layer: (h - mean) @ basis
    expect(page.locator(SPACE)).not_to_have_attribute("data-mark", "")
    answer = server.http.post(
        "/api/predict", json={"image": drawn, "run_id": run_id, "epoch": 2, "explain": True}
    ).json()
    plane = embedding(server, run_id, 2)
    expected = (np.asarray(answer["activations"][-2]) - plane["mean"]) @ np.asarray(plane["basis"])
    mark = [float(v) for v in (page.get_attribute(SPACE, "data-mark") or "").split(",")]
    assert np.allclose(mark, expected, rtol=1e-9, atol=1e-9)
    expect(page.locator("[data-space-drawing]")).to_contain_text(f"the network says {answer['label']}")

    # the slider goes back to the random start; play moves through every epoch to the latest
    slider = page.locator("[data-space-epoch]")
    slider.focus()
    page.keyboard.press("Home")
    expect_epoch(page, server, run_id, 0)
    record_attribute(page, SPACE, "data-epoch")
    page.click("[data-space-play]")
    expect(page.locator(SPACE)).to_have_attribute("data-playing", "false", timeout=30_000)
    expect_epoch(page, server, run_id, 2)
    shown = [value for value in recorded(page, SPACE, "data-epoch") if value]
    assert [value for i, value in enumerate(shown) if i == 0 or value != shown[i - 1]] == ["0", "1", "2"]

    # pointing at a dot shows its digit; a click keeps it, with what the network says of it
    box = page.locator("[data-space-canvas]").bounding_box()
    assert box is not None
    x, y = (float(v) for v in (page.get_attribute(SPACE, "data-first-at") or ",").split(","))
    page.mouse.move(box["x"] + x, box["y"] + y)
    tip = page.locator("[data-space-tip]")
    expect(tip).to_be_visible()
    index = int(tip.get_attribute("data-index") or -1)
    labels = dict(zip(plane["indices"], plane["labels"], strict=True))
    assert tip.get_attribute("data-label") == str(labels[index])
    expect(tip).to_contain_text("the network says")
    page.mouse.click(box["x"] + x, box["y"] + y)
    picked = page.locator("[data-space-picked]")
    expect(picked).to_have_attribute("data-index", str(index))
    expect(picked).to_contain_text(f"Test image {index:,}: {labels[index]}")

    # the other view, and one class picked out
    page.click("[data-space-views] [data-view='plain']")
    expect_epoch(page, server, run_id, 2, "plain")
    page.click("[data-space-legend] [data-class='4']")
    expect(page.locator("[data-space-legend] [data-class='4']")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "look-space")


# -- what each unit wants -----------------------------------------------------------------------------


def test_what_each_unit_wants_beside_its_weights_and_its_top_digits(
    page: Page, server: Server, runs: dict[str, str]
) -> None:
    run_id = runs["healthy"]
    open_look(page, run_id, "wants")
    units = page.locator("[data-wants] [data-unit]")
    expect(units).to_have_count(32)  # the first page of the 50 hidden units
    expect(page.locator(WANTS)).to_have_attribute("data-epoch", "2")
    expect(page.locator("[data-wants-layer] option")).to_have_text(
        ["Hidden layer 1 (50 neurons, sigmoid)", "Output (10 classes)"]
    )
    expect(units.first.locator("canvas[data-kind='weights']")).to_have_count(1)  # beside its weights
    inked = page.eval_on_selector_all(
        "[data-wants] canvas[data-kind='wants']",
        """(images) => images.filter((c) => c.getContext('2d').getImageData(0, 0, 28, 28).data
            .some((v, i) => i % 4 === 0 && v > 0)).length""",
    )
    assert inked == 32

    wants = server.http.get(f"/api/runs/{run_id}/wants", params={"epoch": 2, "layer": 0, "limit": 32}).json()
    units.nth(3).click()
    expect(units.nth(3)).to_have_attribute("aria-pressed", "true")
    top = page.locator("[data-wants-top-gallery] figure")
    expect(top).to_have_count(8)
    assert top.evaluate_all("(figures) => figures.map((f) => Number(f.dataset.index))") == wants["top"][3]
    expect(page.locator("[data-wants-top-title]")).to_have_text("The test digits that excite neuron 3 most")

    page.click("[data-wants-next]")
    expect(units).to_have_count(18)
    expect(units.first).to_have_attribute("data-unit", "32")

    page.select_option("[data-wants-layer]", "1")  # the output layer: one unit per class
    expect(units).to_have_count(10)
    expect(units.first.locator("canvas[data-kind='weights']")).to_have_count(0)
    expect(page.locator("[data-wants] .wants-caption")).to_have_text([f"class {n}" for n in range(10)])
    page.check("[data-wants-smooth]")
    expect(page.locator(WANTS)).to_have_attribute("data-tv", "20")
    expect(page.locator(WANTS)).to_have_attribute("data-loading", "false")
    expect(units).to_have_count(10)
    screenshot(page, "look-wants")


# -- the coach ----------------------------------------------------------------------------------------


def coach(server: Server, run_id: str) -> list[dict[str, Any]]:
    return list(server.http.get(f"/api/runs/{run_id}/coach").json()["advice"])


def test_the_coach_says_what_is_wrong_in_english_and_korean(
    page: Page, server: Server, runs: dict[str, str]
) -> None:
    advice = {item["code"]: item for item in coach(server, runs["provoked"])}
    assert {"lr_too_high", "saturated"} <= set(advice)
    open_look(page, runs["provoked"], "coach")
    items = page.locator("[data-coach-list] [data-code]")
    expect(items).to_have_count(len(advice))
    expect(page.locator("[data-coach-count]")).to_have_text(str(len(advice)))
    high = page.locator("[data-coach-list] [data-code='lr_too_high']")
    expect(high.locator(".coach-finding")).to_have_text(advice["lr_too_high"]["finding"])
    expect(high.locator(".coach-advice")).to_have_text("Try a learning rate of 0.5.")
    rows = high.locator("tbody tr")
    expect(rows).to_have_count(len(advice["lr_too_high"]["evidence"]))
    expect(rows.first.locator("td").last).to_have_text(re.compile(r"^(Hidden layer 1 \(50 neurons|Output)"))
    saturated = page.locator("[data-coach-list] [data-code='saturated']")
    share = advice["saturated"]["params"]["share"]
    expect(saturated.locator(".coach-finding")).to_contain_text(f"{share:.0%} of the sigmoid units")
    expect(saturated.locator("tbody tr[data-measure='saturated'] td").first).to_have_text(percent(share, 1))
    screenshot(page, "look-coach")

    page.select_option("[data-language]", "ko")
    expect(high.locator(".coach-finding")).to_have_text(re.compile(r"^학습률 5은\(는\) 너무 높습니다"))
    expect(high.locator(".coach-advice")).to_have_text("학습률을 0.5(으)로 해 보세요.")
    expect(saturated.locator(".coach-finding")).to_contain_text(f"시그모이드 뉴런 출력의 {percent(share, 0)}")
    expect(saturated.locator("tbody th").first).to_have_text("포화된 활성값")
    expect(high.locator("[data-coach-try]")).to_have_text("해 보기")
    screenshot(page, "look-coach-ko")
    page.select_option("[data-language]", "en")

    # a healthy run: one calm line, nothing to try
    assert coach(server, runs["healthy"]) == []
    page.select_option("[data-inside-run]", runs["healthy"])
    state = page.locator("[data-coach-state]")
    expect(state).to_have_attribute("data-healthy", "true")
    expect(state).to_have_text(re.compile(r"^Nothing looks wrong after epoch 2"))
    expect(items).to_have_count(0)
    expect(page.locator("[data-coach-count]")).to_be_hidden()


def test_try_it_races_the_suggested_change_beside_the_original(
    page: Page, server: Server, runs: dict[str, str]
) -> None:
    assert server.http.get("/api/info").json()["limits"]["max_active_runs"] > 1  # so: a race
    original = server.http.get(f"/api/runs/{runs['provoked']}").json()
    open_look(page, runs["provoked"], "coach")
    page.click("[data-coach-list] [data-code='lr_too_high'] [data-coach-try]")
    started = page.locator("[data-coach-started]")
    expect(started).to_be_visible()
    ids = (started.get_attribute("data-runs") or "").split()
    assert len(ids) == 2
    first, second = (server.http.get(f"/api/runs/{run_id}").json() for run_id in ids)
    assert first["race_id"] is not None and first["race_id"] == second["race_id"]
    assert first["config"]["optimizer"]["lr"] == 5
    assert second["config"]["optimizer"]["lr"] == 0.5
    for key in ("model", "batch_size", "epochs", "seed", "dataset"):
        assert first["config"][key] == second["config"][key] == original["config"][key], key
    # the two configs differ by the advised change and nothing else
    advised = {item["code"]: item for item in coach(server, runs["provoked"])}["lr_too_high"]["changes"]
    assert advised == {"lr": second["config"]["optimizer"]["lr"]}
    mine, theirs = dict(first["config"]), dict(second["config"])
    mine["optimizer"] = {**mine["optimizer"], "lr": None}
    theirs["optimizer"] = {**theirs["optimizer"], "lr": None}
    assert mine == theirs
    page.click("[data-tab='train']")
    expect(page.locator("[data-run-name]")).to_contain_text(ids[1])  # the new settings are followed
    stop_active(server)


# -- where it looked: saliency on the drawing -----------------------------------------------------

SALIENCY = "[data-saliency]"


def hover_cell(page: Page, index: int) -> None:
    box = page.locator("[data-saliency-canvas]").bounding_box()
    assert box is not None
    row, col = divmod(index, 28)
    page.mouse.move(box["x"] + (col + 0.5) * box["width"] / 28, box["y"] + (row + 0.5) * box["height"] / 28)
    tip = page.locator("[data-saliency-tip]")
    expect(tip).to_be_visible()
    expect(tip).to_have_attribute("data-cell", f"{row},{col}")


def explained(server: Server, image: str, run_id: str, target: int | None = None) -> dict[str, Any]:
    body = {"image": image, "run_id": run_id, "epoch": 2, "explain": True}
    response = server.http.post("/api/predict", json=body if target is None else {**body, "target": target})
    assert response.status_code == 200, response.text
    return dict(response.json())


def pad_image(page: Page) -> str:
    return str(page.eval_on_selector("[data-pad]", "(pad) => pad.toDataURL('image/png')"))


def test_saliency_on_the_drawing_per_class_and_erase_where_it_looked(
    page: Page, server: Server, runs: dict[str, str]
) -> None:
    run_id = runs["healthy"]
    page.click("[data-tab='draw']")
    page.wait_for_function(
        "(id) => [...document.querySelectorAll('[data-model-choice] option')].some((o) => o.value === id)",
        arg=run_id,
    )
    page.select_option("[data-model-choice]", run_id)
    stroke(page, ZERO)
    box = page.locator(SALIENCY)
    expect(box).to_be_visible()
    answer = explained(server, pad_image(page), run_id)
    expect(box).to_have_attribute("data-target", str(answer["digit"]))
    expect(box).to_have_attribute("data-loading", "false")

    # the gradient: the hovered cell's value and the scale's ends are the API's
    gradient = np.asarray(answer["saliency"]["gradient"])
    cell = int(np.argmax(np.abs(gradient)))
    hover_cell(page, cell)
    assert float(page.get_attribute("[data-saliency-tip]", "data-value") or "nan") == gradient[cell]
    assert float(page.get_attribute(SALIENCY, "data-scale") or "nan") == np.abs(gradient).max()
    screenshot(page, "look-saliency")

    # integrated gradients: the values, and their sum set against the score minus the blank's
    page.click("[data-saliency-mode='integrated']")
    expect(box).to_have_attribute("data-mode", "integrated")
    integrated = np.asarray(answer["saliency"]["integrated"])
    inked = int(np.argmax(integrated))
    hover_cell(page, inked)
    assert float(page.get_attribute("[data-saliency-tip]", "data-value") or "nan") == integrated[inked]
    expect(page.locator("[data-saliency-sum]")).to_contain_text("the blank image")

    # another class on demand: press its bar
    other = int(np.argsort(answer["probabilities"])[-2])
    page.click(f"[data-probs] li[data-class='{other}'] .prob-label")
    expect(box).to_have_attribute("data-target", str(other))
    expect(page.locator(f"[data-probs] li[data-class='{other}']")).to_have_attribute("data-explained", "true")
    expect(page.locator("[data-saliency-target]")).to_have_value(str(other))
    theirs = np.asarray(explained(server, pad_image(page), run_id, other)["saliency"]["integrated"])
    assert not np.allclose(theirs, integrated)
    strongest = int(np.argmax(np.abs(theirs)))
    hover_cell(page, strongest)
    assert float(page.get_attribute("[data-saliency-tip]", "data-value") or "nan") == theirs[strongest]

    # back to the answer, then erase where it looked: the answer is asked again, its score falls
    page.select_option("[data-saliency-target]", "")
    expect(box).to_have_attribute("data-target", str(answer["digit"]))
    before = pad_image(page)
    page.click("[data-saliency-erase]")
    expect(box).to_have_attribute("data-erased", re.compile(r"^\d+$"))
    after = pad_image(page)
    assert after != before
    fresh = explained(server, after, run_id, answer["digit"])
    assert fresh["logits"][answer["digit"]] < answer["logits"][answer["digit"]]
    assert not np.allclose(fresh["probabilities"], answer["probabilities"])
    expect(page.locator("[data-probs] .prob-value")).to_have_text(
        [percent(p, 1) for p in fresh["probabilities"]]
    )
    expect(page.locator("[data-panel='draw']")).to_have_attribute("data-predicted", str(fresh["digit"]))
    expect(page.locator("[data-saliency-erased]")).to_contain_text(f"now: {fresh['label']}")
    screenshot(page, "look-saliency-erased")


# -- phones, Korean, dark -----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_view_on_a_phone(
    server: Server,
    context_factory: Callable[..., BrowserContext],
    console: Console,
    runs: dict[str, str],
    scheme: str,
) -> None:
    context = context_factory(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, color_scheme=scheme
    )
    phone = console.listen(context.new_page())
    open_dashboard(phone, server)
    heights = {}
    for view, run_id, ready in (
        ("overview", runs["healthy"], "[data-weights] canvas"),
        ("space", runs["healthy"], f"{SPACE}[data-epoch='2']"),
        ("wants", runs["healthy"], f"{WANTS}[data-units='32']"),
        ("coach", runs["provoked"], f"{COACH}[data-read='2']"),
    ):
        open_look(phone, run_id, view)
        phone.wait_for_selector(ready)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the {view} view is {width}px wide"
        heights[view] = phone.evaluate("document.documentElement.scrollHeight")
        screenshot(phone, f"look-{view}-phone-{scheme}")
    # sectioned: each view, the overview's folded cards too, well below the ~10,900 px of one long page
    assert max(heights.values()) < 4000, heights

    # the overview on a phone: one card open at a time; a tap on a title opens it and folds the other
    phone.locator("[data-look-tab='overview']").tap()
    cards = phone.locator("[data-panel='inside'] .inside-col > .card")
    expect(cards.first).to_have_attribute("data-folded", "false")
    expect(cards.nth(1)).to_have_attribute("data-folded", "true")
    expect(phone.locator("[data-test-gallery]")).to_be_hidden()
    phone.locator("#digit-title").tap()
    expect(phone.locator("#digit-title")).to_have_attribute("aria-expanded", "true")
    expect(cards.first).to_have_attribute("data-folded", "true")
    expect(phone.locator("[data-test-gallery] button").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollHeight") < 4000
    tap = phone.locator("[data-look-tab='space']")
    tap.tap()
    expect(tap).to_have_attribute("aria-selected", "true")
    assert console.unexpected() == []
