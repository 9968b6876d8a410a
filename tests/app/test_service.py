"""Health, readiness, info, and the API docs (served without internet)."""

import re


def test_health_and_info(client):
    assert client.get("/api/health").json() == {"status": "ok"}
    info = client.get("/api/info").json()
    assert set(info["presets"]) == {"notebook-sgd", "notebook-adam", "relu-adam", "relu-adam-augmented"}
    assert info["presets"]["relu-adam-augmented"]["augment"] == "affine"
    assert info["presets"]["notebook-sgd"]["optimizer"]["lr"] == 0.1
    assert info["datasets"] == ["mnist", "fashion-mnist"]


def test_ready_is_503_with_a_reason_until_a_model_exists(client):
    response = client.get("/api/ready")
    assert response.status_code == 503
    assert "no trained model" in response.json()["reason"]


def test_docs_use_only_local_assets_and_they_are_served(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert assets and all(asset.startswith("/") for asset in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_openapi_documents_errors_for_every_operation_with_input(client):
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary") and operation.get("description"), (method, path)
            takes_input = "requestBody" in operation or operation.get("parameters")
            if takes_input:
                errors = {code for code in operation["responses"] if code.startswith("4")}
                assert errors, (method, path)
