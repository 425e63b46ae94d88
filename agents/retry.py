"""Which model-call failures are worth retrying, and how long to wait."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moot.protocols.spec import ProviderSettings

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}


@dataclass(frozen=True)
class Failure:
    """A classified failure of one attempt."""

    kind: str
    """Short category: `rate_limit`, `server_error`, `timeout`, `connection`, `malformed`, `client_error`, `other`."""
    transient: bool
    """Whether retrying may help."""
    retry_after: float | None
    """Seconds the server asked to wait, when it said so."""
    message: str
    """What went wrong, without secrets."""


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a client error, when it came from an HTTP answer."""
    status = getattr(exc, "status_code", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify(exc: BaseException) -> Failure:
    """Classify an exception raised by a model client."""
    name = type(exc).__name__
    # Not cut to a length here: a cut could split a secret, and redaction matches whole secrets.
    text = f"{name}: {exc}".splitlines()[0] if str(exc) else name
    status = http_status(exc)
    if status is not None:
        kind = "rate_limit" if status == 429 else "server_error" if status >= 500 else "client_error"
        return Failure(kind, status in RETRYABLE_STATUS, _retry_after(exc), f"HTTP {status}: {text}")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) or "Timeout" in name:
        return Failure("timeout", True, None, text)
    if isinstance(exc, (ConnectionError, OSError)) or "Connection" in name or "RemoteProtocol" in name:
        return Failure("connection", True, None, text)
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) or "ResponseValidation" in name or "Decode" in name:
        return Failure("malformed", True, None, text)
    return Failure("other", False, None, text)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, honouring Retry-After."""

    max_retries: int = 4
    """Retries after the first attempt."""
    base_delay: float = 0.5
    """Upper bound of the first backoff, in seconds; it doubles with each retry."""
    max_delay: float = 30.0
    """Upper bound of any backoff, in seconds."""

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> RetryPolicy:
        """The policy a provider's settings in the spec ask for."""
        return cls(
            max_retries=settings.max_retries,
            base_delay=settings.retry_base_delay_s,
            max_delay=settings.retry_max_delay_s,
        )

    def delay(self, retry: int, failure: Failure, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (from 1)."""
        if failure.retry_after is not None:
            return min(failure.retry_after, self.max_delay * 4)
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (retry - 1)))
