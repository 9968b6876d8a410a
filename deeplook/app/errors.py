"""Domain errors of the service; one handler in ``main`` turns each into its HTTP status and message."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: ``status`` is the HTTP status, the message is the JSON ``detail``."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Invalid(ServiceError):
    status = 422


class TooLarge(ServiceError):
    status = 413
