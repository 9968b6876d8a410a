"""Where a run's files live, in one place: ``runs/<id>/checkpoints/NNNN.npz`` (an epoch's full state,
with the optimizer's, to resume), ``runs/<id>/models/NNNN.npz`` (each epoch's weights, to serve) and
``runs/<id>/epochs/NNNN.npz`` (each epoch's look-inside report; epoch 0 is the random start).

Every file is written atomically, before the database records its epoch; the database says which
checkpoint counts (``checkpoint_epoch``). Checkpoints older than that one are removed once it is
recorded, so a crash between the two writes leaves the recorded checkpoint in place, never a newer
one the database does not know. ``run_id`` is validated by the routes before it gets here."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

from deeplook.engine.config import TrainConfig
from deeplook.engine.files import write_atomically
from deeplook.engine.model import parameter_shapes

EPOCH_FILE = re.compile(r"^(\d{4,})\.npz$")
MARGIN = 1 << 20
"""Bytes kept free beyond what a start or an import needs (the database grows too)."""
REPORT_BYTES = 200_000
"""About what an epoch's look-inside report takes (predictions, confidences, histograms) beyond its
first-layer weights."""


class RunFiles:
    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir

    def folder(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def checkpoint(self, run_id: str, epoch: int) -> Path:
        """The checkpoint of an epoch (runs from before numbered checkpoints have one ``checkpoint.npz``,
        of their last recorded epoch)."""
        numbered = self.folder(run_id) / "checkpoints" / f"{epoch:04d}.npz"
        legacy = self.folder(run_id) / "checkpoint.npz"
        return legacy if not numbered.exists() and legacy.exists() else numbered

    def prune_checkpoints(self, run_id: str, recorded: int) -> None:
        """Remove the checkpoints before the one the database now records."""
        for epoch in self.epochs(run_id, "checkpoints"):
            if epoch < recorded:
                (self.folder(run_id) / "checkpoints" / f"{epoch:04d}.npz").unlink(missing_ok=True)
        (self.folder(run_id) / "checkpoint.npz").unlink(missing_ok=True)

    def model(self, run_id: str, epoch: int) -> Path:
        return self.folder(run_id) / "models" / f"{epoch:04d}.npz"

    def report(self, run_id: str, epoch: int) -> Path:
        return self.folder(run_id) / "epochs" / f"{epoch:04d}.npz"

    def write(self, path: Path, payload: bytes) -> None:
        write_atomically(path, payload)

    def free_bytes(self) -> int:
        folder = self.runs_dir if self.runs_dir.exists() else self.runs_dir.parent
        folder.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(folder).free

    @staticmethod
    def epoch_bytes(config: TrainConfig) -> int:
        """About what one epoch's files take: checkpoint (with Adam's two moments), model and report."""
        weights = 4 * sum(math.prod(shape) for shape in parameter_shapes(config.model))
        first_layer = 2 * config.model.input_size * config.model.hidden[0]
        return weights * 4 + first_layer + REPORT_BYTES

    def room(self, needed: int) -> str | None:
        """Why ``needed`` bytes (plus a margin) do not fit on the data disk, or None when they do."""
        free = self.free_bytes()
        if free < needed + MARGIN:
            return f"{free:,} bytes are free on the data disk; this needs about {needed + MARGIN:,}"
        return None

    def epochs(self, run_id: str, kind: str) -> list[int]:
        """Epochs with a file of this kind ("checkpoints", "models" or "epochs", the reports), ascending."""
        folder = self.folder(run_id) / kind
        if not folder.is_dir():
            return []
        found = (EPOCH_FILE.match(path.name) for path in folder.iterdir())
        return sorted(int(match.group(1)) for match in found if match)

    def truncate(self, run_id: str, epoch: int) -> None:
        """Forget the checkpoints, models and reports after ``epoch`` (a resumed run writes them again)."""
        for kind in ("checkpoints", "models", "epochs"):
            for later in self.epochs(run_id, kind):
                if later > epoch:
                    (self.folder(run_id) / kind / f"{later:04d}.npz").unlink(missing_ok=True)

    def forget(self, run_id: str) -> None:
        shutil.rmtree(self.folder(run_id), ignore_errors=True)
