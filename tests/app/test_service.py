"""Health, readiness, info, and the API docs (served without internet)."""

import re

from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.config import PRESETS, RACE_SHARED, SETTINGS
from deeplook.engine.data import DATASETS
from deeplook.engine.status import REASONS, RunStatus


def test_health_and_info_publish_every_registry(client):
    assert client.get("/api/health").json() == {"status": "ok"}
    info = client.get("/api/info").json()
    presets = {p["name"]: p for p in info["presets"]}
    assert list(presets) == list(PRESETS) and info["default_preset"] in presets
    assert presets["notebook-sgd"]["config"]["optimizer"]["lr"] == 0.1
    assert presets["relu-adam-augmented"]["config"]["augment"] == "affine"
    assert [a["name"] for a in info["augmentations"]] == ["none", "affine", "full"]
    assert [s["name"] for s in info["settings"]] == list(SETTINGS)
    assert [a["name"] for a in info["activations"]] == list(ACTIVATIONS)
    assert [d["name"] for d in info["datasets"]] == list(DATASETS)
    assert [s["name"] for s in info["statuses"]] == [s.value for s in RunStatus]
    assert set(info["reasons"]) == set(REASONS)
    mnist = info["datasets"][0]
    assert (mnist["train_size"], mnist["test_size"], mnist["image_shape"]) == (60000, 10000, [28, 28])
    lr = next(s for s in info["settings"] if s["name"] == "lr")
    assert (lr["minimum"], lr["exclusive_minimum"], lr["maximum"]) == (0, True, 1000)
    momentum = next(s for s in info["settings"] if s["name"] == "momentum")
    assert momentum["applies_when"] == ["optimizer", ["sgd"]]
    sigmoid, relu = (next(a for a in info["activations"] if a["name"] == n) for n in ("sigmoid", "relu"))
    assert sigmoid["health"] == {"kind": "saturated", "low": 0.05, "high": 0.95}
    assert relu["health"]["kind"] == "dead"


def test_info_says_how_many_runs_train_at_once_and_may_wait(client, settings):
    limits = client.get("/api/info").json()["limits"]
    assert limits["max_active_runs"] == settings.max_active_runs >= 1
    assert limits["max_queued_runs"] == settings.max_queued_runs


def test_info_names_the_settings_every_run_of_a_race_shares(client):
    info = client.get("/api/info").json()
    assert info["race_shared"] == list(RACE_SHARED)
    assert set(info["race_shared"]) <= {s["name"] for s in info["settings"]}


def test_every_websocket_message_type_has_a_published_schema(client):
    schema = client.get("/api/schema/messages").json()
    kinds = set(schema["server"]["discriminator"]["mapping"])
    assert kinds == {"snapshot", "status", "step", "epoch", "progress", "change", "pong", "batch"}
    components = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"SnapshotMessage", "StepMessage", "BatchMessage"} <= set(components)


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
