"""deeplook in Jupyter: the extension, the live widget, and the example notebook executed end to end."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from deeplook import notebook
from tests.support import Server, finished, wait_for_run

NOTEBOOK = Path(__file__).parents[2] / "docs" / "deeplook.ipynb"


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist):
    served = Server(tmp_path_factory.mktemp("notebook") / "data")
    yield served
    served.close()


def test_the_extension_adds_the_deeplook_magic():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "deeplook")
    assert "deeplook" in shell.magics_manager.magics["line"]


def test_downsampling_keeps_the_ends_and_bounds_the_points():
    steps = list(range(1, 10_001))
    losses = [1.0] * 5_000 + [3.0] * 5_000
    points = notebook._downsample(steps, losses)
    assert len(points) <= notebook.MAX_POINTS and points[-1][0] == 10_000
    assert points[0][1] == 1.0 and points[-1][1] == 3.0
    assert notebook._downsample([1, 2], [0.5, 0.25]) == [[1, 0.5], [2, 0.25]]


@pytest.mark.slow
def test_the_widget_follows_a_run_from_the_websocket(server):
    book = notebook.Notebook(url=server.url)
    with book.client() as client:  # closed: an open connection would warn in a later test
        run = client.runs.start(preset="notebook-sgd", epochs=2, seed=3)
    widget = notebook.RunWidget(run.id, server.url)
    assert widget.wait(300)
    record = wait_for_run(server.http.get, run.id, finished)
    assert widget.status == record["status"] == "completed" and widget.error == ""
    assert [e["epoch"] for e in widget.epochs] == [1, 2]
    assert widget.epochs[-1]["test_accuracy"] == pytest.approx(record["test_accuracy"])
    assert widget.steps[-1][0] == record["steps_done"] and widget.epochs_total == 2


@pytest.mark.slow
def test_the_example_notebook_runs_and_learns(server, monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPLOOK_URL", server.url)  # the kernel inherits it: the notebook finds this server
    book = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        book,
        timeout=900,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": tmp_path}},
    ).execute()
    text = "\n".join(
        output.get("text", "")
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert "(60000, 784) (10000, 784)" in text
    losses = [float(v) for v in text.split("loss after each step: [")[1].split("]")[0].split(",")]
    assert losses == sorted(losses, reverse=True) and losses[0] > losses[-1]
    accuracy = float(text.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.93
    assert "the network says 7 (truth: 7)" in text
    states = book.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    watched = [s["state"] for s in states.values() if "epochs" in s["state"]]
    assert len(watched) == 1 and [e["epoch"] for e in watched[0]["epochs"]] == [1, 2]
    assert not any(o.get("output_type") == "error" for c in book.cells for o in c.get("outputs", []))
