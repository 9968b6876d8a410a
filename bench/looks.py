"""The look-inside views of issue 13 on trained runs: the hidden space (first request, which projects every
saved epoch, and cached), what each unit wants (32 units of the first layer, first and cached), the
coach, and one saliency (gradient + 64-step integrated gradients) in the engine. Medians of round trips
on loopback, printed as a table. Run: ``python -m bench.looks``."""

from __future__ import annotations

import argparse
import time

from bench.common import Server, median, report
from deeplook.engine import saliency, serialize
from deeplook.engine.data import load_dataset
from deeplook.engine.evaluation import scale_pixels

NETWORKS = {"784-50-10 (notebook-adam)": "notebook-adam", "784-256-128-10 (relu-adam)": "relu-adam"}


def _timed(server: Server, path: str, params: dict[str, object] | None = None) -> tuple[float, int]:
    started = time.perf_counter()
    response = server.http.get(path, params=params, timeout=300)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000, len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    data = load_dataset("mnist")
    image = scale_pixels(data.test_images[0])
    rows = []
    server = Server()
    try:
        for label, preset in NETWORKS.items():
            run_id = server.start(preset=preset, epochs=args.epochs)
            server.wait(run_id)
            base = f"/api/runs/{run_id}"
            first, size = _timed(server, f"{base}/embedding")
            cached = median([_timed(server, f"{base}/embedding")[0] for _ in range(args.repeats)])
            rows.append(
                (
                    label,
                    f"embedding, {args.epochs + 1} epochs",
                    f"{first:.0f} ms",
                    f"{cached:.1f} ms",
                    f"{size / 1e3:.0f} kB",
                )
            )
            first, size = _timed(server, f"{base}/wants", {"layer": 0, "limit": 32})
            cached = median(
                [_timed(server, f"{base}/wants", {"layer": 0, "limit": 32})[0] for _ in range(args.repeats)]
            )
            rows.append(
                (
                    label,
                    "wants, 32 units of layer 0",
                    f"{first:.0f} ms",
                    f"{cached:.1f} ms",
                    f"{size / 1e3:.0f} kB",
                )
            )
            times = [_timed(server, f"{base}/coach")[0] for _ in range(args.repeats)]
            rows.append((label, "coach", f"{times[0]:.0f} ms", f"{median(times):.1f} ms", ""))
            weights = serialize.load(server.http.get(f"{base}/model").content).weights
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                saliency.saliency(weights, image, 7)
                times.append((time.perf_counter() - started) * 1000)
            rows.append(
                (label, "saliency (engine, in-process)", f"{times[0]:.0f} ms", f"{median(times):.1f} ms", "")
            )
    finally:
        server.close()
    report(rows, ("network", "view", "first", "again (median)", "payload"))


if __name__ == "__main__":
    main()
