"""Where a run's files live, in one place: ``runs/<id>/checkpoints/NNNN.npz`` (an epoch's full state,
with the optimizer's, to resume), ``runs/<id>/models/NNNN.npz`` (each epoch's weights, to serve) and
``runs/<id>/epochs/NNNN.npz`` (each epoch's look-inside report; epoch 0 is the random start).

Every file is written atomically, before the database records its epoch; the database says which
checkpoint counts (``checkpoint_epoch``). Checkpoints older than that one are removed once it is
recorded, so a crash between the two writes leaves the recorded checkpoint in place, never a newer
one the database does not know. ``run_id`` is validated by the routes before it gets here."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from deeplook.engine.files import write_atomically

EPOCH_FILE = re.compile(r"^(\d{4,})\.npz$")


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
