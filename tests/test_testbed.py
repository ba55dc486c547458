"""The test bed itself: influxdb-client's v2 write API → V2Shim → InfluxDB 1.6, read back with InfluxQL."""

from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request

import pytest
import urllib3
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from testbed import InfluxQLError, V2Shim

NASTY = [
    'say "hi"',
    "a,b c=d",
    "back\\slash",
    "trailing\\",
    "two\nlines\r\n",
    "ünïcødé ✓ 🦙",
    "",
    "tab\there",
]


def client(url: str, token: str = "t", **kw) -> InfluxDBClient:
    return InfluxDBClient(url=url, token=token, org="o", timeout=5_000, **kw)


def write(url: str, bucket: str, records, precision=WritePrecision.NS, **kw) -> None:
    with client(url, **kw) as c:
        c.write_api(write_options=SYNCHRONOUS).write(bucket=bucket, record=records, write_precision=precision)


def get_json(url: str, timeout: float = 5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_round_trip_exact_values(influx_db):
    influx, db = influx_db
    t0 = 1_700_000_000_123_456_789
    points = [
        Point("m")
        .tag("host", "h 1,=x")
        .tag("i", str(i))
        .field("s", s)
        .field("n", i)
        .time(t0 + i, WritePrecision.NS)
        for i, s in enumerate(NASTY)
    ]
    points.append(
        Point("m")
        .tag("host", "h2")
        .tag("i", "x")
        .field("n", -(2**63) + 1)
        .field("big", 2**63 - 1)
        .field("f", 0.1)
        .field("f2", 2.0)
        .field("f3", -1.5e-300)
        .field("yes", True)
        .field("no", False)
        .time(t0 - 1, WritePrecision.NS)
    )
    write(influx.v2_url, db, points)

    rows = {r["i"]: r for r in influx.query("SELECT * FROM m GROUP BY *", db=db)}
    assert len(rows) == len(NASTY) + 1
    for i, s in enumerate(NASTY):
        r = rows[str(i)]
        assert (r["time"], r["s"], r["n"], r["host"]) == (t0 + i, s, i, "h 1,=x")
    r = rows["x"]
    assert r["time"] == t0 - 1 and isinstance(r["time"], int)
    assert (r["n"], r["big"], r["f"], r["f3"], r["yes"], r["no"]) == (
        -(2**63) + 1,
        2**63 - 1,
        0.1,
        -1.5e-300,
        True,
        False,
    )
    assert r["f2"] == 2.0  # comes back as int 2: Go's JSON drops ".0"
    # types as InfluxDB stored them
    types = {r["fieldKey"]: r["fieldType"] for r in influx.query("SHOW FIELD KEYS FROM m", db=db)}
    assert types == {
        "s": "string",
        "n": "integer",
        "big": "integer",
        "f": "float",
        "f2": "float",
        "f3": "float",
        "yes": "boolean",
        "no": "boolean",
    }


@pytest.mark.parametrize(
    "precision,factor",
    [
        (WritePrecision.S, 10**9),
        (WritePrecision.MS, 10**6),
        (WritePrecision.US, 10**3),
        (WritePrecision.NS, 1),
    ],
)
def test_precision_and_gzip(influx_db, precision, factor):
    influx, db = influx_db
    write(influx.v2_url, db, "p v=1i 1700000000", precision=precision, enable_gzip=True)
    assert influx.query("SELECT v FROM p", db=db) == [{"time": 1_700_000_000 * factor, "v": 1}]


def test_long_string_survives(influx_db):
    influx, db = influx_db
    s = "x" * 200_000 + "é"
    write(influx.v2_url, db, Point("m").field("s", s).time(1))
    assert influx.query("SELECT s FROM m", db=db)[0]["s"] == s


def test_field_type_conflict_is_400_and_partial(influx_db):
    influx, db = influx_db
    write(influx.v2_url, db, "c v=1i 1")
    with pytest.raises(ApiException) as ei:
        write(influx.v2_url, db, "c v=2i 2\nc v=2.5 3\nc v=4i 4")
    assert ei.value.status == 400
    body = json.loads(ei.value.body)
    assert body["code"] == "invalid"
    assert "field type conflict" in body["message"] and "dropped=1" in body["message"]
    # InfluxDB 1.x writes the good points of a batch and still answers 400 ("partial write")
    assert [r["v"] for r in influx.query("SELECT v FROM c", db=db)] == [1, 2, 4]


def test_v2_conflicts_answers_422_like_influxdb_2(influx_db):
    influx, db = influx_db
    shim = V2Shim(influx.url, v2_conflicts=True).start()
    try:
        write(shim.url, db, "c v=1i 1")
        with pytest.raises(ApiException) as ei:
            write(shim.url, db, "c v=2.5 2")
        assert ei.value.status == 422
        assert ei.value.headers["X-Platform-Error-Code"] == "unprocessable entity"
        assert ei.value.message.startswith(
            "failure writing points to database: partial write: field type conflict"
        )
    finally:
        shim.stop()


def test_unparsable_line_is_400_and_partial(influx_db):
    influx, db = influx_db
    with pytest.raises(ApiException) as ei:
        write(influx.v2_url, db, "u v=1i 1\nu broken\nu v=3i 3")
    assert ei.value.status == 400 and "unable to parse" in ei.value.message
    assert [r["v"] for r in influx.query("SELECT v FROM u", db=db)] == [1, 3]


def test_missing_database_is_404(influx):
    with pytest.raises(ApiException) as ei:
        write(influx.v2_url, "no_such_db", "m v=1i 1")
    assert ei.value.status == 404
    assert json.loads(ei.value.body) == {"code": "not found", "message": 'bucket "no_such_db" not found'}


def test_failing_writes_are_fast(influx_db):
    """An error answer must not stall (Nagle + delayed ACK: 40 ms each) on a kept-alive connection."""
    influx, db = influx_db
    write(influx.v2_url, db, "c v=1i 1")
    took = []
    with client(influx.v2_url) as c:
        w = c.write_api(write_options=SYNCHRONOUS)
        for bucket, record in [("no_such_db", "m v=1i 1"), (db, "c v=1.5 2")] * 6:
            t = time.perf_counter()
            with pytest.raises(ApiException):
                w.write(bucket=bucket, record=record)
            took.append(time.perf_counter() - t)
    assert max(took) < 0.2
    # with the stall every answer takes ≥ 40 ms; without it ~2 ms (the median ignores a CI hiccup)
    assert statistics.median(took) < 0.025, took


def test_health_ping_version_buckets(influx_db):
    influx, db = influx_db
    assert get_json(influx.v2_url + "/health") == (
        200,
        {
            "name": "influxdb",
            "message": "ready for queries and writes",
            "status": "pass",
            "checks": [],
            "version": "1.6-shim",
            "commit": "",
        },
    )
    with client(influx.v2_url) as c:
        assert c.ping() is True
        assert c.version().startswith("1.6")
        assert c.buckets_api().find_bucket_by_name(db).name == db
        with pytest.raises(ApiException) as ei:
            c.buckets_api().find_bucket_by_name("no_such_db")
        assert ei.value.status == 404


def test_health_fails_without_backend(influx):
    shim = V2Shim(influx.url.rsplit(":", 1)[0] + ":1", down_status=503).start()
    try:
        status, body = get_json(shim.url + "/health")
        assert (status, body["status"]) == (503, "fail")
        with pytest.raises(ApiException) as ei:
            write(shim.url, "x", "m v=1i 1")
        assert ei.value.status == 503
    finally:
        shim.stop()


def test_token_check(influx_db):
    influx, db = influx_db
    shim = V2Shim(influx.url, token="secret").start()
    try:
        with pytest.raises(ApiException) as ei:
            write(shim.url, db, "m v=1i 1", token="wrong")
        assert ei.value.status == 401
        assert json.loads(ei.value.body) == {"code": "unauthorized", "message": "unauthorized access"}
        write(shim.url, db, "m v=2i 2", token="secret")
        assert get_json(shim.url + "/health")[0] == 200  # health needs no token, as in v2
    finally:
        shim.stop()
    assert influx.query("SELECT v FROM m", db=db) == [{"time": 2, "v": 2}]


def test_injected_failure_with_retry_after(influx_db):
    influx, db = influx_db
    influx.shim.fail_next(429, "slow down", retry_after="7")
    with pytest.raises(ApiException) as ei:
        write(influx.v2_url, db, "m v=1i 1")
    assert (ei.value.status, ei.value.retry_after, ei.value.message) == (429, "7", "slow down")
    write(influx.v2_url, db, "m v=1i 1")  # only the next one failed


def test_server_restart_keeps_data_and_port(influx_db):
    influx, db = influx_db
    write(influx.v2_url, db, "r v=1i 1")
    port = influx.http_port
    influx.stop_server()
    with pytest.raises((urllib3.exceptions.HTTPError, OSError)):  # the shim resets the connection
        write(influx.v2_url, db, "r v=2i 2")
    influx.start_server()
    assert influx.http_port == port
    write(influx.v2_url, db, "r v=3i 3")
    assert [r["v"] for r in influx.query("SELECT v FROM r", db=db)] == [1, 3]


def test_paused_server_times_out(influx_db):
    influx, db = influx_db
    influx.pause()
    try:
        t = time.perf_counter()
        with pytest.raises((urllib3.exceptions.HTTPError, OSError)):
            with InfluxDBClient(url=influx.v2_url, token="t", org="o", timeout=300) as c:
                c.write_api(write_options=SYNCHRONOUS).write(bucket=db, record="m v=1i 1")
        assert time.perf_counter() - t < 2
    finally:
        influx.resume()
    write(influx.v2_url, db, "m v=1i 1")


def test_query_raises_on_error(influx_db):
    influx, db = influx_db
    with pytest.raises(InfluxQLError):
        influx.query("SELEC nonsense", db=db)
    with pytest.raises(InfluxQLError):
        influx.query("SELECT * FROM m WHERE", db=db)


def test_db_start_keeps_one_database_up_for_backfill_and_timeline_until_stop(tmp_path):
    """issue 12.11: after the demo, `scripts/setup.sh db start|stop` (here its module) keeps a database up."""
    import json
    import subprocess
    import sys

    from testbed import serve

    from .service_support import ROOT, service_env

    d = tmp_path / "db"
    state = serve.start(d)
    try:
        assert serve.start(d) == state  # a second start finds it running
        env = service_env({"OLLAMA_INGEST_URL": state["url"]})
        run = [sys.executable, "-m", "ollama_ingest.cli"]
        bf = subprocess.run([*run, "backfill", str(ROOT / "fixtures" / "era-e.export"), "--json"], env=env,
                            capture_output=True, text=True, timeout=120)
        assert bf.returncode == 0 and json.loads(bf.stderr)["written"] == 171, bf.stderr
        page = tmp_path / "t.html"
        tl = subprocess.run([*run, "timeline", "--influxql", "--since", "2025-07-22", "--until", "2025-07-24",
                             "--html", str(page)], env=env, capture_output=True, text=True, timeout=120)
        assert tl.returncode == 0 and "9 sessions" in tl.stdout, tl.stderr
    finally:
        assert serve.stop(d)
    assert serve.read_state(d) is None and not serve.stop(d)
    assert (d / "influx" / "data").is_dir()  # the data stays for the next start
