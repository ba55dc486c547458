"""Every input reader: export (text and binary fields), JSON, text locales, real journal files."""

import io
import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ollama_ingest.sources import export as export_mod
from ollama_ingest.sources import open_input, sniff
from ollama_ingest.sources.export import ExportReader
from ollama_ingest.sources.jsonlines import JsonReader
from ollama_ingest.sources.text import TextReader, parse_tz
from testbed.journalform import export_entry

from .helpers import ListSink

GIN = '[GIN] 2025/07/22 - 23:26:41 | 200 |  9.103921169s |      172.17.0.3 | POST     "/api/chat"'
ANSI = "\x1b[97;42m[GIN]\x1b[0m colour"
BAD = b"bad \xff utf8\n\nwith a blank line inside"


def _fields(i, msg, **extra):
    f = [("__CURSOR", f"s=abc;i={i:x}"), ("__REALTIME_TIMESTAMP", str(1_721_690_783_639_029 + i)),
         ("__MONOTONIC_TIMESTAMP", str(1000 + i)), ("_HOSTNAME", "gpu-host"), ("_PID", "1617"),
         ("SYSLOG_IDENTIFIER", "ollama"), ("_SYSTEMD_UNIT", "ollama.service"), ("MESSAGE", msg)]
    return f + list(extra.items())


def _stream(msgs):
    return b"".join(export_entry(_fields(i, m)) for i, m in enumerate(msgs))


def test_export_text_and_binary_fields_at_any_chunk_size(monkeypatch):
    msgs = ["plain", GIN, ANSI, BAD, "x" * 50_000, "after the binary one", ""]
    data = _stream(msgs)
    for chunk in (7, 64, 1000, 1 << 20):
        monkeypatch.setattr(export_mod, "_CHUNK", chunk)
        got = list(ExportReader(io.BytesIO(data)))
        assert [e.message for e in got] == [m.decode() if isinstance(m, bytes) and False else m for m in msgs]
        assert [e.ts_us for e in got] == [1_721_690_783_639_029 + i for i in range(len(msgs))]
        assert {e.host for e in got} == {"gpu-host"} and {e.pid for e in got} == {1617}
        assert got[1].cursor == "s=abc;i=1"


def test_export_invalid_utf8_stays_bytes_and_ansi_stays_text():
    got = list(ExportReader(io.BytesIO(_stream([ANSI, BAD]))))
    assert got[0].message == ANSI and got[1].message == BAD


def test_export_last_entry_without_blank_line_and_stray_blank_lines():
    data = b"\n\n" + _stream(["one"]) + b"\n\n" + export_entry(_fields(1, "two"))[:-1]
    got = list(ExportReader(io.BytesIO(data)))
    assert [e.message for e in got] == ["one", "two"]


def test_export_systemd_lines_carry_the_unit_they_speak_of():
    f = _fields(0, "Stopping ollama.service - Ollama Service...")
    f = [(k, v) for k, v in f if k not in ("_SYSTEMD_UNIT", "_PID", "SYSLOG_IDENTIFIER")]
    f += [("_PID", "1"), ("SYSLOG_IDENTIFIER", "systemd"), ("_SYSTEMD_UNIT", "init.scope"), ("UNIT", "ollama.service")]
    (e,) = ExportReader(io.BytesIO(export_entry(f)))
    assert (e.unit, e.pid, e.ident) == ("ollama.service", 1, "systemd")


def test_export_truncated_binary_field_and_missing_timestamp_are_counted():
    good = _stream(["ok"])
    no_ts = export_entry([("MESSAGE", "no time")])
    trunc = export_entry(_fields(5, ANSI))[:-20]
    r = ExportReader(io.BytesIO(good + no_ts + trunc))
    got = list(r)
    assert [e.message for e in got] == ["ok"]
    assert r.skipped["export: entry without a valid __REALTIME_TIMESTAMP"] == 1
    assert r.skipped["export: truncated binary field"] == 1


def test_json_message_as_string_bytes_and_null():
    rows = [
        {"__REALTIME_TIMESTAMP": "1721690783639029", "_HOSTNAME": "h", "_PID": "7", "MESSAGE": GIN},
        {"__REALTIME_TIMESTAMP": "1721690783639030", "_HOSTNAME": "h", "MESSAGE": list(ANSI.encode())},
        {"__REALTIME_TIMESTAMP": "1721690783639031", "_HOSTNAME": "h", "MESSAGE": list(BAD)},
        {"__REALTIME_TIMESTAMP": "1721690783639032", "_HOSTNAME": "h", "MESSAGE": None},
        {"MESSAGE": "no time"},
    ]
    data = "\n".join(json.dumps(r) for r in rows).encode() + b"\nnot json\n[1,2]\n"
    r = JsonReader(io.BytesIO(data))
    got = list(r)
    assert [e.message for e in got] == [GIN, ANSI, BAD]
    assert got[0].pid == 7
    assert r.skipped["json: MESSAGE null (longer than 4096 bytes; export with --all)"] == 1
    assert r.skipped["json: entry without a valid __REALTIME_TIMESTAMP"] == 1
    assert r.skipped["json: line is not JSON"] == 1 and r.skipped["json: line is not an object"] == 1


@pytest.mark.parametrize("prefix,month", [
    ("Jul 22", 7), ("июл 22", 7), ("juil. 22", 7), ("Jul 22", 7), ("avril 27", 4), ("jan 27", 1),
    (" 5月 07", 5), ("Mär 03", 3), ("Okt 09", 10), ("déc. 01", 12), ("мая 05", 5),
])
def test_text_month_names_in_several_locales(prefix, month):
    line = f"{prefix} 23:26:41 gpu-host ollama[1617]: hello"
    (e,) = TextReader(io.BytesIO(line.encode()), year=2025, tz=timezone.utc)
    d = datetime.fromtimestamp(e.ts_us / 1e6, timezone.utc)
    assert d.month == month and (d.hour, d.minute, d.second) == (23, 26, 41)
    assert (e.host, e.ident, e.pid, e.message) == ("gpu-host", "ollama", 1617, "hello")


def test_text_infers_year_and_zone_from_ollamas_own_timestamps():
    text = ("-- Journal begins at Mon 2025-07-21 --\n"
            "Jul 22 23:26:23 gpu ollama[1617]: time=2025-07-22T23:26:23.639+03:00 level=INFO source=a.go:1 msg=x\n"
            "Jul 22 23:26:41.123456 gpu ollama[1617]: " + GIN + "\n")
    r = TextReader(io.BytesIO(text.encode()))
    a, b = list(r)
    assert a.ts_us == int(datetime(2025, 7, 22, 20, 26, 23, tzinfo=timezone.utc).timestamp()) * 1_000_000
    assert b.ts_us == int(datetime(2025, 7, 22, 20, 26, 41, tzinfo=timezone.utc).timestamp()) * 1_000_000 + 123456
    assert any("inferred 2025" in s for s in r.assumptions)
    assert any("UTC+03:00" in s for s in r.assumptions)


def test_text_short_iso_carries_its_own_zone():
    text = "2025-07-22T23:26:23+0300 gpu ollama[1617]: hi\n2025-07-22T23:26:24.500000+03:00 gpu ollama[1617]: ho\n"
    a, b = TextReader(io.BytesIO(text.encode()))
    assert a.ts_us == int(datetime(2025, 7, 22, 20, 26, 23, tzinfo=timezone.utc).timestamp()) * 1_000_000
    assert b.ts_us - a.ts_us == 1_500_000


def test_text_year_rolls_over_in_january_and_tz_by_name():
    text = "Dec 31 23:59:59 h ollama[1]: a\nJan 01 00:00:01 h ollama[1]: b\n"
    a, b = TextReader(io.BytesIO(text.encode()), year=2025, tz=parse_tz("Europe/Berlin"))
    assert b.ts_us - a.ts_us == 2_000_000
    with pytest.raises(ValueError):
        parse_tz("Mars/Olympus")


def test_text_garbage_lines_are_counted():
    r = TextReader(io.BytesIO(b"no prefix here\nFoo 12 10:00:00 h x[1]: m\n"), year=2025, tz=timezone.utc)
    assert list(r) == []
    assert r.skipped["text: line without a journalctl short/iso prefix"] == 2


def test_sniff():
    assert sniff(b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1\n") == "export"
    assert sniff(b'{"MESSAGE": "x"}\n') == "json"
    assert sniff(b"LPKSHHRH\x00\x00") == "journal"
    assert sniff(b"Jul 22 23:26:23 gpu ollama[1617]: x\n") == "text"


journal_remote = shutil.which("systemd-journal-remote") or "/lib/systemd/systemd-journal-remote"


@pytest.mark.skipif(not shutil.os.path.exists(journal_remote), reason="systemd-journal-remote not installed")
def test_real_journal_file_matches_the_export(tmp_path):
    msgs = ["plain", GIN, ANSI, BAD, "after"]
    data = _stream(msgs)
    other = export_entry([(k, v) for k, v in _fields(9, "someone else's line") if k != "_SYSTEMD_UNIT"]
                         + [("_SYSTEMD_UNIT", "cron.service")])
    (tmp_path / "in.export").write_bytes(data + other)
    out = tmp_path / "t.journal"
    subprocess.run([journal_remote, "-o", str(out), str(tmp_path / "in.export")], check=True, capture_output=True)
    from_journal = list(open_input(str(out)))
    from_export = [e for e in open_input(str(tmp_path / "in.export")) if e.unit == "ollama.service"]
    assert [(e.ts_us, e.message, e.host, e.pid) for e in from_journal] == [
        (e.ts_us, e.message, e.host, e.pid) for e in from_export]
    assert len(from_journal) == len(msgs)  # the unit match left cron's line out
    # --since/--until seek in the journal
    since = datetime.fromtimestamp((1_721_690_783_639_029 + 2) / 1e6, timezone.utc)
    assert [e.message for e in open_input(str(out), since=since)][0] in (ANSI, GIN)


def test_a_broken_journal_file_is_a_clear_error_not_a_traceback(tmp_path):
    from ollama_ingest.sources import InputError

    for i, data in enumerate([b"\x00" * 300, b"LPKSHHRH garbage", bytes(range(256)) * 4]):
        p = tmp_path / f"bad{i}.journal"
        p.write_bytes(data)
        with pytest.raises(InputError, match="cannot open"):
            open_input(str(p))
    with pytest.raises(InputError, match="No such file"):
        open_input(str(tmp_path / "missing.export"))


@pytest.mark.parametrize("fixture", sorted(__import__("pathlib").Path(__file__).parent.parent.glob("fixtures/era-*.export")),
                         ids=lambda p: p.name)
def test_the_reader_prefilter_changes_no_count_and_no_point(fixture):
    from ollama_ingest.correlate.timeline import Timeline
    from ollama_ingest.pipeline import Pipeline

    runs = []
    for pre in (False, True):
        sink = ListSink()
        summary = Pipeline(Timeline(), sink).run([open_input(str(fixture), prefilter=pre)])
        runs.append((summary, sink.points))
    (s1, p1), (s2, p2) = runs
    assert s1 == s2 and p1 == p2 and s1["noise"] > s1["parsed"]


def test_the_journal_reader_prefilter_changes_no_count_and_no_point(tmp_path):
    from ollama_ingest.correlate.timeline import Timeline
    from ollama_ingest.pipeline import Pipeline

    fixture = sorted(Path(__file__).parent.parent.glob("fixtures/era-e.export"))[0]
    out = tmp_path / "e.journal"
    subprocess.run([journal_remote, "-o", str(out), str(fixture)], check=True, capture_output=True)
    runs = []
    for pre in (False, True):
        sink = ListSink()
        src = open_input(str(out), prefilter=pre)
        summary = Pipeline(Timeline(), sink).run([src])
        runs.append((summary, sink.points, src.prefiltered))
    (s1, p1, n1), (s2, p2, n2) = runs
    assert s1 == s2 and p1 == p2 and n1 == 0 and n2 > s2["parsed"]


@pytest.mark.skipif(not shutil.os.path.exists(journal_remote), reason="systemd-journal-remote not installed")
def test_every_reader_builds_the_same_entries_with_one_unit_rule(tmp_path):
    """UNIT= names the unit only on systemd's own lines (PID 1); a user manager's UNIT= does not count."""
    rows = [_fields(0, GIN),
            [(k, v) for k, v in _fields(1, "Started ollama.service - Ollama Service.")
             if k not in ("_PID", "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT")]
            + [("_PID", "1"), ("SYSLOG_IDENTIFIER", "systemd"), ("_SYSTEMD_UNIT", "init.scope"),
               ("UNIT", "ollama.service")],
            [(k, v) for k, v in _fields(2, "Started ollama.service.") if k not in ("_PID", "SYSLOG_IDENTIFIER",
                                                                                  "_SYSTEMD_UNIT")]
            + [("_PID", "900"), ("SYSLOG_IDENTIFIER", "systemd"), ("_SYSTEMD_UNIT", "user@1000.service"),
               ("UNIT", "ollama.service")],
            _fields(3, BAD)]
    (tmp_path / "in.export").write_bytes(b"".join(export_entry(f) for f in rows))
    out = tmp_path / "t.journal"
    subprocess.run([journal_remote, "-o", str(out), str(tmp_path / "in.export")], check=True, capture_output=True)
    js = subprocess.run(["journalctl", "--file", str(out), "-o", "json", "--all"], check=True,
                        capture_output=True).stdout
    (tmp_path / "in.json").write_bytes(js)

    def key(e):
        return (e.ts_us, e.message, e.host, e.pid, e.unit, e.ident)

    got = {name: [key(e) for e in open_input(str(tmp_path / name), unit=None)]
           for name in ("in.export", "in.json", "t.journal")}
    assert got["in.export"] == got["in.json"] == got["t.journal"]
    assert [k[4] for k in got["in.export"]] == ["ollama.service", "ollama.service", "user@1000.service",
                                               "ollama.service"]
    assert got["in.export"][3][1] == BAD  # not UTF-8: kept as bytes by every reader
    # the unit match reads the same entries the readers attribute to the unit
    assert [k[2:4] for k in [key(e) for e in open_input(str(out))]] == [("gpu-host", 1617), ("gpu-host", 1),
                                                                          ("gpu-host", 1617)]
