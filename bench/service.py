"""Service benchmark: predict throughput and latency, websocket fan-out cost, /api/health latency.

Starts ``deeplook serve`` on a free loopback port with a temporary data folder, and measures with
real HTTP and websocket clients on this machine (they share its cores with the server: the numbers
include their cost). Run from the repository root: ``python bench/service.py [--clients 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import numpy as np
from websockets.asyncio.client import connect

from deeplook.engine.data import load_dataset
from tests.support import canvas_png, free_port


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DEEPLOOK_DATA_DIR": str(data_dir), "DEEPLOOK_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "deeplook", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/api/health").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def latencies(
    client: httpx.Client, call: Callable[[httpx.Client], httpx.Response], count: int
) -> list[float]:
    """Milliseconds of ``count`` sequential calls."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = call(client)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


def throughput(
    url: str, call: Callable[[httpx.Client], httpx.Response], clients: int, seconds: float
) -> dict:
    """Requests per second and latency percentiles with ``clients`` concurrent keep-alive clients."""
    stop = time.monotonic() + seconds
    results: list[list[float]] = [[] for _ in range(clients)]

    def worker(times: list[float]) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while time.monotonic() < stop:
                started = time.perf_counter()
                call(client).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=worker, args=(times,)) for times in results]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    flat = [t for times in results for t in times]
    return {
        "rps": len(flat) / elapsed,
        "p50": percentile(flat, 50),
        "p99": percentile(flat, 99),
        "n": len(flat),
    }


class Viewers:
    """``count`` websocket clients in a background thread, each reading every message."""

    def __init__(self, ws_url: str, count: int) -> None:
        self.ws_url, self.count = ws_url, count
        self.received = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _viewer(self, connected: list[int]) -> None:
        async with connect(self.ws_url, max_size=None) as socket:
            connected.append(1)
            if len(connected) == self.count:
                self._ready.set()
            async for _ in socket:
                self.received += 1

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        connected: list[int] = []
        tasks = [asyncio.create_task(self._viewer(connected)) for _ in range(self.count)]
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> Viewers:
        if self.count:
            self._thread.start()
            if not self._ready.wait(60):
                raise RuntimeError("viewers did not connect")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.count and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(30)


def epoch_seconds(client: httpx.Client, epochs: int) -> float:
    """Median training seconds per epoch of a fresh notebook-sgd run (evaluation excluded)."""
    run = client.post("/api/runs", json={"preset": "notebook-sgd", "epochs": epochs, "seed": 1}).json()
    while (detail := client.get(f"/api/runs/{run['id']}").json())["status"] not in ("completed", "failed"):
        time.sleep(0.2)
    return statistics.median(epoch["seconds"] for epoch in detail["epochs"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=4, help="concurrent predict clients")
    parser.add_argument("--calls", type=int, default=1000, help="sequential /api/health calls per phase")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput phase")
    parser.add_argument("--viewers", type=int, nargs="+", default=[0, 50, 200], help="fan-out sizes")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per fan-out measurement")
    parser.add_argument("--repeats", type=int, default=2, help="rounds of A B C C B A fan-out measurements")
    args = parser.parse_args()

    mnist = load_dataset("mnist")
    pixels = {"pixels": (mnist.test_images[0] / 255).tolist()}
    image = {"image": base64.b64encode(canvas_png(mnist.test_images[0])).decode()}
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        process, url = start_server(Path(folder))
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                health = lambda c: c.get("/api/health")  # noqa: E731
                idle = latencies(client, health, args.calls)
                run = client.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 200}).json()
                while client.get(f"/api/runs/{run['id']}").json()["checkpoint_epoch"] < 1:
                    time.sleep(0.1)
                busy = latencies(client, health, args.calls)
                client.post(f"/api/runs/{run['id']}/stop").raise_for_status()
            rows += [
                (
                    "health idle median / p99 (ms)",
                    f"{statistics.median(idle):.2f} / {percentile(idle, 99):.2f}",
                ),
                (
                    "health training median / p99 (ms)",
                    f"{statistics.median(busy):.2f} / {percentile(busy, 99):.2f}",
                ),
                ("health p99 ratio training / idle", f"{percentile(busy, 99) / percentile(idle, 99):.2f}"),
            ]
            fanout: dict[int, list[float]] = {n: [] for n in args.viewers}
            with httpx.Client(base_url=url, timeout=30) as client:
                order = [*args.viewers, *reversed(args.viewers)] * args.repeats  # A B C C B A against drift
                for count in order:
                    with Viewers(url.replace("http", "ws") + "/ws", count):
                        fanout[count].append(epoch_seconds(client, args.epochs))
            base = statistics.median(fanout[args.viewers[0]])
            for count in args.viewers:
                seconds = statistics.median(fanout[count])
                rows.append(
                    (
                        f"training epoch with {count} viewers (s; throughput vs {args.viewers[0]})",
                        f"{seconds:.3f} s; {base / seconds:.2f}x",
                    )
                )
            for name, body in (("pixels JSON", pixels), ("280x280 PNG", image)):
                result = throughput(
                    url, lambda c, b=body: c.post("/api/predict", json=b), args.clients, args.seconds
                )
                rows.append(
                    (
                        f"predict {name}, {args.clients} clients",
                        f"{result['rps']:.0f} req/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms",
                    )
                )
        finally:
            process.terminate()
            process.wait(15)
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure':<{width}} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")


if __name__ == "__main__":
    main()
