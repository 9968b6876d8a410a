"""The Step-by-step trace of a 5-digit batch: server time (median round trip on loopback) and payload,
for 784-50-10 and 784-256-128-10, printed as a table. Run: ``python -m bench.trace``."""

from __future__ import annotations

import argparse
import time

from bench.common import Server, median, report

NETWORKS = {"784-50-10 (notebook-sgd)": "notebook-sgd", "784-256-128-10 (relu-adam)": "relu-adam"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rows = []
    server = Server()
    try:
        for label, preset in NETWORKS.items():
            run_id = server.start(preset=preset, epochs=1)
            server.wait(run_id)
            for steps in (1, 5):
                times, size = [], 0
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    response = server.http.post(
                        f"/api/runs/{run_id}/trace", json={"epoch": 1, "steps": steps}
                    )
                    times.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                    size = len(response.content)
                rows.append(
                    (label, str(steps), f"{median(times):.1f} ms", f"{size / 1e6:.2f} MB", "< 50 ms, < 2 MB")
                )
    finally:
        server.close()
    report(rows, ("network", "steps", "server time (median)", "payload", "target"))


if __name__ == "__main__":
    main()
