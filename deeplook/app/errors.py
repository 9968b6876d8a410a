"""Every error the service answers with, defined once: a stable code, its HTTP status and its English
text with named parameters. The JSON answer carries all three (``{"detail", "code", "params"}``), so
the dashboard can say it in the learner's language and API users still read English."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class ErrorKind:
    status: int
    template: str


ERRORS: Mapping[str, ErrorKind] = MappingProxyType(
    {
        "run_not_found": ErrorKind(404, "no run with id {run!r}"),
        "race_not_found": ErrorKind(404, "no race with id {race!r}"),
        "no_reports": ErrorKind(404, "run {run} has no look-inside reports yet"),
        "no_report": ErrorKind(404, "run {run} has no report for epoch {epoch}; it has epochs {epochs}"),
        "no_epoch_model": ErrorKind(
            404, "run {run} has no saved model of epoch {epoch}; it has epochs {epochs}"
        ),
        "unknown_dataset": ErrorKind(404, "unknown dataset {dataset!r}; choose one of {datasets}"),
        "report_damaged": ErrorKind(
            409, "the look-inside report of run {run}, epoch {epoch}, is damaged: {error}"
        ),
        "not_active": ErrorKind(409, "cannot {action} run {run}: it is {status}"),
        "not_paused": ErrorKind(409, "run {run} is {status}, not paused"),
        "still_active": ErrorKind(409, "run {run} is {status}; stop it before deleting it"),
        "not_resumable": ErrorKind(409, "run {run} is {status}; only {statuses} runs can resume"),
        "all_epochs_trained": ErrorKind(409, "run {run} has already trained all its epochs"),
        "checkpoint_damaged": ErrorKind(409, "run {run} cannot resume: {error}"),
        "queued_run": ErrorKind(409, "run {run} is queued: it can be stopped (cancelled), not {action}"),
        "no_model": ErrorKind(409, "no trained model yet: start a run and let it finish an epoch first"),
        "no_trained_model": ErrorKind(409, "run {run} has no trained model yet (no epoch completed)"),
        "model_damaged": ErrorKind(409, "the model of run {run} cannot be loaded: {error}"),
        "queue_full": ErrorKind(
            429, "{queued} runs are already waiting for a trainer (the limit); try again when one starts"
        ),
        "storage_full": ErrorKind(507, "the server could not save this: {error}"),
        "storage_unavailable": ErrorKind(503, "the database does not take writes right now: {error}"),
        "invalid_config": ErrorKind(422, "{error}"),
        "invalid_checkpoint": ErrorKind(422, "not a usable deeplook checkpoint: {error}"),
        "checkpoint_untrained": ErrorKind(
            422, "the checkpoint is of epoch 0: an untrained network cannot serve predictions"
        ),
        "invalid_input": ErrorKind(422, "{error}"),
        "bad_input": ErrorKind(400, "{error}"),
        "too_large": ErrorKind(413, "{error}"),
        "unsupported_media_type": ErrorKind(
            415, "this route takes {accepted}; the body sent is {media_type!r}"
        ),
        "wrong_shape": ErrorKind(
            422, "model {run} takes {expected} inputs ({dataset}); this input has {found}"
        ),
    }
)


class ServiceError(Exception):
    """A domain error: ``code`` names it in ``ERRORS``; ``params`` fill its text."""

    def __init__(self, code: str, **params: str | int | float) -> None:
        kind = ERRORS[code]
        self.code = code
        self.params = params
        self.status = kind.status
        self.message = kind.template.format(**params)
        super().__init__(self.message)
