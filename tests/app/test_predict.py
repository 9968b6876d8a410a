"""Predictions over REST from a model trained on the real MNIST, and every bad input's 4xx."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from tests.support import canvas_png, trained_app

DIGITS = range(10)  # the first ten MNIST test digits: 7 2 1 0 4 1 4 9 5 9


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist):
    with trained_app(tmp_path_factory.mktemp("data"), preset="notebook-adam", epochs=2, seed=0) as trained:
        yield trained


def test_pixels_of_ten_test_digits_are_classified(trained, mnist):
    client, run = trained
    answers = []
    for i in DIGITS:
        response = client.post("/api/predict", json={"pixels": (mnist.test_images[i] / 255).tolist()})
        assert response.status_code == 200
        body = response.json()
        assert np.isclose(sum(body["probabilities"]), 1.0, atol=1e-5)
        assert body["digit"] == int(np.argmax(body["probabilities"])) and body["label"] == str(body["digit"])
        assert body["model"]["run_id"] == run["id"] and body["model"]["epoch"] == 2
        assert body["model"]["test_accuracy"] == run["test_accuracy"]
        answers.append(body["digit"])
    assert sum(a == int(mnist.test_labels[i]) for a, i in zip(answers, DIGITS, strict=True)) >= 9


def test_the_same_digits_drawn_large_and_off_centre_give_the_same_answers(trained, mnist):
    client, _ = trained
    for i in DIGITS:
        pixels = client.post("/api/predict", json={"pixels": (mnist.test_images[i] / 255).tolist()}).json()
        png = canvas_png(mnist.test_images[i], offset=(50, 6) if i % 2 else (4, 52))
        image = client.post(
            "/api/predict", json={"image": base64.b64encode(png).decode(), "return_pixels": True}
        ).json()
        assert "pixels" not in pixels  # only when asked
        upload = client.post("/api/predict/file", files={"file": ("digit.png", png, "image/png")}).json()
        assert image["digit"] == pixels["digit"] == upload["digit"], i
        seen = np.array(image["pixels"]).reshape(28, 28)
        assert np.corrcoef(seen.ravel(), mnist.test_images[i] / 255)[0, 1] > 0.8


def test_nested_rows_data_urls_batches_and_explanations(trained, mnist):
    client, run = trained
    rows = (mnist.test_images[0].reshape(28, 28) / 255).tolist()
    flat = client.post("/api/predict", json={"pixels": rows, "explain": True}).json()
    assert flat["digit"] == 7
    assert [len(layer) for layer in flat["activations"]] == [50, 10]
    assert np.allclose(flat["activations"][-1], flat["probabilities"], atol=1e-6)

    data_url = (
        "data:image/png;base64," + base64.b64encode(canvas_png(mnist.test_images[1], (20, 20))).decode()
    )
    inputs = [{"pixels": (mnist.test_images[i] / 255).tolist()} for i in range(5)] + [{"image": data_url}]
    batch = client.post("/api/predict/batch", json={"inputs": inputs, "run_id": run["id"]})
    assert batch.status_code == 200
    digits = [p["digit"] for p in batch.json()["predictions"]]
    assert digits[5] == digits[1] == 2 and len(digits) == 6


def test_explain_gives_the_scores_before_softmax_and_the_saliency_of_any_class(trained, mnist):
    client, _ = trained
    pixels = (mnist.test_images[0] / 255).tolist()
    answer = client.post("/api/predict", json={"pixels": pixels, "explain": True}).json()
    logits = np.array(answer["logits"])
    softmax = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert np.allclose(softmax, answer["probabilities"], atol=1e-5)
    explained = answer["saliency"]
    assert explained["target"] == answer["digit"] == 7 and explained["score"] == pytest.approx(logits[7])
    integrated = np.array(explained["integrated"])
    assert len(explained["gradient"]) == len(integrated) == 784
    # completeness: integrated gradients add up to the score's rise from the blank image
    rise = explained["score"] - explained["baseline_score"]
    assert integrated.sum() == pytest.approx(rise, rel=0.02)
    assert np.all(integrated[np.array(pixels) == 0] == 0)  # no ink, no credit

    three = client.post("/api/predict?target=3", json={"pixels": pixels, "explain": True}).json()
    assert three["saliency"]["target"] == 3 and three["digit"] == 7
    assert three["saliency"]["score"] == pytest.approx(logits[3])
    assert three["saliency"]["gradient"] != explained["gradient"]
    raw = client.post(
        "/api/predict?explain=true&target=1",
        content=mnist.test_images[0].tobytes(),
        headers={"Content-Type": "application/octet-stream"},
    ).json()
    assert raw["saliency"]["target"] == 1
    too_far = client.post("/api/predict", json={"pixels": pixels, "explain": True, "target": 10})
    assert too_far.status_code == 422 and "0..9" in too_far.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"pixels": [0.5] * 783}, 422, "784 values"),
        ({"pixels": [0.5] * 785}, 422, "784 values"),
        ({"pixels": [[0.5] * 28] * 27}, 422, "28 rows"),
        ({"pixels": [0.5] * 783 + [1e308]}, 422, "in [0, 1]"),
        ({"pixels": [0.5] * 783 + [-0.1]}, 422, "in [0, 1]"),
        ({"pixels": ["dark"] * 784}, 422, "number"),
        ({"pixels": [0.1] * 784, "image": "aGVsbG8="}, 422, "exactly one"),
        ({}, 422, "exactly one"),
        ({"image": "not base64 at all!"}, 400, "base64"),
        ({"image": base64.b64encode(b"hello, not an image").decode()}, 422, "image"),
        ({"pixels": [0.1] * 784, "run_id": "../x"}, 422, "run_id"),
        ({"pixels": [0.1] * 784, "run_id": "0123456789ab"}, 404, "no run"),
    ],
)
def test_bad_inputs_get_a_4xx_naming_the_problem(trained, body, status, message):
    client, _ = trained
    response = client.post("/api/predict", json=body)
    assert response.status_code == status, response.text
    assert message in str(response.json()["detail"])


def test_non_finite_json_numbers_are_refused(trained):
    client, _ = trained
    for token in ("NaN", "Infinity", "-Infinity"):
        body = '{"pixels": [' + ", ".join(["0.5"] * 783 + [token]) + "]}"
        response = client.post("/api/predict", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422 and "finite" in str(response.json()["detail"])


def test_empty_drawings_and_oversized_bodies(trained):
    client, _ = trained
    blank = io.BytesIO()
    Image.new("RGB", (280, 280), "white").save(blank, format="PNG")
    response = client.post("/api/predict", json={"image": base64.b64encode(blank.getvalue()).decode()})
    assert response.status_code == 422 and "ink" in response.json()["detail"]

    huge = client.post("/api/predict", content=b"x" * 3_000_000, headers={"content-type": "application/json"})
    assert huge.status_code == 413

    too_many = client.post("/api/predict/batch", json={"inputs": [{"pixels": [0.0] * 784}] * 1001})
    assert too_many.status_code in (413, 422)


def test_no_model_yet_is_a_409_saying_to_train(client):
    response = client.post("/api/predict", json={"pixels": [0.0] * 784})
    assert response.status_code == 409
    assert "train" in response.json()["detail"] or "start a run" in response.json()["detail"]
    assert client.get("/api/ready").status_code == 503


def test_raw_pixels_as_uint8_or_float32_and_picture_bodies_give_the_json_answers(trained, mnist):
    client, run = trained
    image = mnist.test_images[3]
    as_json = client.post("/api/predict", json={"pixels": (image / 255).tolist()}).json()
    raw = {"content-type": "application/octet-stream"}
    as_uint8 = client.post("/api/predict", content=image.tobytes(), headers=raw).json()
    floats = (image.astype(np.float32) / 255).astype("<f4").tobytes()
    as_float32 = client.post(
        "/api/predict?dtype=float32&return_pixels=true", content=floats, headers=raw
    ).json()
    for answer in (as_uint8, as_float32):
        np.testing.assert_allclose(answer["probabilities"], as_json["probabilities"], atol=1e-6)
        assert answer["model"] == as_json["model"]
    np.testing.assert_allclose(as_float32["pixels"], image / 255, atol=1e-7)
    png = canvas_png(image, (20, 30))
    picture = client.post("/api/predict", content=png, headers={"content-type": "image/png"})
    base64_picture = client.post("/api/predict", json={"image": base64.b64encode(png).decode()})
    assert picture.json()["probabilities"] == base64_picture.json()["probabilities"]
    named = client.post(f"/api/predict?run_id={run['id']}&epoch=1", content=image.tobytes(), headers=raw)
    assert named.json()["model"]["epoch"] == 1 and not named.json()["model"]["pinned"]
    # a JSON body's options win over the query's
    both = client.post(f"/api/predict?epoch=2&run_id={run['id']}", json={"pixels": [0.0] * 784, "epoch": 1})
    assert both.json()["model"]["epoch"] == 1


def test_raw_batches_of_a_thousand_match_the_json_batch(trained, mnist):
    client, _ = trained
    images = mnist.test_images[:1000]
    raw = client.post(
        "/api/predict/batch", content=images.tobytes(), headers={"content-type": "application/octet-stream"}
    )
    assert raw.status_code == 200, raw.text
    predictions = raw.json()["predictions"]
    assert len(predictions) == 1000 and "pixels" not in predictions[0]
    digits = np.array([p["digit"] for p in predictions])
    assert np.mean(digits == mnist.test_labels[:1000]) > 0.85
    inputs = [{"pixels": (image / 255).tolist()} for image in images[:20]]
    as_json = client.post("/api/predict/batch", json={"inputs": inputs, "return_pixels": True}).json()
    assert [p["digit"] for p in as_json["predictions"]] == digits[:20].tolist()
    np.testing.assert_allclose(as_json["predictions"][5]["pixels"], images[5] / 255, atol=1e-7)
    floats = (images[:3].astype(np.float32) / 255).tobytes()
    three = client.post(
        "/api/predict/batch?dtype=float32",
        content=floats,
        headers={"content-type": "application/octet-stream"},
    )
    assert [p["digit"] for p in three.json()["predictions"]] == digits[:3].tolist()


@pytest.mark.parametrize(
    ("url", "content", "content_type", "status", "message"),
    [
        ("/api/predict", b"\x00" * 783, "application/octet-stream", 422, "784 values (784 bytes)"),
        ("/api/predict", b"\x00" * 1568, "application/octet-stream", 422, "/api/predict/batch"),
        ("/api/predict?dtype=float32", b"\x00" * 784, "application/octet-stream", 422, "3136 bytes"),
        (
            "/api/predict?dtype=float32",
            np.full(784, 2, "<f4").tobytes(),
            "application/octet-stream",
            422,
            "in [0, 1]: index 0 is 2.0",
        ),
        (
            "/api/predict/batch?dtype=float32",
            np.concatenate([np.zeros(784), [np.nan] * 784]).astype("<f4").tobytes(),
            "application/octet-stream",
            422,
            "inputs[1]: pixels must be finite",
        ),
        ("/api/predict/batch", b"\x00" * 785, "application/octet-stream", 422, "a multiple of 784"),
        ("/api/predict/batch", b"\x00" * 784 * 1001, "application/octet-stream", 422, "at most 1000"),
        ("/api/predict?dtype=int8", b"\x00" * 784, "application/octet-stream", 422, "dtype"),
        ("/api/predict?epoch=-1", b"\x00" * 784, "application/octet-stream", 422, "epoch"),
        ("/api/predict", b"hello", "text/plain", 415, "application/octet-stream"),
        ("/api/predict", b"GIF89a", "image/png", 422, "only PNG and JPEG"),
        ("/api/predict/batch", b"\x89PNG", "image/png", 415, "application/json"),
    ],
)
def test_bad_raw_bodies_get_a_4xx_naming_the_problem(trained, url, content, content_type, status, message):
    client, _ = trained
    response = client.post(url, content=content, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert message in str(response.json()["detail"])


def test_the_openapi_document_describes_the_bodies_with_their_bounds(trained):
    client, _ = trained
    document = client.get("/openapi.json").json()
    body = document["paths"]["/api/predict"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/octet-stream", "image/png", "image/jpeg"}
    request = document["components"]["schemas"]["PredictRequest"]
    flat, rows = request["properties"]["pixels"]["anyOf"]
    assert flat["minItems"] == flat["maxItems"] == 784 and flat["items"] == {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
    }
    assert rows["minItems"] == rows["items"]["maxItems"] == 28
    assert request["oneOf"] == [{"required": ["pixels"]}, {"required": ["image"]}]
    batch = document["components"]["schemas"]["BatchPredictRequest"]
    assert batch["properties"]["inputs"]["items"] == {"$ref": "#/components/schemas/PixelsOrImage"}
    parameters = {p["name"] for p in document["paths"]["/api/predict"]["post"]["parameters"]}
    assert parameters == {"run_id", "epoch", "explain", "target", "return_pixels", "dtype"}


@pytest.mark.parametrize(
    "inputs",
    [
        [{"image": [None, None]}],
        [{"pixels": "abc"}],
        [{"image": 5}],
        [{"pixels": [0.1] * 784, "image": None}, 3],
    ],
)
def test_odd_batch_items_are_judged_by_the_request_model(trained, inputs):
    client, _ = trained
    response = client.post("/api/predict/batch", json={"inputs": inputs})
    assert response.status_code in (200, 422), response.text
