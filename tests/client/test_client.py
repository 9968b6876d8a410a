"""The Python client against a real server with an API token: runs, live events, every input kind,
batches, model downloads, errors; the asyncio client likewise."""

import io

import numpy as np
import onnxruntime
import pytest
from PIL import Image

from deeplook.client import AsyncClient, Client, DeeplookError
from deeplook.engine import serialize
from tests.support import canvas_png, run_async

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist):
    from tests.support import Server

    running = Server(tmp_path_factory.mktemp("data"), env={"DEEPLOOK_API_TOKEN": TOKEN})
    yield running
    running.close()


@pytest.fixture(scope="module")
def trained(server):
    """A run started and watched to its end through the client: (run, the events seen)."""
    with Client(server.url, token=TOKEN) as client:
        run = client.runs.start(preset="notebook-sgd", epochs=1, seed=4)
        assert run.status in ("queued", "loading-data", "running")
        events = list(client.watch(run.id))
        return client.runs.get(run.id), events


def test_watch_follows_one_run_from_its_snapshot_to_its_end(trained):
    run, events = trained
    kinds = [event["type"] for event in events]
    assert kinds[0] == "snapshot" and "step" in kinds and "epoch" in kinds
    assert events[-1]["run"]["status"] == "completed" and run.status == "completed" and run.finished
    assert all(event.get("run_id", run.id) == run.id for event in events)
    assert run.test_accuracy is not None and run.test_accuracy > 0.7


def test_every_kind_of_input_gets_the_same_answer(server, trained, mnist, tmp_path):
    run, _ = trained
    image = mnist.test_images[0]
    png = canvas_png(image, (20, 30))
    path = tmp_path / "seven.png"
    path.write_bytes(png)
    with Client(server.url) as client:  # predicting needs no token
        floats = client.predict(image / 255, return_pixels=True)
        assert floats.digit == 7 and floats.label == "7" and floats.model.run_id == run.id
        np.testing.assert_allclose(floats.pixels, image / 255, atol=1e-7)
        assert client.predict(image).digit == 7  # uint8, ink = 255
        rows = client.predict((image.reshape(28, 28) / 255).tolist())
        np.testing.assert_allclose(rows.probabilities, floats.probabilities, atol=1e-6)
        pictures = [client.predict(x) for x in (path, str(path), png, Image.open(io.BytesIO(png)))]
        assert {p.digit for p in pictures} == {7} and pictures[0].pixels is None
        np.testing.assert_array_equal(pictures[0].probabilities, pictures[3].probabilities)
        named = client.predict(image, run_id=run.id, epoch=0)
        assert named.model.epoch == 0

        batch = client.predict_batch(list(mnist.test_images[:200]))
        digits = [p.digit for p in batch]
        assert len(batch) == 200 and np.mean(np.array(digits) == mnist.test_labels[:200]) > 0.7
        mixed = client.predict_batch([image / 255, png, mnist.test_images[1]], return_pixels=True)
        assert [p.digit for p in mixed] == [7, 7, digits[1]] and mixed[1].pixels is not None

        with pytest.raises(ValueError, match="784"):
            client.predict(np.zeros(10))
        with pytest.raises(DeeplookError) as bad:
            client.predict(b"GIF89a not a png")
        assert bad.value.status == 422 and "PNG" in bad.value.detail


def test_models_download_as_npz_and_onnx(server, trained, mnist, tmp_path):
    run, _ = trained
    with Client(server.url) as client:
        npz = client.download_model(path=tmp_path / "model.npz")
        weights = serialize.load(tmp_path / "model.npz").weights
        assert npz == (tmp_path / "model.npz").read_bytes()
        onnx = client.download_model(run.id, epoch=1, format="onnx")
    session = onnxruntime.InferenceSession(onnx, providers=["CPUExecutionProvider"])
    pixels = mnist.test_images[:500].astype(np.float32) / 255
    (probabilities,) = session.run(None, {"pixels": pixels})
    np.testing.assert_allclose(probabilities, weights.predict_proba(pixels), atol=1e-5)


def test_the_token_is_sent_and_errors_carry_the_servers_code(server, trained):
    run, _ = trained
    with Client(server.url) as anonymous:
        with pytest.raises(DeeplookError) as refused:
            anonymous.runs.start(preset="notebook-sgd")
        assert refused.value.status == 401
        assert run.id in [r.id for r in anonymous.runs.list()]
    with Client(server.url, token=TOKEN) as client:
        with pytest.raises(DeeplookError) as missing:
            client.runs.get("0123456789ab")
        assert missing.value.status == 404 and missing.value.code == "run_not_found"
        second = client.runs.start(preset="notebook-sgd", epochs=50)
        stopped = client.runs.stop(second.id)
        assert stopped.id == second.id
        assert [event["run"]["status"] for event in client.watch(second.id)][-1] in ("stopped", "completed")


def test_the_async_client_does_the_same(server, trained, mnist):
    run, _ = trained

    async def main() -> None:
        async with AsyncClient(server.url, token=TOKEN) as client:
            answer = await client.predict(mnist.test_images[0])
            assert answer.digit == 7 and answer.model.run_id == run.id
            batch = await client.predict_batch(list(mnist.test_images[:10]))
            assert len(batch) == 10
            assert (await client.runs.get(run.id)).status == "completed"
            assert run.id in [r.id for r in await client.runs.list()]
            events = [event async for event in client.watch(run.id)]
            assert events[0]["type"] == "snapshot" and events[-1]["run"]["status"] == "completed"
            assert (await client.download_model(run.id, format="onnx"))[:2] == b"\x08\x0a"  # ir_version 10
            with pytest.raises(DeeplookError):
                await client.runs.stop("0123456789ab")

    run_async(main())
