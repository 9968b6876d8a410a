"""The coach on real MNIST runs: every preset trained its full epochs, and the runs made to show each
problem (tests/engine/test_coach.py). For each: which rules speak after the last epoch, and at which
epoch each first spoke. A healthy preset should hear nothing. Run: ``python -m bench.coach``."""

from __future__ import annotations

import argparse
import time

from bench.common import report
from deeplook.engine.coach import coach
from deeplook.engine.config import PRESETS
from deeplook.engine.data import load_dataset
from tests.engine.runs import train
from tests.engine.test_coach import PROVOKED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presets", nargs="*", default=list(PRESETS), help="presets to train in full")
    args = parser.parse_args()
    data = load_dataset("mnist")
    cases = [(name, name, {}) for name in args.presets]
    cases += [(f"made to show {code}", preset, settings) for code, (preset, settings) in PROVOKED.items()]
    rows = []
    for label, preset, settings in cases:
        started = time.perf_counter()
        run = train(data, preset, **settings)
        seconds = time.perf_counter() - started
        first: dict[str, int] = {}
        for end in range(1, len(run.epochs) + 1):
            for advice in coach(run.history(end)):
                first.setdefault(advice.code, end)
        final = [advice.code for advice in coach(run.history())]
        spoke = ", ".join(f"{code} (epoch {epoch})" for code, epoch in first.items()) or "nothing"
        rows.append(
            (
                label,
                f"{len(run.epochs)}",
                f"{run.epochs[-1].test_accuracy:.4f}",
                ", ".join(final) or "nothing",
                spoke,
                f"{seconds:.0f} s",
            )
        )
        print(*rows[-1], sep=" | ", flush=True)
    print()
    report(rows, ("run", "epochs", "test accuracy", "advice at the end", "first spoke", "time"))


if __name__ == "__main__":
    main()
