"""Tokens on mutating routes, CORS only when configured, and the request body limit."""

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from deeplook.app.config import Settings
from deeplook.app.main import create_app

TOKEN = "s3cret-token"
OPEN_MUTATIONS = {"/api/predict", "/api/predict/batch", "/api/predict/file"}  # predict stays open


@pytest.fixture
def guarded(settings):
    with TestClient(create_app(settings.model_copy(update={"api_token": SecretStr(TOKEN)}))) as client:
        yield client


def mutating_routes(app):
    """Every mutating operation the app declares, found in its OpenAPI, so none can be forgotten."""
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if method in ("post", "put", "patch", "delete") and path not in OPEN_MUTATIONS:
                yield method.upper(), path.replace("{run_id}", "0123456789ab")


def test_every_mutating_route_needs_the_token(guarded):
    routes = list(mutating_routes(guarded.app))
    assert len(routes) >= 5  # start, pause, resume, stop, delete
    for method, path in routes:
        missing = guarded.request(method, path, json={})
        assert missing.status_code == 401, (method, path)
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = guarded.request(method, path, json={}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403, (method, path)
        right = guarded.request(method, path, json={}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code not in (401, 403), (method, path)


def test_predict_and_reads_stay_open_with_a_token(guarded):
    assert guarded.get("/api/runs").status_code == 200
    assert guarded.post("/api/predict", json={"pixels": [0.0] * 784}).status_code == 409  # open, no model yet
    assert guarded.get("/api/info").json()["auth_required"] is True


def test_without_a_token_configured_the_info_says_so(client):
    assert client.get("/api/info").json()["auth_required"] is False


def test_no_cors_allowance_unless_configured(client, settings):
    headers = {"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/api/runs", headers=headers).headers
    assert "access-control-allow-origin" not in client.get("/api/runs", headers=headers).headers

    configured = settings.model_copy(update={"allowed_origins": ["http://elsewhere.example"]})
    with TestClient(create_app(configured)) as allowed:
        answer = allowed.options("/api/runs", headers=headers)
        assert answer.headers["access-control-allow-origin"] == "http://elsewhere.example"
        for method in ("PATCH", "PUT", "DELETE"):  # every method a route answers
            preflight = allowed.options(
                "/api/runs/0123456789ab", headers={**headers, "Access-Control-Request-Method": method}
            )
            assert preflight.status_code == 200, method


def test_bodies_over_the_limit_get_413_declared_or_chunked(client):
    declared = client.post(
        "/api/predict", content=b"0" * 2_100_000, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413

    def chunks():
        for _ in range(100):
            yield b" " * 100_000

    chunked = client.post("/api/predict", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413


def test_origins_can_be_given_comma_separated(monkeypatch):
    monkeypatch.setenv("DEEPLOOK_ALLOWED_ORIGINS", "http://a.example, http://b.example/")
    assert Settings().allowed_origins == ["http://a.example", "http://b.example"]
