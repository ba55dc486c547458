"""How a failed request to InfluxDB is told apart and said in one line: transport errors (and their kind
for ``write_errors``), ``Retry-After`` (seconds or an HTTP date), and the server's message."""

from __future__ import annotations

import http.client
import time
from email.utils import parsedate_to_datetime


def _transport_errors() -> tuple[type[BaseException], ...]:
    import urllib3

    return (urllib3.exceptions.HTTPError, OSError, http.client.HTTPException)


def _transport_kind(exc: BaseException) -> str:
    if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc):
        return "timeout"
    return "truncated" if "IncompleteRead" in str(exc) else "connection"


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)  # MaxRetryError wraps the real cause
    inner = reason if isinstance(reason, BaseException) else exc
    text = str(inner)
    if "Errno" in text or "refused" in text.lower():
        for part in text.split(": "):
            if "Errno" in part or "refused" in part.lower():
                text = part
                break
    return f"{type(inner).__name__}: {text}"[:200]


def _retry_after(exc: Exception) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _error_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body:
        import json

        try:
            msg = json.loads(body).get("message")
            if msg:
                body = msg
        except (ValueError, AttributeError):
            pass
    return " ".join(str(body or getattr(exc, "reason", None) or exc).split())[:300]  # one line, for logs

