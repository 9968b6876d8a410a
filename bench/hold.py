"""A classroom against one server: N browsers opening the page at once (each: a websocket and its
snapshots, the run list and the server's info), M clients polling the active run, P websocket clients
that never read; while a long finished run (200 epochs, 375,000 steps) is the latest and another run
trains. Reports /api/health latency, the time to a page's first snapshot, and training speed against
the same run alone, as a table. Run from the repository root: ``python -m bench.hold``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx2 as httpx
import numpy as np
from websockets.asyncio.client import connect

from bench.common import Server, machine, median, table, wrk
from tests.hold.test_stalls import long_history

TRAIN = {"preset": "notebook-sgd", "epochs": 400, "batch_size": 50, "seed": 1}
CLIENT_NICENESS = 10
"""The simulated browsers run at a lower priority: on a class's network they would be on their own
machines, not taking the server's two cores (wrk, timing /api/health, runs at normal priority)."""


async def browser(url: str, ws_url: str, snapshot_ms: list[float], gate: asyncio.Event) -> None:
    await gate.wait()
    started = time.perf_counter()
    async with connect(ws_url, max_size=None, open_timeout=60) as ws:
        await asyncio.wait_for(ws.recv(), 60)
        snapshot_ms.append((time.perf_counter() - started) * 1000)
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            (await client.get("/api/runs")).raise_for_status()
            (await client.get("/api/info")).raise_for_status()
        await asyncio.sleep(1.0)


async def poller(url: str, run_id: str, stop: asyncio.Event, answers: list[float]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            (await client.get(f"/api/runs/{run_id}")).raise_for_status()
            answers.append((time.perf_counter() - started) * 1000)


async def non_reader(ws_url: str, stop: asyncio.Event) -> None:
    try:
        async with connect(ws_url, max_size=None, max_queue=1, open_timeout=60):
            await stop.wait()  # never reads: the server must close it, not wait for it
    except Exception:
        pass


async def _background(url: str, run_id: str, pollers: int, stalled: int, seconds: float) -> dict:
    ws_url = url.replace("http", "ws") + "/ws"
    stop = asyncio.Event()
    polls: list[float] = []
    tasks = [asyncio.create_task(non_reader(ws_url, stop)) for _ in range(stalled)]
    tasks += [asyncio.create_task(poller(url, run_id, stop, polls)) for _ in range(pollers)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"polls_per_s": len(polls) / seconds, "poll_p50": median(polls) if polls else float("nan")}


async def _browsers(url: str, count: int, delay: float) -> dict:
    ws_url = url.replace("http", "ws") + "/ws"
    gate = asyncio.Event()
    snapshots: list[float] = []
    pages = [asyncio.create_task(browser(url, ws_url, snapshots, gate)) for _ in range(count)]
    await asyncio.sleep(delay)
    gate.set()  # every browser at once
    await asyncio.gather(*pages)
    return {"snapshot_p50": median(snapshots), "snapshot_p99": float(np.percentile(snapshots, 99))}


def background(args: tuple[str, str, int, int, float]) -> dict:
    os.nice(CLIENT_NICENESS)
    return asyncio.run(_background(*args))


def browsers(args: tuple[str, int, float]) -> dict:
    os.nice(CLIENT_NICENESS)
    return asyncio.run(_browsers(*args))


def scenario(server: Server, run_id: str, count: int, pollers: int, stalled: int, seconds: float) -> dict:
    """Each population of clients in a process of its own, /api/health timed by wrk (in C) meanwhile,
    so that no client's own work counts as the server's latency."""
    steps_before = server.http.get(f"/api/runs/{run_id}").json()["steps_done"]
    began = time.monotonic()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        crowd = pool.submit(background, (server.url, run_id, pollers, stalled, seconds))
        pages = pool.submit(browsers, (server.url, count, 2.0))
        health = wrk(f"{server.url}/api/health", None, 1, seconds, threads=1)
        result = {**crowd.result(), **pages.result()}
    elapsed = time.monotonic() - began
    steps = server.http.get(f"/api/runs/{run_id}").json()["steps_done"] - steps_before
    return {**result, "health_p99": health.p99, "health_p50": health.p50, "steps_per_s": steps / elapsed}


def alone(server: Server, run_id: str, seconds: float) -> float:
    before = server.http.get(f"/api/runs/{run_id}").json()["steps_done"]
    time.sleep(seconds)
    return (server.http.get(f"/api/runs/{run_id}").json()["steps_done"] - before) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--browsers", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--pollers", type=int, default=10)
    parser.add_argument("--stalled", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        long_history(data_dir)
        server = Server({"DEEPLOOK_MAX_ACTIVE_RUNS": "1"}, data_dir=data_dir)
        try:
            run_id = server.start(**TRAIN)
            server.wait(run_id, "trained")
            rows = []
            for count in args.browsers:
                quiet = alone(server, run_id, args.seconds / 2)
                result = scenario(server, run_id, count, args.pollers, args.stalled, args.seconds)
                quiet = (quiet + alone(server, run_id, args.seconds / 2)) / 2  # before and after: drift
                rows.append(
                    (
                        f"{count} browsers at once, {args.pollers} pollers, {args.stalled} stalled sockets",
                        f"{result['health_p99']:.1f} ms (p50 {result['health_p50']:.1f})",
                        f"{result['snapshot_p50']:.0f} / {result['snapshot_p99']:.0f} ms",
                        f"{result['polls_per_s']:.0f}/s at {result['poll_p50']:.0f} ms",
                        f"{result['steps_per_s'] / quiet:.2f}x "
                        f"({result['steps_per_s']:.0f} vs {quiet:.0f} steps/s)",
                    )
                )
        finally:
            server.stop_all()
            server.close()
    print(f"Machine: {machine()}; targets: health p99 < 50 ms, training >= 0.8x alone\n")
    print(
        table(
            rows, ("load", "health p99", "first snapshot p50 / p99", "active-run polls", "training vs alone")
        )
    )


if __name__ == "__main__":
    main()
