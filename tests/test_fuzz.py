"""Arbitrary text and bytes into every reader and parser: nothing raises, every skip has a reason,
and every entry is accounted for exactly once."""

import io
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.parse import ParseStats, parse_entry
from ollama_ingest.sinks.lineprotocol import to_line
from ollama_ingest.sources.export import ExportReader
from ollama_ingest.sources.jsonlines import JsonReader
from ollama_ingest.sources.text import TextReader

from .helpers import entry

REAL = [
    '[GIN] 2024/12/11 - 09:58:58 | 500 |        29m59s |      10.0.0.123 | POST     "/api/chat"',
    'time=2025-08-08T23:02:37.187+01:00 level=INFO source=server.go:438 msg="starting llama server" cmd="/usr/local/bin/ollama runner --model /x/blobs/sha256-e8ad13eff07a78d89926e9e8b882317d082ef5bf9768ad7b50fcdbbcd63748de --ctx-size 2048 --parallel 1 --port 39041"',
    'time=2025-08-08T23:02:37.187+01:00 level=INFO source=server.go:175 msg=offload library=cuda layers.requested=49 memory.available="[10.9 GiB]" memory.required.full="11.0 GiB"',
    'time=2025-08-24T08:26:08.833Z level=INFO source=server.go:1272 msg="llama runner started in 9.16 seconds"',
    "time=2025-03-01T10:00:00.000Z level=WARN source=sched.go:647 msg=\"gpu VRAM usage didn't recover within timeout\" seconds=5.26 model=/r/blobs/sha256-aabd",
    '2024/08/19 14:09:56 routes.go:1123: INFO server config env="map[OLLAMA_KEEP_ALIVE:5m0s OLLAMA_ORIGINS:[a b]]"',
    'time=2026-08-01T07:01:18.718Z level=INFO source=images.go:373 msg="template selection" model=registry.ollama.ai/library/gemma3:12b',
    'time=x level=INFO source=runner.go:1 msg=load request="{Operation:commit Parallel:1 KvSize:8192}"',
]


def mutate(draw_ops, line: str) -> str:
    return draw_ops(line)


@st.composite
def mutated_line(draw):
    line = draw(st.sampled_from(REAL))
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(line)))
        op = draw(st.sampled_from(["cut", "insert", "delete", "dup"]))
        if op == "cut":
            line = line[:i]
        elif op == "insert":
            line = line[:i] + draw(st.text(max_size=8)) + line[i:]
        elif op == "delete":
            line = line[:i] + line[i + draw(st.integers(1, 10)):]
        else:
            line = line[:i] + line[i:] + line[i:]
    return line


def _check(stats: ParseStats) -> None:
    assert stats.entries == stats.parsed + stats.noise + stats.ignored + sum(stats.skipped.values())
    assert all(isinstance(k, str) and k for k in stats.skipped)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), mutated_line(), st.binary()), st.integers(0, 2**62), st.sampled_from([0, 1, 77]),
       st.sampled_from(["ollama", "systemd", ""]))
def test_parsers_and_correlator_never_raise(msg, ts, pid, ident):
    stats = ParseStats()
    tl = Timeline()
    for ev in parse_entry(entry(msg, ts_us=ts, pid=pid, ident=ident), stats):
        for p in tl.feed(ev):
            to_line(p)
    _check(stats)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(["MESSAGE", "__REALTIME_TIMESTAMP", "_PID", "X", "_HOSTNAME"]),
                          st.binary(max_size=40), st.booleans()), max_size=12),
       st.binary(max_size=200), st.integers(0, 300))
def test_export_reader_on_arbitrary_and_broken_streams(fields, junk, cut):
    data = b""
    for k, v, binary in fields:
        if binary:
            data += k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
        else:
            data += k.encode() + b"=" + v.replace(b"\n", b" ") + b"\n"
        if len(data) % 3 == 0:
            data += b"\n"
    for stream in (data, data[:cut], junk, data + junk, junk + data):
        r = ExportReader(io.BytesIO(stream))
        for e in r:
            assert isinstance(e.ts_us, int)
            parse_entry(e, ParseStats())
        assert all(isinstance(k, str) and k for k in r.skipped)


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_json_and_text_readers_on_arbitrary_bytes(data):
    for reader in (JsonReader(io.BytesIO(data)), TextReader(io.BytesIO(data), year=2025)):
        for e in reader:
            parse_entry(e, ParseStats())
        assert all(isinstance(k, str) and k for k in reader.skipped)


@settings(max_examples=200)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=10))
def test_json_reader_on_arbitrary_json_values(value):
    import json

    obj = {"__REALTIME_TIMESTAMP": value, "MESSAGE": value, "_PID": value, "_HOSTNAME": value}
    for line in (json.dumps(value), json.dumps(obj)):
        r = JsonReader(io.BytesIO(line.encode()))
        list(r)


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=0, max_size=2000), st.booleans())
def test_journal_reader_on_arbitrary_files_is_an_error_or_entries(tmp_path_factory, data, magic):
    from ollama_ingest.sources import InputError, open_input

    path = tmp_path_factory.mktemp("j") / "x.journal"
    path.write_bytes((b"LPKSHHRH" if magic else b"") + data)
    try:
        src = open_input(str(path))
    except InputError as exc:
        assert "cannot open" in str(exc)
        return
    for e in src:
        parse_entry(e, ParseStats())
