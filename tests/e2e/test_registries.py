"""The page builds itself from GET /api/info: the form from the settings, labels and rules from the
registries (activations, datasets, statuses, reasons), in English and Korean."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.browser import FINISHED, open_dashboard, screenshot, start_run, stop_active, wait_run
from tests.e2e.conftest import Console
from tests.support import Server

LONG_RUN = {"preset": "notebook-sgd", "epochs": 60}
FIELD = re.compile(r"\{(\w+)[^}]*\}")  # a template's {name} or {name:.4g}


@pytest.fixture(scope="module")
def info(server: Server) -> dict[str, Any]:
    response = server.http.get("/api/info")
    assert response.status_code == 200
    return dict(response.json())


def settings_in(page: Page, selector: str) -> list[str]:
    names = page.eval_on_selector_all(
        f"{selector} [data-setting]", "els => els.map((e) => e.dataset.setting)"
    )
    return list(names)


def dictionaries(page: Page) -> dict[str, dict[str, str | None]]:
    return dict(page.evaluate("async () => (await import('/js/i18n.js')).dictionaries"))


# -- the form -------------------------------------------------------------------------------------


def test_the_form_has_one_field_per_setting_in_the_servers_order(page: Page, info: dict[str, Any]) -> None:
    settings = info["settings"]
    every = settings_in(page, "[data-run-form]")
    more = settings_in(page, "[data-more]")
    assert sorted(every) == sorted(setting["name"] for setting in settings)  # one field each
    assert [name for name in every if name not in more] == [s["name"] for s in settings if not s["advanced"]]
    assert more == [s["name"] for s in settings if s["advanced"]]  # under More settings, in order
    for setting in settings:
        name = setting["name"]
        field = page.locator(f"[data-run-form] [data-field='{name}']")
        expect(field).to_have_count(1)
        expect(page.locator(f"[data-error-for='{name}']")).to_have_count(1)
        if setting["kind"] == "choice":
            assert field.evaluate("(select) => [...select.options].map((o) => o.value)") == setting["choices"]
        if setting["kind"] == "integer":
            expect(field).to_have_attribute("step", "1")
            expect(field).to_have_attribute("min", str(int(setting["minimum"])))
            expect(field).to_have_attribute("max", str(int(setting["maximum"])))

    # the activations of the registry, with its new one, labelled and explained
    activations = page.locator("[data-field='activation'] option")
    expect(activations).to_have_text([a["label"] for a in info["activations"]])  # our labels match its
    assert "gelu" in [a["name"] for a in info["activations"]]
    page.select_option("[data-field='activation']", "gelu")
    expect(page.locator("[data-explain-for='activation']")).to_contain_text("GELU is a smooth ReLU")
    expect(page.locator("[data-preset-modified]")).to_be_visible()

    # the presets of the registry, the default chosen, its description as the hint, its values filled
    presets = {preset["name"]: preset for preset in info["presets"]}
    expect(page.locator("[data-field='preset'] option")).to_have_text(list(presets))
    page.select_option("[data-field='preset']", "relu-adam")
    preset = presets["relu-adam"]
    expect(page.locator("[data-preset-hint]")).to_have_text(preset["description"])
    expect(page.locator("[data-field='hidden']")).to_have_value("256, 128")
    expect(page.locator("[data-field='activation']")).to_have_value("relu")
    expect(page.locator("[data-field='lr_decay']")).to_have_value(
        str(preset["config"]["optimizer"]["lr_decay"])
    )
    expect(page.locator("[data-field='epochs']")).to_have_value(str(preset["config"]["epochs"]))
    expect(page.locator("[data-field='threads']")).to_have_value("")  # optional: chosen by the server
    expect(page.locator("[data-preset-modified]")).to_be_hidden()
    expect(page.locator("[data-field='dataset'] option")).to_have_text([d["label"] for d in info["datasets"]])


def test_a_field_shows_only_while_it_applies(page: Page, server: Server, info: dict[str, Any]) -> None:
    page.click("[data-more] summary")

    def field(name: str) -> Locator:
        return page.locator(f"[data-setting='{name}']")

    page.select_option("[data-field='preset']", "notebook-sgd")
    expect(field("momentum")).to_be_visible()
    for name in ("beta1", "beta2", "eps"):
        expect(field(name)).to_be_hidden()
    page.select_option("[data-field='optimizer']", "adam")
    expect(field("momentum")).to_be_hidden()
    for name in ("beta1", "beta2", "eps"):
        expect(field(name)).to_be_visible()

    # every rule of the settings table, for every value of the setting it depends on
    settings = {setting["name"]: setting for setting in info["settings"]}
    for setting in settings.values():
        if not setting["applies_when"]:
            continue
        other, values = setting["applies_when"]
        for choice in settings[other]["choices"]:
            page.select_option(f"[data-field='{other}']", choice)
            if choice in values:
                expect(field(setting["name"])).to_be_visible()
            else:
                expect(field(setting["name"])).to_be_hidden()

    # what does not apply is not sent: momentum typed for SGD stays out of an Adam run
    stop_active(server)
    page.select_option("[data-field='preset']", "notebook-sgd")
    page.fill("[data-field='momentum']", "0.5")
    page.select_option("[data-field='optimizer']", "adam")
    page.fill("[data-field='beta1']", "0.8")
    page.fill("[data-field='epochs']", "1")
    page.click("[data-start]")
    expect(page.locator("[data-run-bar]")).not_to_have_attribute("data-status", "none")
    run = server.http.get("/api/runs").json()[0]
    assert run["config"]["optimizer"]["name"] == "adam"
    assert run["config"]["optimizer"]["beta1"] == 0.8
    assert run["config"]["optimizer"]["momentum"] == 0.0
    wait_run(server, run["id"], lambda r: r["status"] in FINISHED)


def test_an_advanced_fields_error_opens_more_settings_beside_it(page: Page, server: Server) -> None:
    stop_active(server)
    page.select_option("[data-field='preset']", "notebook-adam")
    page.click("[data-more] summary")
    page.fill("[data-field='beta1']", "1")  # beta1 < 1
    page.click("[data-more] summary")  # closed again: the error opens it
    expect(page.locator("[data-more]")).not_to_have_attribute("open", "")
    page.click("[data-start]")
    expect(page.locator("[data-more]")).to_have_attribute("open", "")
    expect(page.locator("[data-setting='beta1'] [data-error-for='beta1']")).to_have_text(
        "Input should be less than 1"
    )
    expect(page.locator("[data-field='beta1']")).to_be_focused()
    assert all(run["config"]["optimizer"]["beta1"] != 1 for run in server.http.get("/api/runs").json())


def test_a_gelu_run_started_from_the_form_is_judged_by_its_dead_units(page: Page, server: Server) -> None:
    stop_active(server)
    page.select_option("[data-field='preset']", "notebook-adam")
    page.select_option("[data-field='activation']", "gelu")
    page.fill("[data-field='epochs']", "2")
    page.click("[data-start]")
    expect(page.locator("[data-run-bar]")).not_to_have_attribute("data-status", "none")
    run_id = server.http.get("/api/runs").json()[0]["id"]
    run = wait_run(server, run_id, lambda r: r["status"] in FINISHED, timeout=120)
    assert run["config"]["model"]["activation"] == "gelu"
    assert run["status"] == "completed"

    page.click("[data-tab='inside']")
    expect(page.locator("[data-panel='inside']")).to_have_attribute("data-run", run_id)
    title = page.locator("[data-flat-title]")
    expect(title).to_have_text("Dead units")
    expect(page.locator("figure[data-kind='dead']")).to_have_count(1)
    expect(page.locator("[data-flat-explain]")).to_contain_text("GELU units whose input is never positive")
    expect(page.locator("[data-chart='flat']")).to_have_attribute("data-points", "3")  # epochs 0, 1, 2
    screenshot(page, "inside-gelu")

    page.select_option("[data-language]", "ko")
    expect(title).to_have_text("죽은 뉴런")
    page.select_option("[data-language]", "en")


# -- statuses and reasons -------------------------------------------------------------------------


def test_a_status_and_its_reason_in_korean(page: Page, server: Server) -> None:
    stop_active(server)
    run_id = start_run(server, **LONG_RUN)
    page.select_option("[data-language]", "ko")
    expect(page.locator("[data-run-name]")).to_have_text(f"notebook-sgd, 60 에폭 {run_id}")
    expect(page.locator("[data-run-status]")).to_have_text(re.compile("데이터 불러오는 중|학습 중|대기 중"))
    page.click("[data-run-stop]")
    expect(page.locator("[data-run-bar]")).to_have_attribute("data-status", "stopped")
    expect(page.locator("[data-run-status]")).to_have_text("중지됨")
    reason = page.locator("[data-run-reason]")
    expect(reason).to_have_attribute("data-code", "stopped_by_request")
    expect(reason).to_have_text("요청에 따라 중지했습니다.")
    assert server.http.get(f"/api/runs/{run_id}").json()["reason_code"] == "stopped_by_request"

    page.click("[data-tab='history']")
    item = page.locator(f"[data-run-id='{run_id}']")
    expect(item.locator(".badge")).to_have_text("중지됨")
    expect(item.locator(".run-item-reason")).to_have_text("요청에 따라 중지했습니다.")
    page.click("[data-tab='train']")
    screenshot(page, "korean-stopped")

    page.select_option("[data-language]", "en")
    expect(reason).to_have_text("Stopped on request.")
    expect(page.locator("[data-run-status]")).to_have_text("Stopped")


def test_reasons_fill_their_parameters_and_fall_back_to_the_servers_text(page: Page) -> None:
    texts = page.evaluate(
        """async () => {
            const { reasonText } = await import('/js/words.js');
            const diverged = { reason_code: 'diverged', reason: 'loss reached 123.5 ...',
                reason_params: { loss: 123.456789, average: 2.5, chance: 2.302585, step: 1234 } };
            const unknown = { reason_code: 'some_new_code', reason: 'the server says why',
                reason_params: {} };
            return [reasonText(diverged), reasonText(unknown), reasonText({ reason: '', reason_code: null })];
        }"""
    )
    assert texts[0] == (
        "The loss reached 123.5 at step 1,234 (running mean 2.5; a blind guess scores 2.303): "
        "the learning rate is too high."
    )
    assert texts[1] == "the server says why"  # a reason the page has no template for yet
    assert texts[2] == ""


# -- every word of the server has texts -----------------------------------------------------------


def test_every_word_of_the_server_has_texts_in_both_languages(page: Page, info: dict[str, Any]) -> None:
    words = dictionaries(page)
    en, ko = words["en"], words["ko"]
    assert sorted(en) == sorted(ko)
    keys = [f"status.{status['name']}" for status in info["statuses"]]
    keys += [f"reason.{code}" for code in info["reasons"]]
    keys += [f"error.{code}" for code in info["errors"]]  # every error answer's code, too
    keys += [f"preset.{preset['name']}" for preset in info["presets"]]
    for setting in info["settings"]:
        keys += [f"field.{setting['name']}", f"help.{setting['name']}"]
        keys += [f"{setting['name']}.{choice}" for choice in setting["choices"]]
    keys += [f"explain.activation.{activation['name']}" for activation in info["activations"]]
    keys += [f"explain.dataset.{dataset['name']}" for dataset in info["datasets"]]
    missing = [key for key in keys if key not in en or not isinstance(ko.get(key), str)]
    assert missing == []  # null in English means the server's English; Korean always needs its own
    # the page's own English for the new activation, as for the others
    assert en["activation.gelu"] == "GELU" and isinstance(en["explain.activation.gelu"], str)

    # a reason's templates quote only what the server's template quotes
    for code, template in info["reasons"].items():
        fields = set(FIELD.findall(template))
        for language in (en, ko):
            assert set(FIELD.findall(language[f"reason.{code}"] or "")) <= fields, code

    # every rule of the coach, its finding and advice; each template quotes only what the server's does
    coach = {rule["code"]: rule for rule in info["coach"]}
    assert coach, "the server lists its coach's rules"
    keys = {f"coach.{code}.{part}": (code, part) for code in coach for part in ("finding", "advice")}
    assert [key for key in keys if not isinstance(en.get(key), str) or not isinstance(ko.get(key), str)] == []
    for key, (code, part) in keys.items():
        fields = set(FIELD.findall(coach[code][part]))
        for language in (en, ko):
            assert set(FIELD.findall(language[key] or "")) <= fields, key

    # the hidden space's views: a label and an explanation each
    for view in info["embedding_views"]:
        for key in (f"embedding.viewLabel.{view['name']}", f"embedding.view.{view['name']}"):
            assert key in en and isinstance(ko.get(key), str), key


def test_statuses_come_from_the_server(page: Page, info: dict[str, Any]) -> None:
    sets = page.evaluate(
        """async () => {
            const { Store } = await import('/js/store.js');
            const store = new Store();
            store.setInfo(await (await fetch('/api/info')).json());
            const list = (set) => [...set].sort();
            return { active: list(store.statuses.active), finished: list(store.statuses.finished),
                     resumable: list(store.statuses.resumable),
                     queuedActive: store.isActive({ status: 'queued' }) };
        }"""
    )
    statuses = info["statuses"]
    assert sets["active"] == sorted(s["name"] for s in statuses if s["active"])
    assert sets["finished"] == sorted(s["name"] for s in statuses if not s["active"])
    assert sets["finished"] == sorted(FINISHED)  # the tests' helper agrees
    assert sets["resumable"] == sorted(s["name"] for s in statuses if s["resumable"])
    assert sets["queuedActive"] is True


def test_korean_page_from_the_start(
    server: Server, context_factory: Callable[..., BrowserContext], console: Console
) -> None:
    """A browser that prefers Korean: the form's labels, choices and help come up in Korean."""
    page = console.listen(context_factory(locale="ko-KR").new_page())
    open_dashboard(page, server)
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("label[for='f-lr']")).to_have_text("학습률")
    expect(page.locator("[data-field='activation'] option[value='sigmoid']")).to_have_text("시그모이드")
    expect(page.locator("[data-help-for='batch_size']")).to_have_text("스텝마다 쓰는 훈련 이미지 수")
    expect(page.locator("[data-preset-hint]")).to_contain_text("노트북의")
    screenshot(page, "korean-form")
    assert console.unexpected() == []
