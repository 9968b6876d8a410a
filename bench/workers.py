"""Runs in worker processes, measured side by side in one run and printed as a table:

- a run's epoch time alone, and under saturating predict load (wrk, 8 connections);
- predict requests per second idle, and while two runs train;
- one run's epoch time alone, and while a second run trains beside it;
- resident memory of the server and its workers with 1, 2 and 4 runs (PSS shares the mapped dataset
  fairly among the processes that map it; RSS counts it in each).

Conditions alternate (A B B A ...) for ``--rounds`` rounds so that a machine getting busier slows them
alike; the table gives medians. Run from the repository root: ``python bench/workers.py``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

from bench.common import Load, Server, children, median, memory_kib, report, wrk
from deeplook.engine.data import load_dataset

RUN = {"preset": "notebook-sgd", "batch_size": 50}
"""About 0.4 s of training per epoch on one core: long enough to measure, short to repeat."""


def epoch_times(server: Server, epochs: int, **extra: object) -> list[float]:
    run_id = server.start(**{**RUN, "seed": 1, **extra}, epochs=epochs)
    run = server.wait(run_id)
    return [epoch["seconds"] for epoch in run["epochs"][1:]]  # the first epoch warms up


def under_load(server: Server, body: bytes, epochs: int) -> tuple[list[float], Load]:
    """Epoch times of a run while wrk saturates predict, and wrk's figures."""
    result: dict[str, Load] = {}
    run_id = server.start(**RUN, seed=1, epochs=epochs)
    server.wait(run_id, "trained")
    loader = threading.Thread(
        target=lambda: result.setdefault("load", wrk(f"{server.url}/api/predict", body, 8, 6))
    )
    loader.start()
    run = server.wait(run_id)
    loader.join()
    during = [e["seconds"] for e in run["epochs"] if e["epoch"] > 1]
    return during, result["load"]


def predict_while_training(server: Server, body: bytes, runs: int) -> Load:
    ids = [server.start(**RUN, epochs=200, seed=seed) for seed in range(runs)]
    for run_id in ids:
        server.wait(run_id, "trained")
    load = wrk(f"{server.url}/api/predict", body, 8, 5)
    for run_id in ids:
        server.http.post(f"/api/runs/{run_id}/stop")
    return load


def memory(server: Server, runs: int) -> tuple[int, int, int]:
    """(PSS, RSS, processes) of the server and all its workers while ``runs`` runs train."""
    ids = [server.start(**RUN, epochs=200, seed=seed) for seed in range(runs)]
    for run_id in ids:
        server.wait(run_id, "trained")
    time.sleep(1.0)
    pids = [server.process.pid, *children(server.process.pid)]
    measured = [memory_kib(pid) for pid in pids]
    for run_id in ids:
        server.http.post(f"/api/runs/{run_id}/stop")
    return sum(p for _, p in measured), sum(r for r, _ in measured), len(pids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    mnist = load_dataset("mnist")
    body = json.dumps({"pixels": (mnist.test_images[0] / 255).round(4).tolist()}).encode()
    rows = []
    server = Server({"DEEPLOOK_MAX_ACTIVE_RUNS": "4"})
    try:
        server.wait(server.start(**RUN, epochs=1))  # the dataset is shared and a model serves
        alone, loaded, rps_idle, rps_two, beside = [], [], [], [], []
        for _ in range(args.rounds):
            alone += epoch_times(server, args.epochs)
            during, _ = under_load(server, body, args.epochs)
            loaded += during
            rps_idle.append(wrk(f"{server.url}/api/predict", body, 8, 5))
            rps_two.append(predict_while_training(server, body, 2))
            second = server.start(**RUN, epochs=200, seed=9)
            server.wait(second, "trained")
            beside += epoch_times(server, args.epochs)
            server.http.post(f"/api/runs/{second}/stop")
        a, b = median(alone), median(loaded)
        rows.append(
            (
                "training epoch: alone vs under saturating predict load",
                f"{a:.3f} s",
                f"{b:.3f} s",
                f"{a / b:.2f}x",
                ">= 0.8x",
            )
        )
        i, t = median([x.rps for x in rps_idle]), median([x.rps for x in rps_two])
        rows.append(
            (
                "predict req/s (8 conns): idle vs while two runs train",
                f"{i:.0f}",
                f"{t:.0f}",
                f"{t / i:.2f}x",
                ">= 0.8x",
            )
        )
        s = median(beside)
        rows.append(
            (
                "one run's epoch: alone vs with a second run beside it",
                f"{a:.3f} s",
                f"{s:.3f} s",
                f"{a / s:.2f}x",
                "each on its own core",
            )
        )
        for runs in (1, 2, 4):
            pss, rss, processes = memory(server, runs)
            rows.append(
                (
                    f"memory, server + {runs} worker(s) ({processes} processes)",
                    f"PSS {pss / 1024:.0f} MB",
                    f"RSS {rss / 1024:.0f} MB",
                    "",
                    "dataset (55 MB) not copied per worker",
                )
            )
    finally:
        server.stop_all()
        server.close()
    report(rows, ("measure", "A", "B", "B/A", "target"))


if __name__ == "__main__":
    main()
