"""Larder's refusals as exceptions: each carries Larder's stable `code`, the HTTP status and
the message saying what to do."""
from __future__ import annotations

from typing import Dict, Optional, Type


class LarderError(Exception):
    """A request Larder refused or could not answer."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"


class BadRequestError(LarderError):
    """400: the request names something wrongly or carries bad values."""


class UnauthorizedError(LarderError):
    """401: no token, or an unknown one."""


class ForbiddenError(LarderError):
    """403: the token's scope is too small."""


class NotFoundError(LarderError):
    """404: an unknown view, service, source or entity."""


class ConflictError(LarderError):
    """409: not materialized yet, or busy (a materialization running)."""


class PayloadTooLargeError(LarderError):
    """413: a body over the server's limit."""


class ExpectationFailedError(LarderError):
    """422: the data failed its expectations; nothing was written."""


class ServerError(LarderError):
    """5xx: the server or a store behind it failed."""


_BY_STATUS: Dict[int, Type[LarderError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ExpectationFailedError,
}


def error_for(status: int, code: Optional[str], message: str) -> LarderError:
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else LarderError)
    return cls(message, code or "unknown", status)
