"""Hostile input against a real server: huge bodies, lying image headers, path tricks."""

import base64
import socket
import time
from pathlib import Path

import pytest

from tests.app.test_imaging import png_header_only

pytestmark = pytest.mark.slow

TEN_MB = 10 * 1024 * 1024


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_raw(port: int, head: bytes, body_chunks, timeout: float = 10) -> bytes:
    """Send a request by hand (the body may stop being read by the server); return what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the whole body went out
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
                if b"\r\n\r\n" in answer:
                    break
        except ConnectionResetError:
            pass
        return answer


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist):
    from tests.support import Server

    running = Server(tmp_path_factory.mktemp("data"))
    yield running
    running.close()


def test_ten_megabytes_declared_or_chunked_get_413_quickly_without_growing_memory(server):
    before = rss_kib(server.process.pid)
    head = (
        f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {TEN_MB}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    answer = send_raw(server.port, head, [b"0" * 65536] * (TEN_MB // 65536))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3

    chunk = b"0" * 65536
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    head = (
        b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    started = time.monotonic()
    answer = send_raw(server.port, head, [framed] * (TEN_MB // 65536) + [b"0\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3
    assert rss_kib(server.process.pid) - before < 8 * 1024  # far less than the 10 MB sent, twice


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_pngs_claiming_huge_sizes_are_refused_without_decoding(server, side):
    png = png_header_only(side, side)
    started = time.monotonic()
    as_json = server.http.post("/api/predict", json={"image": base64.b64encode(png).decode()})
    as_file = server.http.post("/api/predict/file", files={"file": ("big.png", png, "image/png")})
    assert time.monotonic() - started < 2
    for response in (as_json, as_file):
        assert response.status_code in (409, 413), response.text  # 409 only when no model exists yet


def test_truncated_and_non_image_uploads_are_422(server, mnist):
    run_id = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1}).json()["id"]
    deadline = time.monotonic() + 60
    while server.http.get(f"/api/runs/{run_id}").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    png = png_header_only(280, 280)
    for name, payload in {"truncated.png": png, "notes.txt": b"hello there", "empty.png": b""}.items():
        response = server.http.post("/api/predict/file", files={"file": (name, payload, "image/png")})
        assert response.status_code == 422, (name, response.text)
        assert isinstance(response.json()["detail"], str)
    huge = server.http.post(
        "/api/predict", json={"image": base64.b64encode(png_header_only(20_000, 20_000)).decode()}
    )
    assert huge.status_code == 413


@pytest.mark.parametrize(
    "run_id", ["../x", "%2e%2e%2f", "a" * 300, "abc%00def", "0123456789AB", "..%2f..%2fetc"]
)
def test_hostile_run_ids_never_reach_the_file_system(server, run_id):
    for method, suffix in (("GET", ""), ("GET", "/model"), ("GET", "/metrics.csv"), ("DELETE", "")):
        response = server.http.request(method, f"/api/runs/{run_id}{suffix}")
        assert response.status_code in (404, 422), (method, suffix, response.status_code)
        assert "detail" in response.json()
