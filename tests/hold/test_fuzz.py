"""Schemathesis over the whole OpenAPI of a real server: no 5xx, no answer outside the schema."""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deeplook.app.config import Settings
from deeplook.app.main import create_app
from tests.hold import fuzz_media  # noqa: F401  (registers real pictures and raw pixel rows as bodies)
from tests.support import Server, finished, wait_for_run

pytestmark = pytest.mark.slow
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory, mnist):
    server = Server(tmp_path_factory.mktemp("data"))
    run_id = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1}).json()["id"]
    wait_for_run(server.http.get, run_id, finished)  # a model, so predict answers 200 as well as 4xx
    yield server
    server.close()


# The schema is static: read it from an app that is built but never started (no lifespan runs),
# then send every case to the real server. (schemathesis' lazy fixture loader needs pytest < 9.2.)
schema = schemathesis.openapi.from_dict(create_app(Settings(data_dir=Path("unused"))).openapi())


@schema.parametrize()
@seed(20261128)
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_every_answer_matches_the_schema(case, fuzzed_server):
    response = case.call(base_url=fuzzed_server.url)
    try:
        case.validate_response(response, checks=CHECKS)
    finally:
        if case.method.upper() == "POST" and case.path == "/api/runs" and response.status_code == 201:
            fuzzed_server.http.post(f"/api/runs/{response.json()['id']}/stop")
