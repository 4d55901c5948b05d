"""Python client for Larder: `Larder(url, token)`."""
from .client import Larder
from .errors import (
    BadRequestError,
    ConflictError,
    ExpectationFailedError,
    ForbiddenError,
    LarderError,
    NotFoundError,
    PayloadTooLargeError,
    ServerError,
    UnauthorizedError,
)

__all__ = [
    "Larder",
    "LarderError",
    "BadRequestError",
    "UnauthorizedError",
    "ForbiddenError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "ExpectationFailedError",
    "ServerError",
]
