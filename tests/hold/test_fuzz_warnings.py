"""The schemathesis CLI over the predict operations of a real server: the data their schema allows is
served (no "schema validation mismatch" or "missing test data" warning), and no 5xx."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deeplook.app.config import Settings
from deeplook.app.main import create_app
from tests.support import Server, finished, wait_for_run

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_the_predict_operations_serve_what_their_schema_allows(tmp_path, mnist):
    server = Server(tmp_path / "data")
    try:
        run_id = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1}).json()["id"]
        wait_for_run(server.http.get, run_id, finished)
        spec = tmp_path / "openapi.json"
        spec.write_text(json.dumps(create_app(Settings(data_dir=Path("unused"))).openapi()))
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            str(spec),
            "--url",
            server.url,
            "--include-path-regex",
            "^/api/predict",
            "--max-examples",
            "60",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--seed",
            "20261128",
            "--no-color",
        ]
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.hold.fuzz_media", "PYTHONPATH": str(ROOT)}
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    finally:
        server.close()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"Operations:\s+3 selected", output), output[-4000:]
    assert "validation mismatch" not in output.lower(), output[-4000:]
    assert "missing test data" not in output.lower(), output[-4000:]
