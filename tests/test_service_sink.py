"""InfluxSink's outcomes (retry at t, split, reject, fatal) and the caller's waiting (``drain``), against the real
InfluxDB (1.6 behind the v2 shim) and its faults."""

from __future__ import annotations

import logging
import socket
import time
from email.utils import formatdate

import pytest

from ollama_ingest.schema.point import Point
from ollama_ingest.sinks.drain import drain
from ollama_ingest.sinks.influx import InfluxSink, SinkConfigError
from testbed import V2Shim


def pts(n: int, t0: int = 1_700_000_000_000_000_000, m: str = "m") -> list[Point]:
    return [Point(m, {"host": "h", "i": str(i % 7)}, {"v": float(i), "n": i}, t0 + i) for i in range(n)]


class Sleeps:
    """The caller's wait for ``drain``: records the pauses instead of sleeping; gives up after ``limit``."""

    def __init__(self, limit: int = 1000, real: bool = False) -> None:
        self.waits: list[float] = []
        self.limit, self.real = limit, real

    def __call__(self, s: float) -> None:
        self.waits.append(s)
        if len(self.waits) >= self.limit:
            raise KeyboardInterrupt("enough")
        if self.real:
            time.sleep(s)


def count(influx, db, m="m") -> int:
    rows = influx.query(f'SELECT count("n") AS c FROM "{m}"', db=db)
    return rows[0]["c"] if rows else 0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_503_and_429_honour_retry_after_in_seconds_and_as_a_date(influx_db):
    influx, db = influx_db
    sleeps = Sleeps()
    sink = InfluxSink(influx.v2_url, "o", db, "t")
    influx.shim.fail_next(503, "busy", retry_after="2")
    influx.shim.fail_next(429, "slow down", retry_after=formatdate(time.time() + 4, usegmt=True))
    influx.shim.fail_next(503, "no header")
    sink.add(pts(10))
    assert drain(sink, sleeps)
    assert count(influx, db) == 10 and sink.written == 10
    assert sleeps.waits[0] == 2.0
    assert 2.0 <= sleeps.waits[1] <= 4.0  # the date, seen from now
    assert sleeps.waits[2] >= 0.1  # no header: the backoff (never below the floor)
    assert sink.write_errors == {"http 503": 2, "http 429": 1}
    sink.close()


def test_retry_after_zero_still_never_spins(influx_db):
    influx, db = influx_db
    sleeps = Sleeps()
    sink = InfluxSink(influx.v2_url, "o", db, "t")
    influx.shim.fail_next(503, "busy", retry_after="0", times=5)
    sink.add(pts(3))
    assert drain(sink, sleeps)
    assert sleeps.waits == [0.1] * 5  # at most 10 attempts a second
    sink.close()


def test_connection_refused_backs_off_exponentially_with_jitter_up_to_the_cap(caplog):
    sleeps = Sleeps(limit=12)
    sink = InfluxSink(f"http://127.0.0.1:{closed_port()}", "o", "b", "t", max_backoff_s=4.0)
    sink.add(pts(2))
    with caplog.at_level(logging.WARNING), pytest.raises(KeyboardInterrupt):
        drain(sink, sleeps)
    w = sleeps.waits
    assert 0.25 <= w[0] <= 0.5 and 0.5 <= w[1] <= 1.0 and 1.0 <= w[2] <= 2.0
    assert all(2.0 <= x <= 4.0 for x in w[4:]), w  # capped, jittered
    assert sink.write_errors["connection"] == 12
    assert sink.pending == 2  # nothing dropped
    outage = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage) == 1 and "NewConnectionError" in outage[0].getMessage()  # once, with the cause
    sink.client.close()


def test_413_splits_the_batch(influx_db):
    influx, db = influx_db
    sink = InfluxSink(influx.v2_url, "o", db, "t", batch_size=100)
    influx.shim.fail_next(413, "too large", times=3)  # the batch, then its first half, then its first quarter
    sink.add(pts(100))
    assert drain(sink, Sleeps())
    assert count(influx, db) == 100 and sink.dropped == 0
    sink.close()


def test_413_on_a_single_point_drops_and_counts_it(influx_db):
    influx, db = influx_db
    sink = InfluxSink(influx.v2_url, "o", db, "t")
    influx.shim.fail_next(413, "too large")
    sink.add(pts(1))
    assert drain(sink, Sleeps())
    assert sink.dropped == 1 and sink.drop_reasons == {"too large": 1}
    sink.close()


@pytest.mark.parametrize("v2_conflicts", [False, True])
def test_400_and_422_isolate_drop_and_count_only_the_bad_point(influx_db, caplog, v2_conflicts):
    influx, db = influx_db
    bad = Point("m", {"host": "h", "i": "bad"}, {"v": "a string where a float was"}, 1_700_000_000_000_000_500)
    batch = pts(60)
    batch[37:37] = [bad]
    sink = InfluxSink(influx.v2_url, "o", db, "t", batch_size=1000)
    influx.shim.v2_conflicts = v2_conflicts
    try:
        with caplog.at_level(logging.ERROR):
            sink.add(pts(1))  # fixes v as float in this shard
            assert drain(sink, Sleeps())
            sink.add(batch)
            assert drain(sink, Sleeps())
    finally:
        influx.shim.v2_conflicts = False
    assert sink.dropped == 1 and count(influx, db) == 60
    logged = [r.getMessage() for r in caplog.records if "dropped it" in r.getMessage()]
    assert len(logged) == 1 and "field type conflict" in logged[0] and 'i=bad' in logged[0]
    sink.close()


def test_401_403_name_the_token_setting(influx):
    shim = V2Shim(influx.url, token="right").start()
    try:
        sink = InfluxSink(shim.url, "o", "b", "wrong")
        sink.add(pts(1))
        with pytest.raises(SinkConfigError) as e:
            drain(sink, Sleeps())
        msg = str(e.value)
        assert "401" in msg and "INFLUXDB_V2_TOKEN" in msg and "token_file" in msg and "wrong" not in msg
        shim.fail_next(403, "insufficient permissions")
        sink2 = InfluxSink(shim.url, "o", "b", "right")
        sink2.add(pts(1))
        with pytest.raises(SinkConfigError, match="403"):
            drain(sink2, Sleeps())
    finally:
        shim.stop()


def test_404_names_bucket_and_org(influx):
    sink = InfluxSink(influx.v2_url, "myorg", "no_such_bucket", "t")
    sink.add(pts(1))
    with pytest.raises(SinkConfigError) as e:
        drain(sink, Sleeps())
    msg = str(e.value)
    assert "no_such_bucket" in msg and "INFLUXDB_V2_BUCKET" in msg and "myorg" in msg


def test_a_deadline_ends_the_waiting_and_keeps_the_points():
    sink = InfluxSink(f"http://127.0.0.1:{closed_port()}", "o", "b", "t")
    sink.add(pts(5))
    t0 = time.monotonic()
    assert drain(sink, Sleeps(real=True), deadline=time.monotonic() + 0.6) is False
    assert time.monotonic() - t0 < 1.0  # a pause that would reach past the deadline is not begun
    assert sink.pending == 5
    sink.close()


def test_a_request_never_outlives_the_deadline(influx_db):
    influx, db = influx_db
    sink = InfluxSink(influx.v2_url, "o", db, "t", timeout_s=10)
    influx.pause()  # accepted by the kernel, never answered
    try:
        sink.add(pts(3))
        t0 = time.monotonic()
        assert drain(sink, Sleeps(real=True), deadline=time.monotonic() + 1.0) is False
        assert time.monotonic() - t0 < 1.6
        assert sink.write_errors["timeout"] >= 1 and sink.pending == 3
    finally:
        influx.resume()
    assert drain(sink)
    assert count(influx, db) == 3
    sink.close()


def test_probe_reports_without_retrying(influx_db):
    influx, db = influx_db
    sink = InfluxSink(influx.v2_url, "o", db, "t")
    assert sink.probe().ok and sink.probe(pts(1)[0]).ok and count(influx, db) == 1
    influx.shim.fail_next(503, "busy")
    o = sink.probe(pts(2)[1])
    assert o.kind == "retry" and "503" in o.why and sink.pending == 0
    assert count(influx, db) == 1  # not retried
    sink.client.close()
    dead = InfluxSink(f"http://127.0.0.1:{closed_port()}", "o", db, "t")
    for o in (dead.probe(), dead.probe(pts(1)[0])):
        assert o.kind == "retry" and "unreachable" in o.why
    assert dead.write_errors == {"connection": 1}  # the write is counted, the ping is not
    dead.client.close()


def test_every_sink_keeps_the_written_contract(tmp_path):
    """entry.Sink: the InfluxDB sink, the replacing sink, the line-protocol sink (and the tests' list sink) have
    every declared attribute and method, so no caller probes a sink with getattr."""
    import io

    from ollama_ingest.entry import Sink
    from ollama_ingest.sinks.replace import ReplacingSink
    from ollama_ingest.sinks.stdout import LineProtocolSink

    from .helpers import ListSink

    influx = InfluxSink(f"http://127.0.0.1:{closed_port()}", "o", "b", "t")
    file = open(tmp_path / "x.lp", "w")  # noqa: SIM115
    sinks = [influx, ReplacingSink(influx, {}), LineProtocolSink(io.StringIO()), LineProtocolSink(file), ListSink()]
    for sink in sinks:
        assert isinstance(sink, Sink), type(sink).__name__
        assert (sink.pending, sink.written, sink.dropped, sum(sink.write_errors.values()), sink.outage_s) == (0,) * 5
        assert sink.retry_at is None and not sink.due() and sink.due_in() is None and not sink.full()
        assert sink.step().kind == "ack"  # nothing held: nothing to do
        sink.close()
    file.close()
    assert not isinstance(object(), Sink)


def test_the_writer_says_retry_at_t_split_reject_or_fatal_and_never_waits(influx_db):
    """Each answer becomes an Outcome; the sink keeps what must be written again and says when (retry_at,
    due_in, full); it never sleeps, whatever Retry-After says: waiting is the caller's."""
    influx, db = influx_db
    sink = InfluxSink(influx.v2_url, "o", db, "t", batch_size=4)
    sink.add(pts(4))
    assert sink.due() and sink.full()  # a whole batch
    influx.shim.fail_next(503, "busy", retry_after="30")
    t0 = time.monotonic()
    o = sink.step()
    assert time.monotonic() - t0 < 5  # not the 30 s
    assert (o.kind, o.points, o.delay_s, o.cause) == ("retry", 4, 30.0, "http 503") and "Retry-After 30 s" in o.why
    assert sink.retry_at == o.at and 25 < sink.due_in() <= 30 and not sink.due() and sink.full()
    assert sink.pending == 4 and sink.outage_s > 0 and sink.write_errors == {"http 503": 1}
    o = sink.step()  # a caller that did not wait: the sink still makes the request (no sleep inside)
    assert (o.kind, o.points) == ("ack", 4) and sink.written == 4 and sink.pending == 0
    assert sink.retry_at is None and sink.outage_s == 0 and sink.due_in() is None and not sink.full()
    # 413: two halves, written next (after the pause of a failed attempt)
    sink.add(pts(4, t0=1_700_000_000_000_000_100))
    influx.shim.fail_next(413, "too large")
    o = sink.step()
    assert (o.kind, o.points, o.delay_s, o.cause) == ("split", 4, 0.1, "http 413") and sink.pending == 4
    assert [sink.step().points for _ in range(2)] == [2, 2] and sink.pending == 0 and sink.dropped == 0
    # 400: halves until the bad point is alone; only it is dropped, and no attempt is counted as failed
    bad = Point("m", {"host": "h", "i": "bad"}, {"v": "a string where a float was"}, 1_700_000_000_000_000_500)
    sink.add([*pts(1, t0=1_700_000_000_000_000_200), bad])  # the same shard: v is a float there
    kinds = []
    while sink.pending:
        o = sink.step()
        kinds.append((o.kind, o.points, o.delay_s))
    assert kinds == [("reject", 2, 0.0), ("ack", 1, 0.0), ("reject", 1, 0.0)], kinds
    assert sink.dropped == 1 and sink.drop_reasons == {"rejected": 1} and count(influx, db) == 9
    # 401: fatal, raised from step (the batch kept), returned by probe
    sink.add(pts(1, t0=1_700_000_000_000_000_300))
    influx.shim.fail_next(401, "unauthorized", times=2)
    with pytest.raises(SinkConfigError, match="refused the token"):
        sink.step()
    assert sink.pending == 1
    o = sink.probe(pts(1)[0])
    assert o.kind == "fatal" and "token_file" in o.why
    assert sink.write_errors == {"http 503": 1, "http 413": 1}  # a refusal is not an outage
    sink.close()


def test_the_replacing_sinks_deletes_are_steps_with_the_same_jittered_backoff(influx_db):
    """A backfill's deletes go one request per step before the batch they guard, and a failing delete is
    paced by the one backoff (jittered), counted like a failed write."""
    from ollama_ingest.sinks.replace import JOURNAL_MEASUREMENTS, ReplacingSink
    from testbed.faultproxy import Fault, FaultProxy

    influx, db = influx_db
    proxy = FaultProxy(influx.v2_url, paths=("/api/v2/delete",)).start()
    try:
        proxy.schedule.extend([Fault("status", 503)] * 3)
        inner = InfluxSink(proxy.url, "o", db, "t")
        t0 = 1_700_000_000_000_000_000
        sink = ReplacingSink(inner, {"h": [t0 // 1000, t0 // 1000 + 1]})
        assert sink.pending == 1  # the window grew: its deletes are due even before any point
        sink.add(pts(10, t0=t0))
        sleeps = Sleeps()
        assert drain(sink, sleeps)
    finally:
        proxy.stop()
    w = sleeps.waits
    assert len(w) == 3 and 0.25 <= w[0] <= 0.5 and 0.5 <= w[1] <= 1.0 and 1.0 <= w[2] <= 2.0, w
    assert len(set(w)) == 3 and w != [0.5, 1.0, 2.0]  # jittered
    assert inner.write_errors == {"http 503": 3} and proxy.counts["requests"] == 3 + len(JOURNAL_MEASUREMENTS)
    assert sink.pending == 0 and count(influx, db) == 10


def test_a_backfill_that_writes_nothing_still_deletes_its_window(influx_db):
    """The last run says what the window holds, also when it holds nothing: the pipeline's last drain makes
    the deletes of a window that grew although no point was added."""
    from ollama_ingest.sinks.replace import ReplacingSink

    influx, db = influx_db
    t0 = 1_700_000_000_000_000_000
    old = [Point("ollama_request", {"host": "h", "endpoint": "/api/chat"}, {"latency_ms": 1.0}, t0 + 5)]
    sink = InfluxSink(influx.v2_url, "o", db, "t")
    sink.add(old)
    assert drain(sink)
    assert influx.query('SELECT count(latency_ms) AS n FROM ollama_request', db=db)[0]["n"] == 1
    replacing = ReplacingSink(sink, {"h": [t0 // 1000, t0 // 1000 + 1]})
    assert drain(replacing) and replacing.pending == 0
    assert influx.query('SELECT count(latency_ms) AS n FROM ollama_request', db=db) == []
    sink.close()
