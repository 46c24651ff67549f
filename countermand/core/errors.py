"""Domain errors. Each carries a stable `code`; entry points map codes to HTTP statuses and messages."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a service raises on purpose. `code` is stable; `message` is for people."""

    code = "DOMAIN_ERROR"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"
    http_status = 400


class NotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    http_status = 403


class Conflict(DomainError):
    code = "CONFLICT"
    http_status = 409
