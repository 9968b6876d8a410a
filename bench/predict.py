"""Predict for other services, before and after the fast path, with wrk (the C load generator).

``python -m bench.predict [--seconds 5] [--repeats 3] [--before-ref 7490015]``

One notebook-sgd model (784-50-10, sigmoid, one epoch) is trained once; every server then serves a copy
of that data folder: the code before the fast path (a temporary git worktree of ``--before-ref``, or
``--before PATH``), the code of this checkout, and predict-only replicas of it with 1 and 2 uvicorn
workers. Servers, wrk and everything else share this machine's cores: each configuration is measured
``--repeats`` times in interleaved rounds (A B C ... A B C ...) and the table gives medians.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import Load, Server, machine, median, table, wrk
from deeplook.engine.data import load_dataset
from tests.support import canvas_png

ROOT = Path(__file__).resolve().parent.parent
BEFORE_REF = "7490015"
"""The last commit before the fast path (its /api/predict validated 784 pydantic floats)."""
RAW = "application/octet-stream"


def before_tree(args: argparse.Namespace, folder: Path) -> Path:
    if args.before is not None:
        return Path(args.before)
    tree = folder / "before-tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before_ref],
        check=True,
        capture_output=True,
    )
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each wrk measurement")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds of every measurement")
    parser.add_argument("--before", type=Path, help="a checkout of the code before (default: a worktree)")
    parser.add_argument("--before-ref", default=BEFORE_REF, help="the commit measured as before")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()

    mnist = load_dataset("mnist")
    digit = mnist.test_images[0]
    pixels_json = json.dumps({"pixels": (digit / 255).tolist()}).encode()
    png = canvas_png(digit)
    image_json = json.dumps({"image": base64.b64encode(png).decode()}).encode()
    thousand = mnist.test_images[:1000]
    batch_uint8 = thousand.tobytes()
    batch_json = json.dumps({"inputs": [{"pixels": (x / 255).tolist()} for x in thousand]}).encode()
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="deeplook-bench-predict-") as name:
        folder = Path(name)
        before_path = before_tree(args, folder)
        # trained by the code before: this code reads its data folder, while the code before cannot
        # read runs whose configs hold settings added since
        trainer = Server(env={"PYTHONPATH": str(before_path)}, data_dir=folder / "model", cwd=before_path)
        try:
            trainer.wait(trainer.start(preset="notebook-sgd", epochs=1, seed=0))
        finally:
            trainer.close()

        def server(label: str, tree: Path, *extra: str) -> Server:
            data = folder / f"data-{label}"
            shutil.copytree(folder / "model", data)
            return Server(env={"PYTHONPATH": str(tree)}, data_dir=data, args=extra, cwd=tree)

        servers = {
            "before": server("before", before_path),
            "after": server("after", ROOT),
            "replica x1": server("replica1", ROOT, "--predict-only"),
            "replica x2": server("replica2", ROOT, "--predict-only", "--workers", "2"),
        }
        try:
            for running in servers.values():  # every worker warm (imports, first forward pass)
                for _ in range(20):
                    running.http.post(
                        "/api/predict", content=pixels_json, headers={"content-type": "application/json"}
                    ).raise_for_status()
            check_batch = servers["after"].http.post(
                "/api/predict/batch", content=batch_uint8, headers={"content-type": RAW}
            )
            check_batch.raise_for_status()

            cases: list[tuple[str, str, Callable[[], Load]]] = []

            def case(row: str, label: str, path: str, body: bytes, connections: int, kind: str) -> None:
                url = servers[label].url + path
                cases.append((row, label, lambda: wrk(url, body, connections, args.seconds, kind)))

            json_kind = "application/json"
            for n in args.connections:
                for label in ("before", "after"):
                    case(f"JSON predict, {n} conn.", label, "/api/predict", pixels_json, n, json_kind)
            case("binary uint8 predict, 8 conn.", "after", "/api/predict", digit.tobytes(), 8, RAW)
            floats = (digit.astype(np.float32) / 255).astype("<f4").tobytes()
            case("binary float32 predict, 8 conn.", "after", "/api/predict?dtype=float32", floats, 8, RAW)
            for label in ("before", "after"):
                case("PNG 280x280 as base64 JSON, 8 conn.", label, "/api/predict", image_json, 8, json_kind)
            case("PNG 280x280 as image/png body, 8 conn.", "after", "/api/predict", png, 8, "image/png")
            case(
                "batch of 1,000 uint8 (one call at a time)",
                "after",
                "/api/predict/batch",
                batch_uint8,
                1,
                RAW,
            )
            case(
                "batch of 1,000 JSON (one call at a time)",
                "after",
                "/api/predict/batch",
                batch_json,
                1,
                json_kind,
            )
            for n in (8, 32):
                for label in ("replica x1", "replica x2"):
                    case(f"replica JSON predict, {n} conn.", label, "/api/predict", pixels_json, n, json_kind)

            results: dict[tuple[str, str], list[Load]] = {}
            for round_number in range(args.repeats):
                for row, label, measure in cases:
                    results.setdefault((row, label), []).append(measure())
                print(f"round {round_number + 1}/{args.repeats} done", flush=True)
        finally:
            for running in servers.values():
                running.close()
            if args.before is None:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before_path)],
                    capture_output=True,
                )

    def cell(row: str, label: str) -> str:
        loads = results.get((row, label))
        if not loads:
            return ""
        errors = sum(load.errors for load in loads)
        text = (
            f"{median([l.rps for l in loads]):,.0f}/s, p50 {median([l.p50 for l in loads]):.1f} ms, "
            f"p99 {median([l.p99 for l in loads]):.1f} ms"
        )
        return text + (f" ({errors} errors)" if errors else "")

    def ratio(row: str, a: str, b: str) -> str:
        if (row, a) not in results or (row, b) not in results:
            return ""
        return f"{median([l.rps for l in results[row, b]]) / median([l.rps for l in results[row, a]]):.2f}x"

    rows = []
    for row in dict.fromkeys(r for r, _, _ in cases):
        if row.startswith("replica"):
            rows.append(
                (
                    row,
                    cell(row, "replica x1"),
                    cell(row, "replica x2"),
                    ratio(row, "replica x1", "replica x2"),
                )
            )
        else:
            rows.append((row, cell(row, "before"), cell(row, "after"), ratio(row, "before", "after")))
    print()
    print(
        f"{machine()}; load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
        f"wrk 2 threads, {args.seconds:.0f} s per measurement, median of {args.repeats} interleaved rounds"
    )
    print("(replica rows: columns are 1 worker, 2 workers)")
    print(table(rows, ("measure", "before", "after", "after / before")))


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"\n{time.monotonic() - started:.0f} s in all")
