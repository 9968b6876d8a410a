"""The websocket endpoint's rules: origins, client frames, and clients that fall behind."""

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from deeplook.app.config import Settings
from deeplook.app.main import create_app


def test_same_origin_and_no_origin_are_accepted(client):
    for headers in ({}, {"origin": "http://testserver"}):
        with client.websocket_connect("/ws", headers=headers) as ws:
            assert ws.receive_json()["type"] == "snapshot"


def test_a_foreign_origin_is_refused_before_accept(client):
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/ws", headers={"origin": "http://evil.example"}),
    ):
        pass
    assert refused.value.code == 1008


def test_a_configured_origin_is_accepted(settings):
    allowed = settings.model_copy(update={"allowed_origins": ["http://dashboard.example"]})
    with (
        TestClient(create_app(allowed)) as client,
        client.websocket_connect("/ws", headers={"origin": "http://dashboard.example"}) as ws,
    ):
        assert ws.receive_json()["type"] == "snapshot"


def test_pings_get_pongs_and_anything_else_closes_with_1008(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_text('{"type": "ping"}')
        assert ws.receive_json() == {"type": "pong"}
        ws.send_text('{"type": "subscribe", "run": "x"}')
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_an_oversized_frame_closes_the_socket(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_text("x" * 10_000)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_a_client_whose_queue_overflows_is_closed_with_1013(tmp_path):
    settings = Settings(data_dir=tmp_path, offline=True, ws_queue_limit=8, ws_updates_per_second=1)
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws") as ws:
        ws.receive_json()
        for _ in range(20):  # twenty pongs queue up while the sender waits a second between flushes
            ws.send_text('{"type": "ping"}')
        codes = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                codes.append(ws.receive_json()["type"])
        assert closed.value.code == 1013
