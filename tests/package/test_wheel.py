"""The wheel, as a user of it gets it: built, installed into a fresh venv outside the checkout, served."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import Server, finished, wait_for_run

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "wheel.sh"


def _run(*args: str | Path, env: dict[str, str]) -> None:
    subprocess.run([str(a) for a in args], check=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, venv): scripts/wheel.sh build, then install into a venv in an empty folder."""
    folder = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing of the checkout leaks in
    env.setdefault("UV", str(Path(sys.executable).with_name("uv")))
    _run(SCRIPT, "build", folder / "dist", env=env)
    (wheel,) = (folder / "dist").glob("deeplook-*.whl")
    _run(SCRIPT, "install", folder / "venv", wheel, env=env)
    return wheel, folder / "venv", env


def test_the_wheel_holds_the_dashboard_and_the_drawn_digits(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "deeplook/static/index.html",
        "deeplook/static/js/main.js",
        "deeplook/static/css/app.css",
        "deeplook/static/widget/run-widget.js",
        "deeplook/engine/data/drawn/README.md",
        "deeplook/cli.py",
    ):
        assert expected in names, expected
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_the_installed_wheel_serves_trains_and_predicts(installed, tmp_path, mnist):
    _, venv, env = installed
    version = subprocess.run(
        [venv / "bin" / "deeplook", "--version"], capture_output=True, text=True, check=True, env=env
    ).stdout
    module = subprocess.run(
        [venv / "bin" / "python", "-m", "deeplook", "--version"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert version == module and version.split()[-1][0].isdigit()
    located = subprocess.run(
        [venv / "bin" / "python", "-c", "import deeplook; print(deeplook.__file__)"],
        capture_output=True, text=True, check=True, env=env, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert Path(located).is_relative_to(venv)

    server = Server(tmp_path / "data", command=[str(venv / "bin" / "deeplook")], cwd=tmp_path)
    try:
        page = server.http.get("/")
        assert page.status_code == 200 and '<script type="module"' in page.text
        assert server.http.get("/js/main.js").headers["content-type"].startswith("text/javascript")
        assert server.http.get("/docs").status_code == 200
        run = server.http.post("/api/runs", json={"preset": "notebook-adam", "epochs": 1}).json()
        record = wait_for_run(server.http.get, run["id"], finished, timeout=300)
        assert record["status"] == "completed" and record["test_accuracy"] > 0.9
        pixels = (mnist.test_images[0] / 255).tolist()
        answer = server.http.post("/api/predict", json={"pixels": pixels}).json()
        assert answer["digit"] == 7 and answer["model"]["run_id"] == run["id"]
    finally:
        server.close()
