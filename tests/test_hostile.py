"""Logs contain whatever clients send: bounded tags, valid line protocol, strings cut to InfluxDB's limit."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.pipeline import Pipeline
from ollama_ingest.schema.point import Point
from ollama_ingest.sinks.influx import InfluxSink
from ollama_ingest.sinks.lineprotocol import MAX_STRING_BYTES, TRUNCATED_MARK, to_line
from ollama_ingest.sources import open_input
from testbed.journalform import export_entry

T0 = 1_753_226_783_000_000


def gin_line(ts_us: int, status: int, latency: str, client: str, method: str, path: str) -> str:
    d = datetime.fromtimestamp(ts_us / 1e6, timezone.utc)
    quoted = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'[GIN] {d:%Y/%m/%d - %H:%M:%S} | {status} | {latency:>13} | {client:>15} | {method:<7} "{quoted}"'


def write_export(path, messages: list[str]) -> str:
    with open(path, "wb") as f:
        for i, m in enumerate(messages):
            f.write(export_entry([("__REALTIME_TIMESTAMP", str(T0 + i * 1000)), ("_HOSTNAME", "gpu"),
                                  ("_PID", "1617"), ("SYSLOG_IDENTIFIER", "ollama"),
                                  ("_SYSTEMD_UNIT", "ollama.service"), ("MESSAGE", m)]))
    return str(path)


def test_a_scanner_cannot_blow_up_series_cardinality(influx_db, tmp_path):
    influx, db = influx_db
    rnd = random.Random(7)
    methods = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND", "TRACE", "CONNECT",
               "get", "FOO", "M-SEARCH"]
    msgs, ips, paths = [], set(), set()
    for i in range(10_000):
        ip = f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}" if i % 3 else \
            f"2001:db8::{rnd.randrange(65536):x}:{i:x}"
        path = rnd.choice(["/", "/api/", "/v1/", "/.env", "/wp-admin/", "/cgi-bin/"]) + \
            f"{rnd.getrandbits(40):x}/{i}" + rnd.choice(["", "?q=1", "?id=' OR 1=1--", "/../../etc/passwd"])
        ips.add(ip)
        paths.add(path)
        msgs.append(gin_line(T0 + i * 1000, rnd.choice([200, 301, 400, 404, 405, 500]), "12.5µs", ip,
                             rnd.choice(methods), path))
    src = write_export(tmp_path / "scan.export", msgs)
    sink = InfluxSink(influx.v2_url, "o", db, "t")
    stats = Pipeline(Timeline(), sink).run([open_input(src)])
    sink.close()
    assert stats["parsed"] == 10_000 and stats["written"] == 10_000
    endpoints = influx.query('SHOW TAG VALUES FROM "ollama_request" WITH KEY = "endpoint"', db=db)
    assert 1 <= len(endpoints) <= 30
    series = influx.query("SHOW SERIES", db=db)
    assert len(series) <= 30 * 8 * 6  # endpoints × methods × statuses, whatever the scanner sends
    tag_values = {v for row in series for v in row["key"].split(",")[1:]}
    leaked = [v for v in tag_values if any(ip in v for ip in list(ips)[:500]) or v.split("=", 1)[1] in paths]
    assert not leaked
    # the scanner's paths are kept, as a field, for the requests that hit no known endpoint
    other = influx.query('SELECT count("path") FROM "ollama_request" WHERE "endpoint" = \'other\'', db=db)
    assert other[0]["count"] > 9_000


def test_hostile_strings_give_valid_line_protocol_that_round_trips(influx_db, tmp_path):
    influx, db = influx_db
    nasty = ['a\nb', 'quote " and \\" and \\', 'comma, space =eq', "nul\x00byte", "tab\there", "ünï 🚀 \u2028",
             "x" * (1 << 20)]
    msgs = [gin_line(T0 + i * 1000, 404, "1ms", "127.0.0.1", "GET", "/zz/" + s) for i, s in enumerate(nasty)]
    src = write_export(tmp_path / "nasty.export", msgs)
    sink = InfluxSink(influx.v2_url, "o", db, "t")
    stats = Pipeline(Timeline(), sink).run([open_input(src)])
    sink.close()
    assert stats["written"] == len(nasty) and stats["dropped"] == 0
    rows = influx.query('SELECT "path" FROM "ollama_request"', db=db)
    got = [r["path"] for r in rows]
    want = {("/zz/" + s).replace("\x00", "") for s in nasty[:-1]}  # NUL cannot be stored: dropped
    big = [p for p in got if p.startswith("/zz/xxx")]
    assert len(got) == len(nasty) and set(got) - set(big) == want
    assert len(big) == 1 and big[0].endswith(TRUNCATED_MARK)
    assert len(big[0].encode()) <= MAX_STRING_BYTES


def test_string_fields_are_cut_at_64_kib_on_a_character_boundary():
    p = Point("m", {"host": "h"}, {"s": "é" * 70_000}, 1)
    line = to_line(p)
    value = line.split(' s="', 1)[1].rsplit('" ', 1)[0]
    assert value.endswith(TRUNCATED_MARK) and len(value.encode()) <= MAX_STRING_BYTES
    value.encode("utf-8")  # no half character


def test_tag_values_cannot_break_the_line():
    p = Point("ollama_request", {"host": "evil host,x=1\nnext=2", "model": "a=b c"}, {"v": 1}, 5)
    line = to_line(p)
    assert "\n" not in line and line.count(" ") - line.count("\\ ") == 2


def test_a_series_escaped_once_gives_every_point_the_same_escaping():
    """The escaped measurement + tag set is kept per series (sinks/lineprotocol.py): later points of the
    series, and the same tags in another order, get exactly the text the first one got."""
    tags = {"model": 'a=b c,"d"', "host": "h 1", "kind": ""}
    first = to_line(Point("ollama event", tags, {"message": 'say "hi"\\', "n": 1, "ok": True}, 7))
    assert first == 'ollama\\ event,host=h\\ 1,model=a\\=b\\ c\\,"d" message="say \\"hi\\"\\\\",n=1i,ok=true 7'
    again = to_line(Point("ollama event", dict(reversed(tags.items())), {"message": "x\x00y", "f": 0.5}, 8))
    assert again == 'ollama\\ event,host=h\\ 1,model=a\\=b\\ c\\,"d" message="xy",f=0.5 8'
