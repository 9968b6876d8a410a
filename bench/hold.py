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
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import numpy as np
from websockets.asyncio.client import connect

from bench.common import Server, machine, median, table, wrk
from tests.hold.test_stalls import long_history

TRAIN = {"preset": "notebook-sgd", "epochs": 1000, "batch_size": 50, "seed": 1}
"""About 0.45 s an epoch alone: long enough for every round (the epochs bound is 1,000)."""
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


async def non_reader(ws_url: str, stop: asyncio.Event) -> None:
    try:
        async with connect(ws_url, max_size=None, max_queue=1, open_timeout=60):
            await stop.wait()  # never reads: the server must close it, not wait for it
    except Exception:
        pass


async def _stalled(url: str, stalled: int, seconds: float) -> None:
    ws_url = url.replace("http", "ws") + "/ws"
    stop = asyncio.Event()
    tasks = [asyncio.create_task(non_reader(ws_url, stop)) for _ in range(stalled)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _browsers(url: str, count: int, delay: float) -> dict:
    ws_url = url.replace("http", "ws") + "/ws"
    gate = asyncio.Event()
    snapshots: list[float] = []
    pages = [asyncio.create_task(browser(url, ws_url, snapshots, gate)) for _ in range(count)]
    await asyncio.sleep(delay)
    gate.set()  # every browser at once
    await asyncio.gather(*pages)
    return {"snapshot_p50": median(snapshots), "snapshot_p99": float(np.percentile(snapshots, 99))}


def stalled_sockets(args: tuple[str, int, float]) -> None:
    os.nice(CLIENT_NICENESS)
    asyncio.run(_stalled(*args))


def browsers(args: tuple[str, int, float]) -> dict:
    os.nice(CLIENT_NICENESS)
    return asyncio.run(_browsers(*args))


def scenario(server: Server, run_id: str, count: int, pollers: int, stalled: int, seconds: float) -> dict:
    """Each population of clients in a process of its own, the pollers and the timing of /api/health by
    wrk (in C, like a browser's own HTTP stack: the pollers accept gzip), so that no client's own work
    counts as the server's latency."""
    steps_before = server.http.get(f"/api/runs/{run_id}").json()["steps_done"]
    began = time.monotonic()
    with (
        ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool,
        ThreadPoolExecutor(1) as threads,
    ):
        crowd = pool.submit(stalled_sockets, (server.url, stalled, seconds))
        pages = pool.submit(browsers, (server.url, count, 2.0))
        polls = threads.submit(
            wrk, f"{server.url}/api/runs/{run_id}", None, pollers, seconds, threads=1,
            headers=("Accept-Encoding: gzip",), niceness=CLIENT_NICENESS,
        )  # fmt: skip
        health = wrk(f"{server.url}/api/health", None, 1, seconds, threads=1)
        crowd.result()
        result = pages.result()
        poll = polls.result()
    elapsed = time.monotonic() - began
    steps = server.http.get(f"/api/runs/{run_id}").json()["steps_done"] - steps_before
    return {
        **result,
        "polls_per_s": poll.rps,
        "poll_p50": poll.p50,
        "health_p99": health.p99,
        "health_p50": health.p50,
        "steps_per_s": steps / elapsed,
    }


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
    parser.add_argument("--repeats", type=int, default=3, help="rounds per crowd size; medians")
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
                ratios, results = [], []
                for _ in range(args.repeats):
                    quiet = alone(server, run_id, args.seconds / 2)
                    result = scenario(server, run_id, count, args.pollers, args.stalled, args.seconds)
                    quiet = (quiet + alone(server, run_id, args.seconds / 2)) / 2  # before and after: drift
                    ratios.append(result["steps_per_s"] / quiet)
                    results.append({**result, "alone": quiet})
                m = {key: median([r[key] for r in results]) for key in results[0]}
                rows.append(
                    (
                        f"{count} browsers at once, {args.pollers} pollers, {args.stalled} stalled sockets",
                        f"{m['health_p99']:.1f} ms (p50 {m['health_p50']:.1f})",
                        f"{m['snapshot_p50']:.0f} / {m['snapshot_p99']:.0f} ms",
                        f"{m['polls_per_s']:.0f}/s at {m['poll_p50']:.0f} ms",
                        f"{median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}; "
                        f"{m['steps_per_s']:.0f} vs {m['alone']:.0f} steps/s)",
                    )
                )
        finally:
            server.stop_all()
            server.close()
    print(
        f"Machine: {machine()}; medians of {args.repeats} rounds; "
        "targets: health p99 < 50 ms, training >= 0.8x alone\n"
    )
    print(
        table(
            rows, ("load", "health p99", "first snapshot p50 / p99", "active-run polls", "training vs alone")
        )
    )


if __name__ == "__main__":
    main()
