"""Backfill into the real InfluxDB (1.6 behind the v2-write shim) and read every point back exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ollama_ingest.correlate import inventory
from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.pipeline import Pipeline
from ollama_ingest.schema.point import Point
from ollama_ingest.sinks.drain import drain
from ollama_ingest.sinks.influx import InfluxSink
from ollama_ingest.sources import open_input
from testbed.journalform import export_entry

from .helpers import ListSink

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").glob("*.export"))
MODELS = ROOT / "fixtures" / "models"


def nasty_export(path: Path) -> Path:
    """Lines whose string fields carry quotes, commas, backslashes, newlines, `=`, spaces, unicode."""
    msgs = [
        '[GIN] 2025/07/22 - 23:26:41 | 404 |      16.724µs |       127.0.0.1 | GET      "/x?q=\\"a,b\\\\c\\" = ünï 🚀"',
        'time=2025-07-22T23:26:42.000+03:00 level=ERROR source=sched.go:1 msg="error loading llama server" '
        'error="llama runner process has terminated: error:first \\"line\\"\\nsecond, line \\\\ with = and ü"',
        "Stopping ollama.service - Ollama Service \"quoted\", comma\\backslash ünïcödé...",
    ]
    data = b""
    for i, m in enumerate(msgs):
        fields = [("__REALTIME_TIMESTAMP", str(1_721_690_801_000_000 + i)), ("_HOSTNAME", "gpu host,1"),
                  ("_PID", "1" if m.startswith("Stopping") else "1617"),
                  ("SYSLOG_IDENTIFIER", "systemd" if m.startswith("Stopping") else "ollama"),
                  ("UNIT" if m.startswith("Stopping") else "_SYSTEMD_UNIT", "ollama.service"), ("MESSAGE", m)]
        data += export_entry(fields)
    path.write_bytes(data)
    return path


def expected_points(inputs: list[str]) -> list[Point]:
    sink = ListSink()
    names = inventory.names_from(inventory.from_manifests(MODELS))
    Pipeline(Timeline(names), sink).run([open_input(p) for p in inputs])
    return sink.points


def read_back(influx, db: str) -> dict[tuple, dict]:
    got = {}
    for m in ("ollama_request", "ollama_load", "ollama_event", "ollama_vram", "ollama_session"):
        for row in influx.query(f'SELECT * FROM "{m}"', db=db):
            row = {k: v for k, v in row.items() if v is not None and v != ""}
            t = row.pop("time")
            got[(m, t, row.get("host"), row.get("kind"), row.get("gpu"), row.get("endpoint"), row.get("model"))] = row
    return got


def as_row(p: Point) -> dict:
    row = {k: v for k, v in p.tags.items() if v != ""}
    row.update({k: v for k, v in p.fields.items() if v is not None})
    return row


def _key(p: Point) -> tuple:
    t = p.tags
    return (p.measurement, p.time_ns, t.get("host"), t.get("kind"), t.get("gpu"), t.get("endpoint"), t.get("model") or None)


def assert_landed_exactly(points: list[Point], got: dict) -> None:
    last = {p.identity: p for p in points}  # upserts (open sessions) share an identity: the last one wins
    points = list(last.values())
    assert len(got) == len(points), "point count differs (an overwrite, a drop, or an extra)"
    for p in points:
        row = got[_key(p)]
        want = as_row(p)
        assert row == want, (p.measurement, p.time_ns)


def test_strings_with_quotes_commas_backslashes_newlines_unicode_round_trip(influx_db, tmp_path):
    influx, db = influx_db
    src = str(nasty_export(tmp_path / "nasty.export"))
    points = expected_points([src])
    assert {p.measurement for p in points} == {"ollama_request", "ollama_event"}
    sink = InfluxSink(influx.v2_url, "org", db, "token")
    stats = Pipeline(Timeline(), sink).run([open_input(src)])
    sink.close()
    assert stats["written"] == len(points) == 3 and stats["dropped"] == 0
    got = read_back(influx, db)
    assert_landed_exactly(points, got)
    paths = [r["path"] for r in got.values() if "path" in r]
    assert paths == ['/x?q="a,b\\c" = ünï 🚀']
    errors = [r["error"] for r in got.values() if "error" in r]
    assert errors == ['llama runner process has terminated: error:first "line"\nsecond, line \\ with = and ü']
    assert {r["host"] for r in got.values()} == {"gpu host,1"}


@pytest.mark.skipif(not FIXTURES, reason="no fixtures/*.export")
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_fixture_backfill_lands_every_point_exactly(influx_db, fixture):
    influx, db = influx_db
    points = expected_points([str(fixture)])
    assert any(p.measurement == "ollama_request" for p in points)
    sink = InfluxSink(influx.v2_url, "org", db, "token", batch_size=97)  # many batches, odd sizes
    stats = Pipeline(Timeline(inventory.names_from(inventory.from_manifests(MODELS))), sink).run([open_input(str(fixture))])
    sink.close()
    assert stats["dropped"] == 0 and stats["written"] == len(points)
    assert_landed_exactly(points, read_back(influx, db))


SCENARIOS = sorted((ROOT / "fixtures" / "scenarios").glob("*.export"))


@pytest.mark.skipif(not FIXTURES, reason="no fixtures/*.export")
@pytest.mark.parametrize("fixture", [FIXTURES[0], *SCENARIOS[:2]], ids=lambda p: p.name)
def test_cli_backfill_into_influx_equals_dry_run(influx, fixture):
    """`backfill X --dry-run --models-dir D` prints exactly the points `backfill X` writes: the printed line
    protocol, written raw to a second database through InfluxDB's own /write, equals the first, row by row."""
    import urllib.request
    import uuid

    db_real, db_dry = (f"t_cli_{uuid.uuid4().hex[:8]}" for _ in range(2))
    for db in (db_real, db_dry):
        influx.create_database(db)
    env = {"INFLUXDB_V2_URL": influx.v2_url, "INFLUXDB_V2_ORG": "o", "INFLUXDB_V2_BUCKET": db_real,
           "INFLUXDB_V2_TOKEN": "secret-token-xyz", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "ollama_ingest.cli", "backfill", str(fixture), "--models-dir", str(MODELS)]
    dry = subprocess.run([*cmd, "--dry-run"], env=env, capture_output=True, text=True, check=True)
    real = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    req = urllib.request.Request(f"{influx.url}/write?db={db_dry}&precision=n", data=dry.stdout.encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 204
    got_real, got_dry = read_back(influx, db_real), read_back(influx, db_dry)
    assert got_real == got_dry and len(got_real) > 0
    for out in (dry.stdout, dry.stderr, real.stdout, real.stderr):
        assert "secret-token-xyz" not in out
    for db in (db_real, db_dry):
        influx.drop_database(db)


def test_bad_point_is_isolated_dropped_and_counted(influx_db):
    influx, db = influx_db
    sink = InfluxSink(influx.v2_url, "o", db, "t", batch_size=1000)
    good = [Point("m", {"host": "h"}, {"v": i}, 1_000 + i) for i in range(50)]
    bad = Point("m", {"host": "h"}, {"v": "a string where an int was"}, 5_000)
    sink.add(good[:25] + [bad] + good[25:])
    assert drain(sink)
    sink.close()
    assert sink.dropped == 1 and sink.written == 50
    assert len(influx.query('SELECT * FROM "m"', db=db)) == 50
