"""The Look inside tab in a real browser against a real server training on the real MNIST."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.browser import (
    FINISHED,
    ONE,
    SCREENSHOTS,
    change_run,
    open_dashboard,
    open_inside,
    screenshot,
    start_run,
    stop_active,
    stroke,
    wait_attribute_above,
    wait_run,
)
from tests.e2e.conftest import Console
from tests.support import Server

WEIGHTS = "[data-weights-card]"
CELLS = "[data-confusion] button[data-true]"
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag"]


@pytest.fixture(scope="module")
def adam5(server: Server) -> str:
    """A finished 5-epoch notebook-adam run: the network the notebook ends with."""
    stop_active(server)
    run_id = start_run(server, preset="notebook-adam", epochs=5)
    wait_run(server, run_id, lambda run: run["status"] in FINISHED, timeout=120)
    return run_id


def shot(page: Page, locator: Locator, name: str) -> None:
    """A screenshot of one element, in a viewport tall enough that the sticky header stays clear."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    assert size is not None
    page.set_viewport_size({"width": size["width"], "height": 2400})
    page.evaluate("window.scrollTo(0, 0)")
    locator.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def open_loaded(page: Page, run_id: str) -> None:
    """The Look inside tab on ``run_id`` (picked in its list), its latest epoch loaded."""
    open_inside(page, run_id)
    expect(page.locator(CELLS)).to_have_count(100)


def painted_tiles(page: Page) -> int:
    """Weight images with at least one pixel that is not white (the colour of a zero weight)."""
    return int(
        page.evaluate(
            """() => [...document.querySelectorAll('[data-weights] canvas')].filter((c) => {
                const data = c.getContext('2d').getImageData(0, 0, 28, 28).data;
                for (let i = 0; i < data.length; i += 4) {
                    if (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250) return true;
                }
                return false;
            }).length"""
        )
    )


def confusion_counts(page: Page) -> list[list[int]]:
    counts = page.eval_on_selector_all(CELLS, "cells => cells.map((c) => Number(c.dataset.count))")
    return [counts[i * 10 : (i + 1) * 10] for i in range(10)]


def health_points(page: Page, chart: str) -> float:
    return float(page.get_attribute(f"[data-chart='{chart}']", "data-points") or 0)


# -- live ---------------------------------------------------------------------------------------------


def test_every_panel_renders_live_during_a_run(page: Page, server: Server) -> None:
    stop_active(server)
    run_id = start_run(server, preset="notebook-sgd", epochs=60)
    wait_run(server, run_id, lambda run: run["epochs_done"] >= 2)
    # then about 20 s an epoch: the live weights (every second) are not overtaken by new epochs
    change_run(server, run_id, pace="watchable")
    page.click("[data-tab='inside']")
    panel = page.locator("[data-panel='inside']")
    expect(panel).to_have_attribute("data-run", run_id)  # the followed run by default
    expect(page.locator("[data-inside-about]")).to_contain_text("MNIST digits")

    # what each hidden neuron looks for: 50 images, redrawn live with the step they are from
    expect(page.locator("[data-weights] canvas")).to_have_count(50)
    expect(page.locator(WEIGHTS)).to_have_attribute("data-live", "true")
    assert painted_tiles(page) == 50
    live_label = re.compile(r"Live: epoch \d+ in progress, step")
    expect(page.locator("[data-weights-when]")).to_contain_text(live_label)
    step = float(page.get_attribute(WEIGHTS, "data-step") or 0)
    wait_attribute_above(page, WEIGHTS, "data-step", step)

    # layer health follows the epochs: 0 (the random start), 1, 2, ...
    wait_attribute_above(page, "[data-chart='update-ratio']", "data-points", 2)
    epochs = int(page.get_attribute("[data-panel='inside']", "data-epoch") or 0)
    assert health_points(page, "weight-rms") >= epochs + 1
    expect(page.locator("[data-histograms] figure")).to_have_count(8)  # W and b of 2 layers, x2

    # where it goes wrong: the whole test set in 100 cells; a cell opens its images
    expect(page.locator(CELLS)).to_have_count(100)
    counts = confusion_counts(page)
    assert sum(map(sum, counts)) == 10_000
    true, predicted = max(
        ((i, j) for i in range(10) for j in range(10) if i != j), key=lambda cell: counts[cell[0]][cell[1]]
    )
    assert counts[true][predicted] > 0
    page.click(f"{CELLS}[data-true='{true}'][data-predicted='{predicted}']")
    cell_images = page.locator("[data-cell-gallery] figure")
    expect(cell_images.first).to_be_visible()
    assert 0 < cell_images.count() <= 60  # (its count may change with each new epoch)
    expect(cell_images.first).to_have_attribute("data-true", str(true))
    expect(cell_images.first).to_have_attribute("data-predicted", str(predicted))

    mistakes = page.locator("[data-mistakes] figure")
    expect(mistakes).to_have_count(40)
    expect(mistakes.first.locator(".example-wrong")).to_contain_text("→")

    # the network on one test digit: every layer and the softmax with the winner marked
    page.locator("[data-test-gallery] button").first.click()
    expect(page.locator("[data-digit-layers] [data-layer]")).to_have_count(1)
    expect(page.locator("[data-digit-layers] [data-layer]")).to_have_attribute("data-units", "50")
    expect(page.locator("[data-digit-probs] li")).to_have_count(10)
    winner = page.locator("[data-digit-probs] li[data-winner]")
    expect(winner).to_have_count(1)
    expect(page.locator("[data-contributions] li")).to_have_count(8)
    stop_active(server)


def test_one_cell_shows_exactly_its_images(page: Page, server: Server, adam5: str) -> None:
    open_loaded(page, adam5)
    counts = confusion_counts(page)
    assert sum(map(sum, counts)) == 10_000
    cells = [(counts[i][j], i, j) for i in range(10) for j in range(10) if i != j and 0 < counts[i][j] <= 60]
    count, true, predicted = max(cells)
    cell = page.locator(f"{CELLS}[data-true='{true}'][data-predicted='{predicted}']")
    cell.focus()
    page.keyboard.press("Enter")  # cells are buttons
    expect(page.locator("[data-cell-gallery] figure")).to_have_count(count)
    expect(cell).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-cell-title]")).to_contain_text(f"{count} images")
    shot(page, page.locator(".confusion-card"), "inside-confusion")


# -- epochs -------------------------------------------------------------------------------------------


def test_epoch_slider_shows_the_random_start_and_the_trained_net(page: Page, adam5: str) -> None:
    open_loaded(page, adam5)
    slider = page.locator("[data-inside-epoch]")
    expect(slider).to_have_attribute("max", "5")
    expect(page.locator(WEIGHTS)).to_have_attribute("data-shown-epoch", "5")
    for chart in ("update-ratio", "flat", "weight-rms"):
        expect(page.locator(f"[data-chart='{chart}']")).to_have_attribute("data-points", "6")  # epochs 0..5

    slider.focus()
    page.keyboard.press("Home")
    expect(page.locator(WEIGHTS)).to_have_attribute("data-shown-epoch", "0")
    expect(page.locator("[data-weights-when]")).to_have_text("Epoch 0: the random start")
    expect(page.locator("[data-confusion-summary]")).to_contain_text("Epoch 0")
    assert painted_tiles(page) == 50
    screenshot(page, "inside-weights-epoch0")

    page.keyboard.press("End")
    expect(page.locator(WEIGHTS)).to_have_attribute("data-shown-epoch", "5")
    expect(page.locator("[data-weights-when]")).to_have_text("After epoch 5")
    expect(page.locator("[data-confusion-summary]")).to_contain_text("Epoch 5")
    screenshot(page, "inside-weights-epoch5")
    shot(page, page.locator(".health-card"), "inside-health")


def test_the_network_on_a_test_digit_and_on_a_drawing(page: Page, adam5: str) -> None:
    open_loaded(page, adam5)
    expect(page.locator("[data-test-gallery] button")).to_have_count(24)
    page.click("[data-gallery-next]")
    expect(page.locator("[data-gallery-range]")).to_contain_text("images 25\N{EN DASH}48")
    first = page.locator("[data-test-gallery] button").first
    expect(first).to_have_attribute("data-index", "24")
    label = first.get_attribute("data-true")
    first.click()
    expect(first).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-digit-probs] li[data-winner]")).to_have_attribute("data-class", str(label))
    expect(page.locator("[data-digit-answer]")).to_contain_text(f"the right answer is {label}")
    expect(page.locator("[data-contributions] li canvas")).to_have_count(8)  # each unit's weights
    shot(page, page.locator("[data-digit-card]"), "inside-digit")

    page.click("[data-tab='draw']")
    stroke(page, ONE)
    expect(page.locator("[data-panel='draw']")).to_have_attribute("data-predicted", "1")
    page.click("[data-tab='inside']")
    page.click("[data-use-drawing]")
    expect(page.locator("[data-digit-probs] li[data-winner]")).to_have_attribute("data-class", "1")
    expect(page.locator("[data-digit-answer]")).to_have_text(re.compile(r"^The network says 1 "))


def test_a_test_digit_shows_where_the_network_looked(page: Page, server: Server, adam5: str) -> None:
    open_loaded(page, adam5)
    first = page.locator("[data-test-gallery] button").first
    first.click()
    figure = page.locator("[data-digit-saliency]")
    expect(figure).to_be_visible()
    expect(figure).not_to_have_attribute("data-scale", "")
    pixels = server.http.get("/api/datasets/mnist/test", params={"offset": 0, "limit": 1}).json()
    assert pixels["offset"] == 0
    values = list(base64.b64decode(pixels["pixels"]))
    answer = server.http.post(
        "/api/predict", json={"pixels": [v / 255 for v in values], "run_id": adam5, "explain": True}
    ).json()
    expected = max(abs(v) for v in answer["saliency"]["integrated"])
    assert float(figure.get_attribute("data-scale") or 0) == pytest.approx(expected, rel=1e-6)
    assert figure.get_attribute("data-target") == str(answer["digit"])
    expect(page.locator("[data-digit-saliency-caption]")).to_contain_text(
        f"Where it looked for {answer['label']}"
    )
    page.select_option("[data-language]", "ko")
    expect(page.locator("[data-digit-saliency-caption]")).to_contain_text("찾으며 본 곳")
    page.select_option("[data-language]", "en")
    shot(page, page.locator("[data-digit-card]"), "inside-digit-saliency")


# -- fashion, language, themes, sizes -----------------------------------------------------------------


def test_fashion_mnist_uses_its_class_names(page: Page, server: Server, adam5: str) -> None:
    stop_active(server)
    run_id = start_run(server, preset="notebook-adam", epochs=1, dataset="fashion-mnist")
    wait_run(server, run_id, lambda run: run["status"] in FINISHED, timeout=120)
    open_loaded(page, run_id)
    expect(page.locator("[data-inside-about]")).to_contain_text("Fashion-MNIST")
    expect(page.locator("[data-confusion] thead th.col-head")).to_have_text([*FASHION, "Ankle boot"])
    expect(page.locator("[data-mistakes] figure .example-true").first).to_have_text(
        re.compile("|".join(re.escape(name) for name in [*FASHION, "Ankle boot"]))
    )
    expect(page.locator("[data-test-gallery] button span").first).to_have_text("Ankle boot")  # test image 0
    page.locator("[data-test-gallery] button").first.click()
    expect(page.locator("[data-digit-probs] li .prob-label")).to_have_text([*FASHION, "Ankle boot"])
    shot(page, page.locator("[data-panel='inside']"), "inside-fashion")
    page.click("[data-tab='train']")
    expect(page.locator("[data-run-dataset]")).to_have_text("Fashion-MNIST clothes")


def test_keyboard_and_korean(page: Page, adam5: str) -> None:
    page.click("[data-tab='history']")
    page.keyboard.press("ArrowRight")  # the tabs are a keyboard-navigable tablist
    expect(page.locator("[data-tab='inside']")).to_have_attribute("aria-selected", "true")
    assert page.evaluate("location.hash") == "#inside"
    open_loaded(page, adam5)

    page.select_option("[data-language]", "ko")
    expect(page.locator("[data-tab='inside']")).to_have_text("들여다보기")
    expect(page.locator("#weights-title")).to_have_text("은닉 뉴런 하나하나가 찾는 것")
    expect(page.locator("[data-confusion-summary]")).to_contain_text("에폭 5")
    page.locator("[data-inside-epoch]").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("[data-weights-when]")).to_have_text("에폭 4 후")
    expect(page.locator(CELLS).first).to_have_attribute("aria-label", re.compile("^정답 0, 예측 0"))
    page.locator("[data-test-gallery] button").nth(1).click()
    expect(page.locator("[data-digit-answer]")).to_contain_text("신경망의 답")
    page.select_option("[data-language]", "en")


def test_dark_theme_and_phone(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console, adam5: str
) -> None:
    dark = console.listen(context_factory(color_scheme="dark").new_page())
    open_dashboard(dark, server, "inside")
    open_loaded(dark, adam5)
    dark.locator("[data-test-gallery] button").first.click()
    expect(dark.locator("[data-digit-probs] li[data-winner]")).to_have_count(1)
    dark.evaluate("window.scrollTo(0, 0)")
    screenshot(dark, "inside-dark")

    phone = console.listen(
        context_factory(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True).new_page()
    )
    open_dashboard(phone, server, "inside")
    open_loaded(phone, adam5)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the Look inside tab is {width}px wide"
    screenshot(phone, "inside-phone")
    assert console.unexpected() == []
