"""InfluxDB v2 write sink (influxdb-client, synchronous), with our own retry, backoff and isolation.

influxdb-client's synchronous mode retries nothing, so every outcome is decided here:
- 2xx: the batch is acknowledged (only then may a caller move its checkpoint);
- connection errors, timeouts, 429 and 5xx: wait (Retry-After when given, else exponential backoff
  up to ``max_backoff_s``) and try the same batch again, forever: the journal is the buffer;
- 413: split the batch in halves;
- 400/422: split until the bad point is alone, drop and count only it, log each reason once;
- 401/403/404: a clear error naming the setting to fix (``SinkConfigError``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable

from .lineprotocol import Point, to_line

log = logging.getLogger("ollama_ingest.influx")


class SinkConfigError(Exception):
    """The database refused us for a reason only the user can fix."""


class InfluxSink:
    def __init__(self, url: str, org: str, bucket: str, token: str, *, batch_size: int = 5000,
                 flush_interval_s: float = 1.0, timeout_s: float = 10.0, verify_ssl: bool = True,
                 max_backoff_s: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> None:
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.url, self.org, self.bucket = url, org, bucket
        self.client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout_s * 1000),
                                     verify_ssl=verify_ssl)
        self.write_api = self.client.write_api(write_options=SYNCHRONOUS)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_backoff_s = max_backoff_s
        self.sleep = sleep
        self.buffer: list[str] = []
        self.first_buffered = 0.0
        self.written = 0
        self.dropped = 0
        self.write_errors: Counter[str] = Counter()  # failed attempts, by cause
        self._logged: set[str] = set()
        self._down_since: float | None = None

    # -- public ------------------------------------------------------------------------------
    def add(self, points: Iterable[Point]) -> None:
        for p in points:
            if not self.buffer:
                self.first_buffered = time.monotonic()
            self.buffer.append(to_line(p))
        if len(self.buffer) >= self.batch_size:
            self.flush()

    def due(self) -> bool:
        return bool(self.buffer) and time.monotonic() - self.first_buffered >= self.flush_interval_s

    def flush(self) -> None:
        """Write everything buffered; returns only when the database acknowledged it (or dropped bad points)."""
        while self.buffer:
            batch, self.buffer = self.buffer[: self.batch_size], self.buffer[self.batch_size:]
            self._write(batch)

    def close(self) -> None:
        self.flush()
        self.client.close()

    # -- internals -----------------------------------------------------------------------------
    def _once(self, key: str, level: int, msg: str, *args) -> None:
        if key not in self._logged:
            self._logged.add(key)
            log.log(level, msg, *args)

    def _post(self, lines: list[str]) -> None:
        self.write_api.write(bucket=self.bucket, org=self.org, record="\n".join(lines), write_precision="ns")

    def _write(self, lines: list[str]) -> None:
        from influxdb_client.rest import ApiException

        backoff = 0.5
        while True:
            try:
                self._post(lines)
            except ApiException as exc:
                status = exc.status or 0
                if status in (400, 422):
                    self._isolate(lines, exc)
                    return
                if status == 413 and len(lines) > 1:
                    mid = len(lines) // 2
                    self._write(lines[:mid])
                    self._write(lines[mid:])
                    return
                if status in (401, 403):
                    raise SinkConfigError(
                        f"InfluxDB refused the token ({status}): check influx.token / INFLUXDB_V2_TOKEN "
                        f"and that it may write to bucket {self.bucket!r}") from None
                if status == 404:
                    raise SinkConfigError(
                        f"InfluxDB has no bucket {self.bucket!r} in org {self.org!r} (404): check "
                        "influx.bucket / influx.org") from None
                self.write_errors[f"http {status}"] += 1
                wait = _retry_after(exc) or backoff
                self._outage(f"InfluxDB answered {status}")
            except Exception as exc:  # urllib3 connection errors are not InfluxDB error classes
                if isinstance(exc, SinkConfigError):
                    raise
                self.write_errors[type(exc).__name__] += 1
                wait = backoff
                self._outage(f"InfluxDB unreachable at {self.url}: {type(exc).__name__}")
            else:
                self.written += len(lines)
                if self._down_since is not None:
                    log.warning("InfluxDB is back after %.1f s; writing again", time.monotonic() - self._down_since)
                    self._down_since = None
                return
            self.sleep(min(wait, self.max_backoff_s))
            backoff = min(backoff * 2, self.max_backoff_s)

    def _outage(self, why: str) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.warning("%s; holding the batch and retrying (nothing is dropped)", why)

    def _isolate(self, lines: list[str], exc: Exception) -> None:
        if len(lines) == 1:
            self.dropped += 1
            reason = _error_message(exc)
            self._once("drop:" + reason[:60], logging.ERROR, "InfluxDB rejected a point, dropped it: %s | %s",
                       reason, lines[0][:300])
            return
        mid = len(lines) // 2
        self._write(lines[:mid])
        self._write(lines[mid:])


def _retry_after(exc: Exception) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _error_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return (body or str(exc)).strip()[:300]
