"""InfluxDB v2 write sink (influxdb-client, synchronous), with our own retry, backoff and isolation.

influxdb-client's synchronous mode retries nothing, so every outcome is decided here:
- 2xx: the batch is acknowledged (only then may a caller move its checkpoint);
- connection errors, timeouts, 429 and 5xx: wait (``Retry-After`` when given, seconds or an HTTP date;
  else jittered exponential backoff up to ``max_backoff_s``, never more than ten attempts a second) and
  try the same batch again, forever: the journal is the buffer, and a caller blocked here reads nothing
  more, so memory stays bounded. The outage is logged once when it starts and once when it ends;
- 413: split the batch in halves (a single point the server still refuses is dropped and counted);
- 400/422: split until the bad point is alone, drop and count only it, log each reason once;
- 401/403/404: a clear error naming the setting to fix (``SinkConfigError``);
- ``write_errors`` counts every failed attempt by cause (``timeout``, ``connection``, ``truncated`` for an
  answer cut short, ``http 429``/``http 503``/``http 413``…, ``tls``); 400/422 count as ``dropped``.

A caller that must stop (SIGTERM) sets ``deadline`` (``time.monotonic()`` based) and makes ``sleep`` return
early: retries then end at the deadline with ``FlushAborted``, and requests never outlive it.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable

from ..schema.point import Point
from .backoff import MAX_BACKOFF_S, MIN_RETRY_GAP_S, Backoff
from .failures import _describe, _error_message, _retry_after, _transport_errors, _transport_kind
from .lineprotocol import to_line
from .tls import tls_is_permanent, tls_message

log = logging.getLogger("ollama_ingest.influx")

TOKEN_SETTING = ("token (OLLAMA_INGEST_TOKEN / INFLUXDB_V2_TOKEN, token_file, or the systemd credential "
                 "influx-token)")


class SinkConfigError(Exception):
    """The database refused us for a reason only the user can fix."""


class FlushAborted(Exception):
    """The caller's deadline passed before the database acknowledged; the points are still buffered."""


class InfluxSink:
    def __init__(self, url: str, org: str, bucket: str, token: str, *, batch_size: int = 5000,
                 flush_interval_s: float = 1.0, timeout_s: float = 10.0, verify_ssl: bool = True,
                 max_backoff_s: float = MAX_BACKOFF_S, sleep: Callable[[float], None] = time.sleep,
                 ca_file: str | None = None) -> None:
        from influxdb_client import InfluxDBClient
        from influxdb_client.service.write_service import WriteService

        self.url, self.org, self.bucket = url, org, bucket
        self.timeout_s = timeout_s
        if ca_file and not os.path.isfile(ca_file):
            raise SinkConfigError(f"bad setting ca_file: {ca_file} is not a file (OLLAMA_INGEST_CA_FILE / "
                                  "INFLUXDB_V2_SSL_CA_CERT / --ca-file)")
        self.client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout_s * 1000),
                                     verify_ssl=verify_ssl, **({"ssl_ca_cert": str(ca_file)} if ca_file else {}))
        self.write_service = WriteService(self.client.api_client)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_backoff_s = max_backoff_s
        self.sleep = sleep
        self.deadline: float | None = None
        self.buffer: list[str] = []
        self.in_flight = 0  # points of the batch being written (retried while the database is down)
        self.first_buffered = 0.0
        self.written = 0
        self.dropped = 0
        self.requests = 0
        self.write_errors: Counter[str] = Counter()  # failed attempts, by cause
        self.drop_reasons: Counter[str] = Counter()
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

    def due_in(self) -> float | None:
        """Seconds until the oldest buffered point must be written (None: nothing buffered)."""
        if not self.buffer:
            return None
        return max(0.0, self.first_buffered + self.flush_interval_s - time.monotonic())

    @property
    def pending(self) -> int:
        """Points held: buffered, and the batch being written or retried."""
        return len(self.buffer) + self.in_flight

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def flush(self) -> None:
        """Write everything buffered; returns only when the database acknowledged it (or dropped bad points).

        Raises ``FlushAborted`` (points kept in the buffer) when ``deadline`` passes first.
        """
        while self.buffer:
            batch, self.buffer = self.buffer[: self.batch_size], self.buffer[self.batch_size:]
            self.in_flight = len(batch)
            try:
                self._write(batch)
            except BaseException:
                self.buffer[:0] = batch  # nothing is lost on the way out; rewriting is idempotent
                raise
            finally:
                self.in_flight = 0

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.client.close()

    def probe(self, line: str) -> tuple[bool, str]:
        """One write attempt, no retry (for ``check``): (ok, what happened)."""
        from influxdb_client.rest import ApiException

        try:
            self._post([line])
        except ApiException as exc:
            status = exc.status or 0
            if status in (401, 403, 404):
                return False, str(self._config_error(status, exc))
            if status == 0:  # influxdb-client reports TLS failures as status 0
                return False, tls_message(self.url, exc)
            return False, f"InfluxDB answered {status}: {_error_message(exc)}"
        except _transport_errors() as exc:
            return False, f"InfluxDB unreachable at {self.url}: {_describe(exc)}"
        return True, "write accepted"

    def contact(self, point: Point) -> str | None:
        """One write of ``point``, no retry (the service's first contact, before it says READY): None when
        the database took it; why, when the database is unavailable (counted and logged as for a batch);
        ``SinkConfigError`` when it refused the token, the bucket or the org."""
        from influxdb_client.rest import ApiException

        line = to_line(point)
        try:
            self._post([line])
        except ApiException as exc:
            status = exc.status or 0
            if status == 400 and "HTTP request to an HTTPS server" in _error_message(exc):
                raise SinkConfigError(f"InfluxDB at {self.url} speaks TLS: use an https:// url") from None
            if status in (401, 403, 404):
                raise self._config_error(status, exc) from None
            if status == 0 and tls_is_permanent(exc):  # waiting does not change a certificate
                self.write_errors["tls"] += 1
                raise SinkConfigError(tls_message(self.url, exc)) from None
            if status in (400, 413, 422):  # it answered, and took the token: only this point is refused
                self._drop(line, exc, "rejected" if status != 413 else "too large")
                return None
            kind = "tls" if status == 0 else f"http {status}"
            why = (f"InfluxDB at {self.url}: {_error_message(exc)}" if status == 0
                   else f"InfluxDB answered {status} ({_error_message(exc)[:120]})")
        except _transport_errors() as exc:
            kind, why = _transport_kind(exc), f"InfluxDB unreachable at {self.url}: {_describe(exc)}"
        else:
            self.written += 1
            return None
        self.write_errors[kind] += 1
        self._outage(why)
        return why

    def counters(self) -> dict:
        return {"written": self.written, "dropped": self.dropped, "requests": self.requests,
                "write_errors": dict(self.write_errors), "drop_reasons": dict(self.drop_reasons)}

    @property
    def outage_s(self) -> float:
        """How long the database has been failing (0 while it answers)."""
        return 0.0 if self._down_since is None else time.monotonic() - self._down_since

    def ping(self, timeout_s: float | None = None) -> None:
        """One ``GET /ping``: returns when the server answers; raises ``SinkConfigError`` for what waiting
        cannot fix (TLS), else the transport error (for a caller deciding whether to wait)."""
        from influxdb_client.rest import ApiException
        from influxdb_client.service.ping_service import PingService

        try:
            PingService(self.client.api_client).get_ping(
                _request_timeout=int((timeout_s or self.timeout_s) * 1000))
        except ApiException as exc:
            if (exc.status or 0) == 0:
                if tls_is_permanent(exc):
                    raise SinkConfigError(tls_message(self.url, exc)) from None
                raise ConnectionError(tls_message(self.url, exc)) from None
            raise ConnectionError(f"InfluxDB at {self.url} answered {exc.status} to /ping: "
                                  f"{_error_message(exc)[:200]}") from None
        except _transport_errors() as exc:
            raise ConnectionError(f"InfluxDB unreachable at {self.url}: {_describe(exc)}") from None

    def delete(self, start: str, stop: str, predicate: str) -> None:
        """``POST /api/v2/delete`` of [start, stop] (RFC 3339, both inclusive) matching ``predicate``.

        Retried like a write while the database is unavailable; a refusal is a ``SinkConfigError``.
        """
        from influxdb_client.domain.delete_predicate_request import DeletePredicateRequest
        from influxdb_client.rest import ApiException
        from influxdb_client.service.delete_service import DeleteService

        body = DeletePredicateRequest(start=start, stop=stop, predicate=predicate)
        backoff = Backoff(self.max_backoff_s)
        while True:
            timeout_ms = int(self.timeout_s * 1000)
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise FlushAborted("deadline passed before a delete was acknowledged")
                timeout_ms = max(50, min(timeout_ms, int(left * 1000)))
            try:
                self.requests += 1
                DeleteService(self.client.api_client).post_delete(
                    delete_predicate_request=body, org=self.org, bucket=self.bucket, _request_timeout=timeout_ms)
            except ApiException as exc:
                status = exc.status or 0
                if status == 0 and tls_is_permanent(exc):
                    raise SinkConfigError(tls_message(self.url, exc)) from None
                if status in (401, 403):
                    raise self._config_error(status, exc) from None
                if 400 <= status < 500 and status != 429:
                    raise SinkConfigError(
                        f"InfluxDB at {self.url} refused to delete ({status}: {_error_message(exc)[:200]}): a "
                        f"backfill replaces the window it covers with the v2 delete API (InfluxDB 2.x, 1.8+); check "
                        f"bucket {self.bucket!r} and org {self.org!r}, or use --no-replace") from None
                self.write_errors[f"http {status}" if status else "tls"] += 1
                self._outage(f"InfluxDB answered {status or 'a TLS error'} to a delete "
                             f"({_error_message(exc)[:120]})")
            except _transport_errors() as exc:
                self.write_errors["connection"] += 1
                self._outage(f"InfluxDB unreachable at {self.url}: {_describe(exc)}")
            else:
                if self._down_since is not None:
                    log.warning("InfluxDB is back after %.1f s; writing again", time.monotonic() - self._down_since)
                    self._down_since = None
                return
            self._pause(backoff.pause())

    # -- internals -----------------------------------------------------------------------------
    def _once(self, key: str, level: int, msg: str, *args) -> None:
        if key not in self._logged:
            self._logged.add(key)
            log.log(level, msg, *args)

    def _post(self, lines: list[str]) -> None:
        timeout_ms = int(self.timeout_s * 1000)
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise FlushAborted(f"{len(lines)} points not acknowledged before the deadline")
            timeout_ms = max(50, min(timeout_ms, int(left * 1000)))
        self.requests += 1
        self.write_service.post_write(org=self.org, bucket=self.bucket, body="\n".join(lines).encode(),
                                      precision="ns", content_type="text/plain; charset=utf-8",
                                      _request_timeout=timeout_ms)

    def _config_error(self, status: int, exc: Exception) -> SinkConfigError:
        why = _error_message(exc)
        if status in (401, 403):
            return SinkConfigError(
                f"InfluxDB at {self.url} refused the token ({status}: {why}): check the setting {TOKEN_SETTING}, "
                f"and that the token may write to bucket {self.bucket!r} in org {self.org!r}")
        return SinkConfigError(
            f"InfluxDB at {self.url} answered 404 ({why}): check the settings bucket "
            f"(OLLAMA_INGEST_BUCKET / INFLUXDB_V2_BUCKET, now {self.bucket!r}), org (OLLAMA_INGEST_ORG / "
            f"INFLUXDB_V2_ORG, now {self.org!r}) and url (OLLAMA_INGEST_URL / INFLUXDB_V2_URL)")

    def _write(self, lines: list[str]) -> None:
        from influxdb_client.rest import ApiException

        backoff = Backoff(self.max_backoff_s)
        while True:
            try:
                self._post(lines)
            except ApiException as exc:
                status = exc.status or 0
                if status == 400 and "HTTP request to an HTTPS server" in _error_message(exc):
                    raise SinkConfigError(f"InfluxDB at {self.url} speaks TLS: use an https:// url") from None
                if status in (400, 422):
                    self._isolate(lines, exc)
                    return
                if status == 413:
                    self.write_errors["http 413"] += 1  # a failed attempt too: retried as two halves
                    self._pause(MIN_RETRY_GAP_S)  # a server refusing everything is not hammered either
                    if len(lines) > 1:
                        mid = len(lines) // 2
                        self._write(lines[:mid])
                        self._write(lines[mid:])
                    else:
                        self._drop(lines[0], exc, "too large")
                    return
                if status in (401, 403, 404):
                    raise self._config_error(status, exc) from None
                if status == 0:  # influxdb-client reports TLS failures as status 0
                    self.write_errors["tls"] += 1
                    if tls_is_permanent(exc):  # a certificate the client refuses will not change by waiting
                        raise SinkConfigError(tls_message(self.url, exc)) from None
                    self._outage(f"InfluxDB at {self.url}: {_error_message(exc)} "
                                 "(verify_ssl / --insecure if the certificate is self-signed)")
                    wait = backoff.pause()
                else:
                    self.write_errors[f"http {status}"] += 1
                    after = _retry_after(exc)
                    self._outage(f"InfluxDB answered {status} ({_error_message(exc)[:120]})"
                                 + (f", Retry-After {after:g} s" if after is not None else ""))
                    wait = backoff.pause(after)
            except _transport_errors() as exc:  # urllib3's NewConnectionError etc. are not InfluxDB errors
                self.write_errors[_transport_kind(exc)] += 1
                self._outage(f"InfluxDB unreachable at {self.url}: {_describe(exc)}")
                wait = backoff.pause()
            else:
                self.written += len(lines)
                if self._down_since is not None:
                    log.warning("InfluxDB is back after %.1f s; writing again", time.monotonic() - self._down_since)
                    self._down_since = None
                return
            self._pause(wait)

    def _pause(self, seconds: float) -> None:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise FlushAborted("deadline passed while the database was unavailable")
            seconds = min(seconds, left)
        self.sleep(seconds)
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise FlushAborted("deadline passed while the database was unavailable")

    def _outage(self, why: str) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.warning("%s; holding the batch and retrying (nothing is dropped)", why)

    def _drop(self, line: str, exc: Exception, kind: str) -> None:
        self.dropped += 1
        reason = _error_message(exc)
        self.drop_reasons[kind] += 1
        self._once("drop:" + reason[:60], logging.ERROR, "InfluxDB rejected a point, dropped it: %s | %s",
                   reason, line[:300])

    def _isolate(self, lines: list[str], exc: Exception) -> None:
        if len(lines) == 1:
            self._drop(lines[0], exc, "rejected")
            return
        mid = len(lines) // 2
        self._write(lines[:mid])
        self._write(lines[mid:])
