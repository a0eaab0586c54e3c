"""The client's exceptions: one hierarchy, so callers catch ``ActioError``."""

from __future__ import annotations


def format_field_errors(errors: dict[str, list[str]]) -> str:
    """Render ACTIO's field errors as one line."""
    return "; ".join(f"{key}: {', '.join(msgs)}" for key, msgs in errors.items())


class ActioError(Exception):
    """Base class for every error raised by the client."""


class ActioConnectionError(ActioError):
    """ACTIO could not be reached or the connection broke."""


class ActioAuthError(ActioError):
    """The token was refused (401/403 or errors.token)."""


class ActioValidationError(ActioError):
    """ACTIO refused the request's data (422); carries the per-field messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        """Store the field errors."""
        self.errors = errors
        super().__init__(format_field_errors(errors) or "Validation failed")


class ActioRateLimitError(ActioError):
    """Too many requests (429); retry_after is in seconds when ACTIO says."""

    def __init__(self, retry_after: float | None) -> None:
        """Store the retry-after hint."""
        self.retry_after = retry_after
        super().__init__(f"Rate limited (retry after {retry_after} s)")


class ActioNoFundsError(ActioError):
    """The account has no funds left (402): nothing was sent, nothing to retry."""


class ActioAnswerLostError(ActioError):
    """The request may have reached ACTIO but no answer came (timeout, reset, 5xx).

    The SMS may have gone out: it is unconfirmed, not "not sent". Retrying
    with the same ``idempotency_key`` cannot send it twice.
    """

    def __init__(self, message: str, idempotency_key: str | None) -> None:
        """Store the key the request was sent with."""
        self.idempotency_key = idempotency_key
        super().__init__(message)


class ActioServerError(ActioAnswerLostError):
    """ACTIO answered with a 5xx status: the request may still have gone through.

    ``retry_after`` is its ``Retry-After`` in seconds, when it gave one.
    """

    def __init__(
        self,
        status: int,
        idempotency_key: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Store the status and the retry-after hint."""
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"ACTIO server error {status}", idempotency_key)


class ActioResponseError(ActioError):
    """ACTIO answered something the spec does not describe."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Store the status."""
        self.status = status
        super().__init__(message)


class ActioNotFoundError(ActioResponseError):
    """The endpoint answered 404 (nothing was sent)."""
