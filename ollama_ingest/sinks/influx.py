"""InfluxDB v2 write sink (influxdb-client, synchronous): it buffers points, makes one request per ``step``
and says what the answer came to (an ``Outcome``, see ``failures.classify``); it never waits itself.

influxdb-client's synchronous mode retries nothing, so every outcome is decided here:
- 2xx: the batch is acknowledged (only then may a caller move its checkpoint);
- connection errors, timeouts, 429 and 5xx: ``retry`` the same batch at ``retry_at`` (``Retry-After`` when
  given, seconds or an HTTP date; else the jittered exponential backoff of ``backoff.py`` up to
  ``max_backoff_s``, never more than ten attempts a second), forever: the journal is the buffer, and a caller
  whose sink is ``full()`` reads nothing more, so memory stays bounded. The outage is logged once when it
  starts and once when it ends;
- 413: ``split`` the batch in halves (a single point the server still refuses is dropped and counted);
- 400/422: ``reject``: halves until the bad point is alone, drop and count only it, log each reason once
  (docs/design.md §10: the rest of its batch is written);
- 401/403/404 and a certificate the client refuses: ``fatal``, ``SinkConfigError`` naming the setting to fix;
- ``write_errors`` counts every failed attempt by cause (``timeout``, ``connection``, ``truncated`` for an
  answer cut short, ``http 429``/``http 503``/``http 413``…, ``tls``); 400/422 count as ``dropped``.

The caller waits (``drain.drain``, the service's loop) and bounds a request's time (``step(timeout_s)``),
so a caller that must stop (SIGTERM) is never held by the sink beyond its own deadline.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, deque
from collections.abc import Iterable

from ..entry import Outcome
from ..schema.point import Point
from .backoff import MAX_BACKOFF_S, Backoff
from .failures import TOKEN_SETTING, classify
from .lineprotocol import to_line

__all__ = ["TOKEN_SETTING", "InfluxSink", "SinkConfigError"]

log = logging.getLogger("ollama_ingest.influx")


class SinkConfigError(Exception):
    """The database refused us for a reason only the user can fix."""


class InfluxSink:
    """The ``Sink`` contract (entry.py) for InfluxDB's v2 write API (see the module's outcomes)."""

    def __init__(self, url: str, org: str, bucket: str, token: str, *, batch_size: int = 5000,
                 flush_interval_s: float = 1.0, timeout_s: float = 10.0, verify_ssl: bool = True,
                 max_backoff_s: float = MAX_BACKOFF_S, ca_file: str | None = None) -> None:
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
        self.buffer: list[str] = []  # lines not cut into a batch yet
        self.batches: deque[list[str]] = deque()  # cut: the first is being written (or retried); halves go first
        self._queued = 0  # lines in ``batches``
        self.retry_at: float | None = None  # time.monotonic() before which the next request must not go
        self.first_buffered = 0.0
        self.written = 0
        self.dropped = 0
        self.requests = 0
        self.write_errors: Counter[str] = Counter()  # failed attempts, by cause
        self.drop_reasons: Counter[str] = Counter()
        self._logged: set[str] = set()
        self._down_since: float | None = None
        self._backoff = Backoff(max_backoff_s)

    # -- buffering -----------------------------------------------------------------------------
    def add(self, points: Iterable[Point]) -> None:
        if not self.pending:
            self.first_buffered = time.monotonic()
        self.buffer.extend(map(to_line, points))

    @property
    def pending(self) -> int:
        """Points held: buffered, and the batches being written or retried."""
        return len(self.buffer) + self._queued

    def due_in(self) -> float | None:
        """Seconds until the sink wants its next ``step`` (None: nothing held): at once when a batch is full
        or cut, at ``retry_at`` after a failed attempt, else when the oldest point is ``flush_interval_s`` old."""
        if not self.pending:
            return None
        now = time.monotonic()
        if self.retry_at is not None:
            return max(0.0, self.retry_at - now)
        if self.batches or len(self.buffer) >= self.batch_size:
            return 0.0
        return max(0.0, self.first_buffered + self.flush_interval_s - now)

    def due(self) -> bool:
        t = self.due_in()
        return t is not None and t <= 0.0

    def full(self) -> bool:
        """Takes no more before it has written: a batch is ready, or the database is failing (the journal
        is the buffer meanwhile)."""
        return self.retry_at is not None or self.pending >= self.batch_size

    @property
    def outage_s(self) -> float:
        """How long the database has been failing (0 while it answers)."""
        return 0.0 if self._down_since is None else time.monotonic() - self._down_since

    # -- requests: one at a time, classified, never waiting ------------------------------------
    def step(self, timeout_s: float | None = None) -> Outcome:
        """One write of the first batch (cut from the buffer if none is), at most ``timeout_s`` long; what
        it came to. ``SinkConfigError`` for a fatal answer (the batch is kept)."""
        if not self.batches:
            if not self.buffer:
                return Outcome("ack", 0, 0.0, time.monotonic())
            batch = self.buffer[:self.batch_size]
            del self.buffer[:self.batch_size]
            self.batches.append(batch)
            self._queued += len(batch)
        batch = self.batches[0]
        o = self._attempt("write", batch, timeout_s)
        if o.kind == "fatal":
            raise SinkConfigError(o.why)
        if o.kind != "retry":  # taken, cut in halves, or down to the one refused point
            self.batches.popleft()
            self._queued -= len(batch)
            if o.kind != "ack" and len(batch) > 1:  # bisection isolates the refused point (design §10)
                mid = len(batch) // 2
                self.batches.extendleft((batch[mid:], batch[:mid]))
                self._queued += len(batch)
        return o

    def probe(self, point: Point | None = None, timeout_s: float | None = None) -> Outcome:
        """First contact, one request and no retry (the service before READY, ``backfill`` before reading,
        ``check``): with ``point``, a write of it (proves url, org, bucket and token; counted like any write);
        without, ``/ping`` (proves the server answers; counts nothing). A fatal outcome is returned, not
        raised: the caller decides what to say."""
        if point is None:
            return self._attempt("ping", [], timeout_s)
        return self._attempt("write", [to_line(point)], timeout_s)

    def delete_step(self, start: str, stop: str, predicate: str, timeout_s: float | None = None) -> Outcome:
        """One ``POST /api/v2/delete`` of [start, stop] (RFC 3339, both inclusive) matching ``predicate``,
        paced and counted like a write; ``SinkConfigError`` when refused."""
        o = self._attempt("delete", [], timeout_s, (start, stop, predicate))
        if o.kind == "fatal":
            raise SinkConfigError(o.why)
        return o

    def close(self) -> None:
        """Close the connections; what is still pending is not written (``drain`` first)."""
        self.client.close()

    # -- internals -----------------------------------------------------------------------------
    def _request(self, op: str, lines: list[str], timeout_s: float | None, delete: tuple | None) -> None:
        timeout = self.timeout_s if timeout_s is None else max(0.05, min(self.timeout_s, timeout_s))
        timeout_ms = int(timeout * 1000)
        if op == "ping":
            from influxdb_client.service.ping_service import PingService

            PingService(self.client.api_client).get_ping(_request_timeout=timeout_ms)
            return
        self.requests += 1
        if op == "delete":
            from influxdb_client.domain.delete_predicate_request import DeletePredicateRequest
            from influxdb_client.service.delete_service import DeleteService

            start, stop, predicate = delete
            DeleteService(self.client.api_client).post_delete(
                delete_predicate_request=DeletePredicateRequest(start=start, stop=stop, predicate=predicate),
                org=self.org, bucket=self.bucket, _request_timeout=timeout_ms)
            return
        self.write_service.post_write(org=self.org, bucket=self.bucket, body="\n".join(lines).encode(),
                                      precision="ns", content_type="text/plain; charset=utf-8",
                                      _request_timeout=timeout_ms)

    def _attempt(self, op: str, lines: list[str], timeout_s: float | None, delete: tuple | None = None) -> Outcome:
        """One request, classified, and what it means for the counters, the outage and the next request."""
        try:
            self._request(op, lines, timeout_s, delete)
        except Exception as exc:
            failed: BaseException | None = exc
        else:
            failed = None
        o = classify(failed, op=op, url=self.url, bucket=self.bucket, org=self.org, points=len(lines),
                     backoff=self._backoff, now=time.monotonic())
        if op == "ping":
            return o
        if o.cause:
            self.write_errors[o.cause] += 1
        if o.kind == "ack":
            self.written += len(lines)
            self._backoff.reset()
            if self._down_since is not None:
                log.warning("InfluxDB is back after %.1f s; writing again", time.monotonic() - self._down_since)
                self._down_since = None
        elif o.kind == "retry" and self._down_since is None:
            self._down_since = time.monotonic()
            log.warning("%s; holding the batch and retrying (nothing is dropped)", o.why)
        elif o.kind in ("split", "reject") and len(lines) == 1:
            self._drop(lines[0], o.why, "too large" if o.kind == "split" else "rejected")
        self.retry_at = o.at if o.delay_s > 0 else None
        return o

    def _drop(self, line: str, reason: str, kind: str) -> None:
        self.dropped += 1
        self.drop_reasons[kind] += 1
        if "drop:" + reason[:60] not in self._logged:
            self._logged.add("drop:" + reason[:60])
            log.error("InfluxDB rejected a point, dropped it: %s | %s", reason, line[:300])
