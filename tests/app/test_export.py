"""ONNX export: onnxruntime on the whole MNIST test set gives deeplook's probabilities and accuracy."""

import io

import numpy as np
import onnx
import onnxruntime
import pytest
from fastapi.testclient import TestClient

from deeplook.app.config import Settings
from deeplook.app.main import create_app
from deeplook.app.models import ServingModel
from deeplook.app.onnx_export import to_onnx
from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.config import ModelConfig
from deeplook.engine.model import MLP
from tests.support import finished, wait_for_run


def run_onnx(payload: bytes, pixels: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(payload, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], {"pixels": pixels})
    return probabilities


def test_the_exported_model_matches_deeplook_on_the_whole_test_set(tmp_path, mnist):
    settings = Settings(data_dir=tmp_path / "data", offline=True)
    with TestClient(create_app(settings)) as client:
        run_id = client.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1, "seed": 3}).json()[
            "id"
        ]
        assert wait_for_run(client.get, run_id, finished, timeout=120)["status"] == "completed"
        response = client.get(f"/api/runs/{run_id}/model.onnx")
        assert response.status_code == 200, response.text
        assert response.headers["content-disposition"].endswith('epoch1.onnx"')
        weights = client.app.state.models.load(run_id, 1).weights
        assert client.get(f"/api/runs/{run_id}/model.onnx", params={"epoch": 7}).status_code == 404
        assert client.get("/api/runs/0123456789ab/model.onnx").status_code == 404

    graph = onnx.load_model_from_string(response.content)
    assert [node.op_type for node in graph.graph.node] == ["Gemm", "Sigmoid", "Gemm", "Softmax"]
    pixels = mnist.test_images.astype(np.float32) / 255
    ours = weights.predict_proba(pixels)
    theirs = run_onnx(response.content, pixels)
    assert theirs.shape == ours.shape == (10_000, 10)
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-5)
    labels = mnist.test_labels
    assert np.mean(theirs.argmax(1) == labels) == np.mean(ours.argmax(1) == labels)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_exports_to_its_operator_and_computes_the_same(activation, mnist):
    config = ModelConfig(
        hidden=(64, 32), activation=activation, init="he" if activation != "sigmoid" else "normal"
    )
    weights = MLP.create(config, seed=1).snapshot()
    model = ServingModel("0123456789ab", 0, None, "mnist", weights)
    exported = to_onnx(model)
    assert ACTIVATIONS[activation].onnx_op in [node.op_type for node in exported.graph.node]
    pixels = mnist.test_images[:1000].astype(np.float32) / 255
    theirs = run_onnx(exported.SerializeToString(), pixels)
    np.testing.assert_allclose(theirs, weights.predict_proba(pixels), rtol=0, atol=1e-5)
    buffer = io.BytesIO()
    onnx.save_model(exported, buffer)
    pixels = mnist.test_images.astype(np.float32) / 255
    np.testing.assert_allclose(run_onnx(buffer.getvalue(), pixels), weights.predict_proba(pixels), atol=1e-5)
