"""Every error the service can answer with is listed by code in /api/info, so that a page can say
it in its learner's language; an error answer's code and params fill the listed template."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from deeplook.app.errors import ERRORS

FIELD = re.compile(r"\{(\w+)[^}]*\}")


def test_info_lists_every_error_code_with_its_english_template(client: TestClient) -> None:
    errors = client.get("/api/info").json()["errors"]
    assert errors == {code: kind.template for code, kind in ERRORS.items()}
    assert all(template for template in errors.values())


def test_an_error_answer_names_a_listed_code_and_fills_its_template(client: TestClient) -> None:
    errors = client.get("/api/info").json()["errors"]
    answer = client.post("/api/runs/0123456789ab/pause")
    assert answer.status_code == 404
    body = answer.json()
    assert body["code"] == "run_not_found" and body["code"] in errors
    assert set(FIELD.findall(errors[body["code"]])) == set(body["params"])
    assert body["detail"] == errors[body["code"]].format(**body["params"])


def test_a_run_can_be_named_and_renamed(client: TestClient) -> None:
    created = client.post(
        "/api/runs", json={"preset": "notebook-sgd", "epochs": 1, "train_size": 500, "name": "first"}
    )
    assert created.status_code == 201
    run_id = created.json()["id"]
    assert created.json()["name"] == "first"
    renamed = client.patch(f"/api/runs/{run_id}", json={"name": "notebook-sgd tiny"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "notebook-sgd tiny"
    assert client.get(f"/api/runs/{run_id}").json()["name"] == "notebook-sgd tiny"
    too_long = client.patch(f"/api/runs/{run_id}", json={"name": "x" * 81})
    assert too_long.status_code == 422
    client.post(f"/api/runs/{run_id}/stop")
