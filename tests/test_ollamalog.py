"""The line makers the tests and benchmarks share (testbed/ollamalog.py, testbed/journalform.py), checked
against fixtures/build.py, which builds the fixtures with its own code on purpose: the independent oracle."""

from __future__ import annotations

import importlib.util
import random
import sys
from datetime import datetime, timedelta, timezone

import pytest

from testbed import ollamalog as ol
from testbed.journalform import export_entry

from .service_support import ROOT

# fixtures/build.py under a name of its own (grafana/build.py is "build" for tests/test_grafana.py)
_spec = importlib.util.spec_from_file_location("fixtures_build_oracle", ROOT / "fixtures" / "build.py")
oracle = sys.modules["fixtures_build_oracle"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)

ZONES = [(0, "Etc/UTC"), (180, "Europe/Istanbul"), (-420, "America/Phoenix"), (330, "Asia/Kolkata")]
T = oracle.utc_us(2025, 7, 22, 23, 26, 41, 987_654)


def _journal(minutes: int, iana: str):
    j = oracle.Journal("x", "h", oracle.Tz(minutes, iana), 1, 0)
    j.server = oracle.Proc(4242, "ollama", ol.OLLAMA_EXE, "/usr/local/bin/ollama serve")
    return j


def _written(j, entry) -> str:
    j.finalize()
    return entry.msg.decode()


def test_latencies_print_as_go_and_gin_print_them():
    rng = random.Random(5)
    edges = [1, 999, 1_000, 1_001, 999_999, 1_000_000, 999_999_999, 10**9, 59 * 10**9 + 1, 60 * 10**9,
             60 * 10**9 + 1, 3600 * 10**9, 3723 * 10**9 + 5]
    for ns in edges + [int(rng.lognormvariate(15, 6)) + 1 for _ in range(2000)]:
        assert ol.go_duration(ns) == oracle.go_duration(oracle.gin_latency_ns(ns)), ns


@pytest.mark.parametrize("minutes,iana", ZONES)
def test_slog_gin_and_golog_lines_are_the_fixtures(minutes, iana):
    tz = timezone(timedelta(minutes=minutes))
    clock, local = ol.Clock(tz), datetime.fromtimestamp(T / 1e6, tz)
    cmd = ol.runner_cmd_e("/m/blobs/sha256-ab", 8192, 2, 39041)
    for args, kv, mine in [
        (("INFO", "server.go:438", ol.STARTING["e"], "cmd", cmd), {}, ol.slog(clock.slog(T), ol.STARTING["e"], "INFO",
                                                                              "server.go:438", cmd=f'"{cmd}"')),
        (("WARN", "sched.go:1", "x"), {}, ol.slog(ol.slog_time(local), "x", "WARN", "sched.go:1")),
        (("INFO", "routes.go:1", ol.listening("[::]:11434", "0.6.5")), {},
         ol.slog(clock.slog(T), ol.listening("[::]:11434", "0.6.5"), source="routes.go:1")),
    ]:
        j = _journal(minutes, iana)
        assert _written(j, j.slog(T, *args, **kv)) == mine
    for colored in (False, True):
        for status, method, path, ns in [(200, "POST", "/api/chat", 9_103_921_169), (404, "GET", "/x", 16_724),
                                         (500, "POST", "/api/generate", 1_799_000_000_000), (204, "OPTIONS", "/", 5)]:
            j = _journal(minutes, iana)
            e = j.gin(T, ns, status, method, path, "172.17.0.3", colored=colored)
            assert _written(j, e) == ol.gin(clock.gin(T), status, ol.go_duration(ns), "172.17.0.3", method, path,
                                            colored)
    j = _journal(minutes, iana)
    assert _written(j, j.golog(T, "routes.go:1", "Listening on 127.0.0.1:11434")) == \
        ol.golog(local, "routes.go:1", "Listening on 127.0.0.1:11434")


def test_export_entries_take_the_binary_form_where_systemd_does():
    j = _journal(0, "Etc/UTC")
    for i, m in enumerate(["plain", "tab\there", "\x1b[31mansi\x1b[0m", "del\x7f", "c1\u0085", "ünï 🚀", b"\xff\xfe",
                           b"\xc3", ""]):
        j.line(T + i, m)
    j.finalize()
    assert b"".join(export_entry(e.final_fields) for e in j.entries) == j.export_bytes()
