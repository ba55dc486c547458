"""How an answer of InfluxDB is told apart (``classify``: the sinks' one reading of every response) and said
in one line: transport errors (and their kind for ``write_errors``), ``Retry-After`` (seconds or an HTTP
date), the server's message, and the setting to fix when it refused us."""

from __future__ import annotations

import http.client
import time
from email.utils import parsedate_to_datetime

from ..entry import Outcome
from .backoff import MIN_RETRY_GAP_S, Backoff
from .tls import tls_is_permanent, tls_message


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



TOKEN_SETTING = ("token (OLLAMA_INGEST_TOKEN / INFLUXDB_V2_TOKEN, token_file, or the systemd credential "
                 "influx-token)")


def config_error(status: int, why: str, url: str, bucket: str, org: str) -> str:
    """401/403 (the token) and 404 (bucket or org): the line naming the setting to fix."""
    if status in (401, 403):
        return (f"InfluxDB at {url} refused the token ({status}: {why}): check the setting {TOKEN_SETTING}, "
                f"and that the token may write to bucket {bucket!r} in org {org!r}")
    return (f"InfluxDB at {url} answered 404 ({why}): check the settings bucket (OLLAMA_INGEST_BUCKET / "
            f"INFLUXDB_V2_BUCKET, now {bucket!r}), org (OLLAMA_INGEST_ORG / INFLUXDB_V2_ORG, now {org!r}) and url "
            "(OLLAMA_INGEST_URL / INFLUXDB_V2_URL)")


def classify(exc: BaseException | None, *, op: str, url: str, bucket: str, org: str, points: int,
             backoff: Backoff, now: float) -> Outcome:
    """The one reading of an answer of InfluxDB to a write (``op`` "write"), a delete ("delete") or a ping
    ("ping"): ack, retry at a time (``backoff``: Retry-After or the jittered exponential pause), split (413),
    reject (400/422) or fatal. ``exc`` is what the request raised (None: 2xx)."""
    from influxdb_client.rest import ApiException

    def retry(why: str, cause: str, after: float | None = None) -> Outcome:
        delay = backoff.pause(after)
        return Outcome("retry", points, delay, now + delay, why, cause)

    if exc is None:
        return Outcome("ack", points, 0.0, now)
    if isinstance(exc, ApiException):
        status, msg = exc.status or 0, _error_message(exc)
        if status == 0:  # influxdb-client reports TLS failures as status 0
            cause = "" if op == "ping" else "tls"
            if tls_is_permanent(exc):  # a certificate the client refuses will not change by waiting
                return Outcome("fatal", points, 0.0, now, tls_message(url, exc), cause)
            if op == "ping":
                return retry(tls_message(url, exc), cause)
            return retry(f"InfluxDB at {url}: {msg} (verify_ssl / --insecure if the certificate is self-signed)",
                         cause)
        if status == 400 and "HTTP request to an HTTPS server" in msg:
            return Outcome("fatal", points, 0.0, now, f"InfluxDB at {url} speaks TLS: use an https:// url")
        if op == "ping":
            return retry(f"InfluxDB at {url} answered {status} to /ping: {msg[:200]}", "")
        if status in (401, 403) or (status == 404 and op == "write"):
            return Outcome("fatal", points, 0.0, now, config_error(status, msg, url, bucket, org))
        if op == "write" and status in (400, 422):  # no pause: isolating the bad point is not hammering
            return Outcome("reject", points, 0.0, now, msg)
        if op == "write" and status == 413:  # a failed attempt too, and paced like one
            return Outcome("split", points, MIN_RETRY_GAP_S, now + MIN_RETRY_GAP_S, msg, "http 413")
        if op == "delete" and 400 <= status < 500 and status != 429:
            return Outcome("fatal", points, 0.0, now, (
                f"InfluxDB at {url} refused to delete ({status}: {msg[:200]}): a backfill replaces the window it "
                f"covers with the v2 delete API (InfluxDB 2.x, 1.8+); check bucket {bucket!r} and org {org!r}, or "
                "use --no-replace"))
        after = _retry_after(exc)
        return retry(f"InfluxDB answered {status}{' to a delete' if op == 'delete' else ''} ({msg[:120]})"
                     + (f", Retry-After {after:g} s" if after is not None else ""), f"http {status}", after)
    if isinstance(exc, _transport_errors()):  # urllib3's NewConnectionError etc. are not InfluxDB errors
        return retry(f"InfluxDB unreachable at {url}: {_describe(exc)}", "" if op == "ping" else _transport_kind(exc))
    raise exc
