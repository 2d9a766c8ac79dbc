"""Typed errors raised by services; the API and the web map them to HTTP in one place each."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400

    def __init__(self, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}  # extra fields for the JSON answer (e.g. the version a late cancel met)


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    """Bad input; ``fields`` maps a field path (e.g. ``params.epochs``) to what is wrong with it."""

    status_code = 422

    def __init__(self, fields: dict[str, str], message: str = "invalid input") -> None:
        super().__init__(message + ": " + "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class Unavailable(DomainError):
    """A dependency (broker, store) cannot be reached right now; retrying later may work."""

    status_code = 503


class Forbidden(DomainError):
    """Signed in, but this account's role (or ownership) does not allow the action."""

    status_code = 403


class TooManyAttempts(DomainError):
    """Sign-in refused without checking the password: it came too soon after recent failures (throttled)."""

    status_code = 429

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s  # sent as Retry-After


class TamperedArtifact(Conflict):
    """A stored file no longer matches the sha256 recorded for it: it is refused, never loaded."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


class OverLimit(Invalid):
    """A request over a configured limit (its size, the instances in one call): a 413 naming the limit.

    The answer carries ``limit`` (the number) and ``setting`` (the environment variable that sets it).
    """

    status_code = 413

    def __init__(self, field: str, reason: str, limit: int, setting: str) -> None:
        super().__init__({field: f"{reason} ({setting})"}, "over a limit")
        self.details = {"limit": limit, "setting": setting}
