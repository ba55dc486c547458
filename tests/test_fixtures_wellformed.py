"""The journal fixtures in fixtures/ are well-formed and agree with fixtures/expected/*.json.

These tests check the fixtures themselves (built by fixtures/build.py), not the product: a strict stdlib
reader for the journal export format, ordering, the ground-truth counts, the JSON and text forms of era E,
the model manifests, and (when systemd-journal-remote is installed) a round trip through a real .journal file.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPORTS = sorted(FIXTURES.glob("era-*.export"))
JOURNAL_REMOTE = Path("/lib/systemd/systemd-journal-remote")
FIELD_NAME = re.compile(rb"^[A-Z0-9_]+$")
SLOG_RE = re.compile(rb"^time=(\S+) level=\S+ source=\S+ msg=")
GOLOG_RE = re.compile(rb"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \S+\.go:\d+: ")
GIN_RE = re.compile(
    r"^\[GIN\] (\d{4}/\d\d/\d\d - \d\d:\d\d:\d\d) \|(?:\x1b\[[0-9;]*m)? (\d{3}) (?:\x1b\[0m)?\| +(\S+) \| +(\S+) \|"
    r"(?:\x1b\[[0-9;]*m)? (\S+) +(?:\x1b\[0m)? (\".*\")$"
)


class ExportFormatError(ValueError):
    pass


def read_export(data: bytes) -> list[list[tuple[str, bytes]]]:
    """Strict reader for systemd's journal export format (text and binary field forms)."""
    entries: list[list[tuple[str, bytes]]] = []
    cur: list[tuple[str, bytes]] = []
    i, n = 0, len(data)
    while i < n:
        if data[i] == 0x0A:  # empty line: end of entry
            if not cur:
                raise ExportFormatError(f"empty entry at byte {i}")
            entries.append(cur)
            cur = []
            i += 1
            continue
        nl = data.find(b"\n", i)
        if nl < 0:
            raise ExportFormatError(f"unterminated line at byte {i}")
        line = data[i:nl]
        eq = line.find(b"=")
        if eq >= 0:
            key, value = line[:eq], line[eq + 1 :]
            i = nl + 1
        else:
            key = line
            if nl + 9 > n:
                raise ExportFormatError(f"truncated binary length for {key!r}")
            (size,) = struct.unpack("<Q", data[nl + 1 : nl + 9])
            start, end = nl + 9, nl + 9 + size
            if end >= n or data[end] != 0x0A:
                raise ExportFormatError(f"binary field {key!r} at byte {i} is not followed by a newline")
            value = data[start:end]
            i = end + 1
        if not FIELD_NAME.match(key):
            raise ExportFormatError(f"bad field name {key!r} at byte {i}")
        cur.append((key.decode(), value))
    if cur:
        raise ExportFormatError("the last entry is not terminated by an empty line")
    return entries


def text_form_ok(value: bytes) -> bool:
    """What the export format may write as KEY=value (systemd: printable UTF-8, no newline)."""
    try:
        s = value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any((ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) <= 0x9F for c in s)


def category(fields: dict[str, bytes]) -> str:
    if fields.get("SYSLOG_IDENTIFIER") == b"systemd":
        return "systemd"
    m = fields["MESSAGE"]
    if SLOG_RE.match(m):
        return "slog"
    if GOLOG_RE.match(m):
        return "golog"
    if m.startswith(b"[GIN] "):
        return "gin"
    return "noise"


def go_duration_ns(s: str) -> int:
    """Parse Go's Duration.String() output (gin's latency column)."""
    units = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "\u00b5s": 10**3, "ns": 1}
    if s == "0s":
        return 0
    total = 0
    for num, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|\u00b5s|ns|s)", s):
        whole, _, frac = num.partition(".")
        mult = units[unit]
        total += int(whole) * mult + (int(frac) * mult // 10 ** len(frac) if frac else 0)
    assert "".join(a + b for a, b in re.findall(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|\u00b5s|ns|s)", s)) == s, s
    return total


@pytest.fixture(scope="module", params=[p.name for p in EXPORTS])
def fixture(request):
    path = FIXTURES / request.param
    data = path.read_bytes()
    entries = read_export(data)
    expected = json.loads((FIXTURES / "expected" / (path.stem + ".json")).read_text(encoding="utf-8"))
    return path, data, entries, expected


def test_there_are_four_eras():
    assert [p.name for p in EXPORTS] == ["era-c.export", "era-e.export", "era-f.export", "era-g.export"]


def test_entries_are_well_formed(fixture):
    path, data, entries, expected = fixture
    assert 300 <= len(entries) <= 1500
    for e in entries:
        keys = [k for k, _ in e]
        assert keys[:4] == ["__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID"]
        assert len(keys) == len(set(keys)), keys
        f = dict(e)
        assert "MESSAGE" in f and "__REALTIME_TIMESTAMP" in f
        assert f["__REALTIME_TIMESTAMP"].isdigit() and f["__MONOTONIC_TIMESTAMP"].isdigit()
        assert f["_HOSTNAME"].decode() == expected["host"]
        assert f["_BOOT_ID"].decode() == expected["boot_id"]
        cursor = f["__CURSOR"].decode()
        assert re.fullmatch(
            r"s=[0-9a-f]{32};i=[0-9a-f]+;b=[0-9a-f]{32};m=[0-9a-f]+;t=[0-9a-f]+;x=[0-9a-f]{16}", cursor
        )
        assert f"t={int(f['__REALTIME_TIMESTAMP']):x}" in cursor


def test_binary_form_is_used_exactly_when_needed(fixture):
    path, data, entries, expected = fixture
    # re-scan: every field written as KEY=value must be printable, every binary one must not be
    i = 0
    for e in entries:
        for key, value in e:
            line = key.encode() + b"=" + value + b"\n"
            if data.startswith(line, i):
                assert text_form_ok(value), (key, value[:60])
                i += len(line)
            else:
                assert data.startswith(key.encode() + b"\n" + struct.pack("<Q", len(value)), i)
                assert not text_form_ok(value), (key, value[:60])
                i += len(key) + 1 + 8 + len(value) + 1
        assert data[i : i + 1] == b"\n"
        i += 1
    assert i == len(data)


def test_timestamps_are_increasing(fixture):
    path, data, entries, expected = fixture
    rt = [int(dict(e)["__REALTIME_TIMESTAMP"]) for e in entries]
    mono = [int(dict(e)["__MONOTONIC_TIMESTAMP"]) for e in entries]
    assert all(a <= b for a, b in zip(rt, rt[1:], strict=False))
    assert all(a <= b for a, b in zip(mono, mono[1:], strict=False))
    assert len({r - m for r, m in zip(rt, mono, strict=True)}) == 1  # one boot


def test_counts_match_expected(fixture):
    path, data, entries, expected = fixture
    c = expected["counts"]
    cats = [category(dict(e)) for e in entries]
    assert c["entries"] == len(entries)
    for k in ("noise", "slog", "golog", "gin", "systemd"):
        assert c[k] == cats.count(k), k
    assert c["noise"] * 2 >= c["entries"]
    msgs = [dict(e)["MESSAGE"] for e in entries]
    assert c["binary_messages"] == sum(not text_form_ok(m) for m in msgs)
    assert c["empty_messages"] == sum(m == b"" for m in msgs)
    assert c["max_message_bytes"] == max(len(m) for m in msgs)
    assert len(expected["gin"]) == c["gin"]
    assert len(expected["systemd"]) == c["systemd"]
    assert len(expected["loads"]) == c["loads"]


def test_slog_time_agrees_with_the_journal(fixture):
    path, data, entries, expected = fixture
    for e in entries:
        f = dict(e)
        m = SLOG_RE.match(f["MESSAGE"])
        if not m:
            continue
        t = datetime.fromisoformat(m.group(1).decode().replace("Z", "+00:00"))
        assert m.group(1).decode().endswith(expected["zone"]["utc_offset"])
        us = int(f["__REALTIME_TIMESTAMP"])
        assert int(t.timestamp() * 1000) == us // 1000  # ms, truncated


def test_gin_lines_match_expected(fixture):
    path, data, entries, expected = fixture
    gins = [dict(e) for e in entries if dict(e)["MESSAGE"].startswith(b"[GIN] ")]
    off = expected["zone"]["utc_offset"]
    tz = (
        timezone.utc if off == "Z" else timezone(timedelta(hours=int(off[:3]), minutes=int(off[0] + off[4:])))
    )
    for f, exp in zip(gins, expected["gin"], strict=True):
        m = GIN_RE.match(f["MESSAGE"].decode("utf-8"))
        assert m, f["MESSAGE"]
        stamp, status, latency, client, method, path_q = m.groups()
        us = int(f["__REALTIME_TIMESTAMP"])
        assert exp["us"] == us
        assert stamp == exp["gin_time"]
        local = datetime.fromtimestamp(us / 1e6, tz).strftime("%Y/%m/%d - %H:%M:%S")
        assert stamp == local  # gin's own timestamp (request end, local, whole seconds) agrees with journald
        assert (int(status), latency, client, method) == (
            exp["status"],
            exp["latency"],
            exp["client"],
            exp["method"],
        )
        assert json.loads(path_q) == exp["path"]
        assert go_duration_ns(latency) == exp["latency_ns"]
        assert exp["start_ns"] == us * 1000 - exp["latency_ns"]
    paths = {g["path"] for g in expected["gin"]}
    for want in (
        "/api/chat",
        "/api/generate",
        "/api/embed",
        "/v1/chat/completions",
        "/api/tags",
        "/api/ps",
        "/",
    ):
        assert want in paths, want
    assert any("?" in p for p in paths)
    assert {"GET", "POST", "HEAD", "OPTIONS", "DELETE"} <= {g["method"] for g in expected["gin"]}
    assert {200, 400, 404, 500} <= {g["status"] for g in expected["gin"]}
    assert any(":" in g["client"] for g in expected["gin"]) and any(
        "." in g["client"] for g in expected["gin"]
    )
    lat = [g["latency"] for g in expected["gin"]]
    for form in (r"\d+ns", r"[\d.]+\u00b5s", r"[\d.]+ms", r"[\d.]+s", r"(\d+h)?\d+m\d+s"):
        assert any(re.fullmatch(form, x) for x in lat), form


def test_loads_match_expected(fixture):
    path, data, entries, expected = fixture
    by_us = {int(dict(e)["__REALTIME_TIMESTAMP"]): dict(e)["MESSAGE"] for e in entries}
    for ld in expected["loads"]:
        line = by_us[ld["start_us"]]
        assert b"starting" in line and f"sha256-{ld['blob']}".encode() in line
        if ld["ok"]:
            ready = by_us[ld["ready_us"]]
            assert f"started in {ld['load_s']:.2f} seconds".encode() in ready
        assert ld["names"], ld
        assert ld["num_ctx"] * ld["parallel"] == ld["ctx"]


def test_manifests_resolve_every_blob():
    models = FIXTURES / "models" / "manifests"
    blob_names: dict[str, list[str]] = {}
    for mf in models.rglob("*"):
        if mf.is_file():
            doc = json.loads(mf.read_text())
            assert doc["schemaVersion"] == 2
            layers = [x for x in doc["layers"] if x["mediaType"] == "application/vnd.ollama.image.model"]
            assert len(layers) == 1
            blob_names.setdefault(layers[0]["digest"].removeprefix("sha256:"), []).append(
                str(mf.relative_to(models))
            )
    for p in EXPORTS:
        exp = json.loads((FIXTURES / "expected" / (p.stem + ".json")).read_text(encoding="utf-8"))
        for ld in exp["loads"]:
            assert ld["blob"] in blob_names, (p.name, ld["model"])
    # llama3:latest and llama3:8b share one model blob
    shared = [v for v in blob_names.values() if len(v) > 1]
    assert any(
        sorted(v) == ["registry.ollama.ai/library/llama3/8b", "registry.ollama.ai/library/llama3/latest"]
        for v in shared
    )


def test_era_e_json_forms():
    entries = read_export((FIXTURES / "era-e.export").read_bytes())
    for name, show_all in (("era-e.json", True), ("era-e-noall.json", False)):
        lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(entries)
        for line, e in zip(lines, entries, strict=True):
            obj = json.loads(line)
            for key, value in e:
                got = obj[key]
                if not show_all and len(key) + 1 + len(value) >= 4096:
                    assert got is None
                elif isinstance(got, list):
                    assert bytes(got) == value and not text_form_ok(value.replace(b"\n", b""))
                else:
                    assert got.encode("utf-8") == value
    noall = [json.loads(x) for x in (FIXTURES / "era-e-noall.json").read_text(encoding="utf-8").splitlines()]
    assert any(o["MESSAGE"] is None for o in noall)
    assert any(isinstance(o["MESSAGE"], list) for o in noall)


def test_era_e_text_forms():
    entries = read_export((FIXTURES / "era-e.export").read_bytes())
    short = (FIXTURES / "era-e.short.txt").read_bytes().split(b"\n")[:-1]
    precise = (FIXTURES / "era-e.short-precise.txt").read_bytes().split(b"\n")[:-1]
    iso = (FIXTURES / "era-e.short-iso.txt").read_bytes().split(b"\n")[:-1]
    ru = (FIXTURES / "era-e.short.ru.txt").read_bytes().split(b"\n")[:-1]
    assert len(short) == len(precise) == len(iso) == len(ru) == len(entries)
    assert short[0].startswith(b"Jul 23 09:20:03 gpu-host-e systemd[1]: ")
    assert precise[0][:22] == b"Jul 23 09:20:03.512787"
    assert iso[0].startswith(b"2025-07-23T09:20:03+1000 gpu-host-e systemd[1]: ")
    assert ru[0].startswith("июл 23 09:20:03 gpu-host-e systemd[1]: ".encode())
    assert any(re.search(rb"\]: \[\d+B blob data\]$", x) for x in short)
    assert any(len(x) > 48_000 for x in short)
    assert not any(b"\x1b" in x for x in short)


def _journal_tools():
    return JOURNAL_REMOTE.exists() and shutil.which("journalctl")


@pytest.mark.skipif(not _journal_tools(), reason="systemd-journal-remote/journalctl not installed")
def test_journal_remote_round_trip(fixture, tmp_path):
    path, data, entries, expected = fixture
    out = tmp_path / (path.stem + ".journal")
    subprocess.run([str(JOURNAL_REMOTE), "-o", str(out), str(path)], check=True, capture_output=True)
    back = subprocess.run(
        ["journalctl", "--file", str(out), "-o", "export", "--no-pager"], check=True, capture_output=True
    ).stdout
    again = read_export(back)
    assert len(again) == len(entries)
    for a, b in zip(entries, again, strict=True):
        fa, fb = dict(a), dict(b)
        assert fa["__REALTIME_TIMESTAMP"] == fb["__REALTIME_TIMESTAMP"]
        assert fa["MESSAGE"] == fb["MESSAGE"]
        assert sorted(x for x in a if x[0] != "__CURSOR") == sorted(x for x in b if x[0] != "__CURSOR")


@pytest.mark.skipif(not _journal_tools(), reason="systemd-journal-remote/journalctl not installed")
def test_era_e_short_matches_journalctl(tmp_path):
    out = tmp_path / "era-e.journal"
    subprocess.run(
        [str(JOURNAL_REMOTE), "-o", str(out), str(FIXTURES / "era-e.export")], check=True, capture_output=True
    )
    env = {"TZ": ":Australia/Brisbane", "LC_ALL": "C", "PATH": "/usr/bin:/bin", "SYSTEMD_COLORS": "0"}
    if not Path("/usr/share/zoneinfo/Australia/Brisbane").exists():
        pytest.skip("no zoneinfo for Australia/Brisbane")
    for mode, name in (
        ("short", "era-e.short.txt"),
        ("short-precise", "era-e.short-precise.txt"),
        ("short-iso", "era-e.short-iso.txt"),
    ):
        got = subprocess.run(
            ["journalctl", "--file", str(out), "-o", mode, "--no-pager"],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
        assert got == (FIXTURES / name).read_bytes(), mode
