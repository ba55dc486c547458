"""Ollama's own output as people have it: plain `ollama serve` output, docker logs (with and without -t),
docker compose logs, kubectl logs (--timestamps, --prefix), Docker Desktop's view, CRI files and Docker's
json-file log: detected without a flag, one entry per line, each with the right time and host.

Lines are built in the exact layouts of the real logs in tests/real/
(slog with and without zone, gin, Go's std log, llama.cpp lines without a time)."""

from __future__ import annotations

import json
from calendar import timegm
from datetime import timezone

import pytest

from ollama_ingest.sources import InputError, default_host, open_input, sniff

# Windows, Ollama 0.2.x: Go-log server config, slog at -07:00, gin in the same local time
PLAIN = [
    '2024/07/21 15:40:57 routes.go:1096: INFO server config env="map[OLLAMA_DEBUG:false OLLAMA_KEEP_ALIVE:5m0s]"',
    'time=2024-07-21T15:40:57.045-07:00 level=INFO source=images.go:778 msg="total blobs: 4"',
    'time=2024-07-21T15:40:57.047-07:00 level=INFO source=routes.go:1143 msg="Listening on 127.0.0.1:11434 '
    '(version 0.2.7)"',
    "llama_model_loader: loaded meta data with 21 key-value pairs and 291 tensors",
    '[GIN] 2024/07/21 - 15:41:03 |\x1b[97;42m 200 \x1b[0m|  5.0121123s |       127.0.0.1 |\x1b[97;46m POST    '
    '\x1b[0m "/api/chat"',
]


def utc(y, mo, d, h, mi, s, us=0):
    return timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1_000_000 + us


PLAIN_TIMES = [utc(2024, 7, 21, 22, 40, 57), utc(2024, 7, 21, 22, 40, 57, 45_000), utc(2024, 7, 21, 22, 40, 57, 47_000),
               utc(2024, 7, 21, 22, 40, 57, 47_000), utc(2024, 7, 21, 22, 41, 3)]


def read(tmp_path, text: str | bytes, name="in.log", **kw):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    src = open_input(str(p), **kw)
    return src, list(src)


def test_plain_ollama_serve_output_takes_each_lines_own_time(tmp_path):
    src, got = read(tmp_path, "\r\n".join(PLAIN) + "\r\n")  # a Windows server.log
    assert src.format == "plain"
    assert [e.ts_us for e in got] == PLAIN_TIMES  # llama.cpp's line takes the last time seen
    assert [e.text for e in got] == PLAIN
    assert {e.host for e in got} == {default_host()}
    said = " ".join(src.assumptions)
    assert "names no host" in said and "UTC-07:00 (from Ollama's own slog times)" in said


def test_plain_without_any_slog_offset_takes_tz_as_typed_or_says_it_assumed(tmp_path):
    lines = ["2023/12/03 14:58:42 llama.go:492: llama runner started in 9.200880 seconds",
             '[GIN] 2023/12/03 - 14:58:43 | 200 |  9.5s |       127.0.0.1 | POST     "/api/generate"']
    from ollama_ingest.sources.clock import parse_tz

    src, got = read(tmp_path, "\n".join(lines), tz=parse_tz("-07:00"), host="box")
    assert [e.ts_us for e in got] == [utc(2023, 12, 3, 21, 58, 42), utc(2023, 12, 3, 21, 58, 43)]
    assert {e.host for e in got} == {"box"} and not any("host" in a for a in src.assumptions)
    src, got = read(tmp_path, "\n".join(lines))
    assert "this machine's zone" in " ".join(src.assumptions)


def test_a_gin_second_never_goes_back_before_the_line_written_before_it(tmp_path):
    lines = ['time=2024-07-21T15:41:03.600-07:00 level=INFO source=server.go:1 msg="llama runner started in 1.2 '
             'seconds"', '[GIN] 2024/07/21 - 15:41:03 | 200 |  2.1s |       127.0.0.1 | POST     "/api/chat"',
             '[GIN] 2024/07/21 - 15:41:04 | 200 |  2.1s |       127.0.0.1 | POST     "/api/chat"']
    _, got = read(tmp_path, "\n".join(lines))
    assert [e.ts_us for e in got] == [utc(2024, 7, 21, 22, 41, 3, 600_000)] * 2 + [utc(2024, 7, 21, 22, 41, 4)]


@pytest.mark.parametrize("prefix,fmt,when", [
    ("2024-07-21T22:41:05.123456789Z ", "docker", utc(2024, 7, 21, 22, 41, 5, 123_456)),  # docker logs -t
    ("2024-07-21T22:41:05.123456789+00:00 ", "docker", utc(2024, 7, 21, 22, 41, 5, 123_456)),  # kubectl
    ("2024-07-21T22:41:05.5Z stderr F ", "docker", utc(2024, 7, 21, 22, 41, 5, 500_000)),  # CRI file
])
def test_timestamped_lines_take_the_prefix_time(tmp_path, prefix, fmt, when):
    src, got = read(tmp_path, "".join(prefix + x + "\n" for x in PLAIN))
    assert src.format == fmt
    assert [e.ts_us for e in got] == [when] * len(PLAIN) and [e.text for e in got] == PLAIN


def test_cri_partial_lines_are_joined(tmp_path):
    text = ("2024-07-21T22:41:05.1Z stdout P [GIN] 2024/07/21 - 15:41:05 | 200 |  \n"
            "2024-07-21T22:41:05.2Z stderr F time=2024-07-21T15:41:05.150-07:00 level=INFO msg=x\n"
            '2024-07-21T22:41:05.3Z stdout F 1.1s |       127.0.0.1 | POST     "/api/chat"\n')
    _, got = read(tmp_path, text)
    assert [e.text for e in got] == ["time=2024-07-21T15:41:05.150-07:00 level=INFO msg=x",
                                     '[GIN] 2024/07/21 - 15:41:05 | 200 |  1.1s |       127.0.0.1 | POST     '
                                     '"/api/chat"']


def test_docker_desktop_view_drops_its_zoneless_viewer_time(tmp_path):
    lines = ['2024-08-27 19:10:08 time=2024-08-27T17:10:08.100Z level=INFO source=routes.go:1 msg="Listening on '
             '[::]:11434 (version 0.3.6)"',
             '2024-08-27 19:10:09 [GIN] 2024/08/27 - 17:10:09 | 200 |   36.584739ms |       127.0.0.1 | GET      '
             '"/api/tags"']
    src, got = read(tmp_path, "\n".join(lines))
    assert src.format == "docker"
    assert [e.ts_us for e in got] == [utc(2024, 8, 27, 17, 10, 8, 100_000), utc(2024, 8, 27, 17, 10, 9)]
    assert got[1].text.startswith("[GIN]")


@pytest.mark.parametrize("stamp", ["", "2024-07-21T22:41:05.123456789Z "])
def test_compose_logs_each_container_its_own_host_and_clock(tmp_path, stamp):
    a = [f"ollama-1  | {stamp}{x}" for x in PLAIN]
    b = [f"ollama-2  | {stamp}time=2024-07-21T22:41:00.000Z level=INFO source=a.go:1 msg=\"total blobs: 0\"",
         f"ollama-2  | {stamp}[GIN] 2024/07/21 - 22:41:01 | 200 |  1.0s |       127.0.0.1 | GET      \"/api/tags\"",
         "webui-1   | INFO:     127.0.0.1:51234 - \"GET /health HTTP/1.1\" 200 OK"]
    text = "\n".join(x for pair in zip(a, b + [""] * 2, strict=True) for x in pair if x)
    src, got = read(tmp_path, "Attaching to ollama-1, ollama-2, webui-1\n" + text)
    assert src.format == "compose"
    by = {}
    for e in got:
        by.setdefault(e.host, []).append(e)
    assert [e.text for e in by["ollama-1"]] == PLAIN
    if not stamp:
        assert [e.ts_us for e in by["ollama-1"]] == PLAIN_TIMES
        assert [e.ts_us for e in by["ollama-2"]] == [utc(2024, 7, 21, 22, 41, 0), utc(2024, 7, 21, 22, 41, 1)]
    assert "webui-1" in by  # another service's lines are read, and are noise to the parsers
    assert "the container name" in " ".join(src.assumptions)
    src, got = read(tmp_path, "\n".join(a), host="gpu1")
    assert {e.host for e in got} == {"gpu1"}


@pytest.mark.parametrize("stamp", ["", "2024-07-21T22:41:05.123456789Z "])
def test_kubectl_logs_with_prefix(tmp_path, stamp):
    src, got = read(tmp_path, "".join(f"[pod/ollama-7d9f8-x2k4p/ollama] {stamp}{x}\n" for x in PLAIN))
    assert src.format == "kubectl"
    assert [e.text for e in got] == PLAIN and {e.host for e in got} == {"ollama-7d9f8-x2k4p"}
    if not stamp:
        assert [e.ts_us for e in got] == PLAIN_TIMES


def test_stern_style_prefix(tmp_path):
    src, got = read(tmp_path, "[ollama-0 ollama] " + PLAIN[4] + " \n")
    assert src.format == "kubectl" and got[0].host == "ollama-0" and got[0].text.startswith("[GIN]")


def test_lines_with_a_syslog_tag_but_no_time_nor_host(tmp_path):
    # NixOS: journal lines printed without time and host ("systemd[1]: …", "ollama[1667]: …")
    lines = ["systemd[1]: Started Server for local large language models.",
             "ollama[1667]: " + PLAIN[0], "ollama[1667]: " + PLAIN[1]]
    src, got = read(tmp_path, "\n".join(lines), unit="ollama.service")
    assert [(e.ident, e.pid, e.unit, e.text) for e in got] == [
        ("systemd", 1, "ollama.service", lines[0].split(": ", 1)[1]), ("ollama", 1667, "", PLAIN[0]),
        ("ollama", 1667, "", PLAIN[1])]
    assert [e.ts_us for e in got] == PLAIN_TIMES[:1] * 2 + PLAIN_TIMES[1:2]  # the first line takes the first time


def test_a_loggers_json_wrapper(tmp_path):
    recs = [{"level": 30, "time": 1752516972752, "pid": 10104, "hostname": "Ryzen7", "msg": PLAIN[4] + "\n"},
            {"level": 50, "time": 1752516972565, "hostname": "Ryzen7", "msg": PLAIN[1]}]
    src, got = read(tmp_path, "".join(json.dumps(r) + "\n" for r in recs))
    assert src.format == "json-log"
    assert [(e.ts_us, e.host, e.text) for e in got] == [(1752516972752000, "Ryzen7", PLAIN[4]),
                                                        (1752516972565000, "Ryzen7", PLAIN[1])]


def test_docker_json_file_log_joins_split_lines(tmp_path):
    recs = [{"log": x + "\n", "stream": "stderr", "time": f"2024-07-21T22:41:0{i}.25Z"} for i, x in enumerate(PLAIN)]
    long = "time=2024-07-21T15:41:09.000-07:00 level=INFO source=a.go:1 msg=x pad=" + "y" * 20000
    recs += [{"log": long[:16384], "stream": "stderr", "time": "2024-07-21T22:41:09.1Z"},
             {"log": "[GIN] 2024/07/21 - 15:41:09 | 200 | 1s | 1.2.3.4 | GET \"/\"\n", "stream": "stdout",
              "time": "2024-07-21T22:41:09.2Z"},
             {"log": long[16384:] + "\n", "stream": "stderr", "time": "2024-07-21T22:41:09.3Z"}]
    src, got = read(tmp_path, "".join(json.dumps(r) + "\n" for r in recs) + "not json\n", name="x-json.log")
    assert src.format == "docker-json"
    assert [e.text for e in got] == PLAIN + [recs[-2]["log"][:-1], long]
    assert got[0].ts_us == utc(2024, 7, 21, 22, 41, 0, 250_000) and got[-1].ts_us == utc(2024, 7, 21, 22, 41, 9, 300_000)
    assert src.skipped == {"docker-json: line is not JSON": 1}


def test_a_hard_wrapped_long_line_is_joined_back(tmp_path):
    first = 'time=2025-09-24T08:27:48.098+03:00 level=INFO source=routes.go:1331 msg="server config" env="map[A:1 vscode'
    rest = '-file://*] OLLAMA_KEEP_ALIVE:1h0m0s]"'
    src, got = read(tmp_path, "\n".join([first, rest, PLAIN[1]]))
    assert [e.text for e in got] == [first + rest, PLAIN[1]]
    assert "hard-wrapped" in " ".join(src.assumptions)


def test_utf16_from_powershell_is_read(tmp_path):
    src, got = read(tmp_path, "\ufeff".encode("utf-16-le") + "\r\n".join(PLAIN).encode("utf-16-le"))
    assert src.format == "plain" and [e.text for e in got] == PLAIN


def test_non_utf8_bytes_are_kept_exactly(tmp_path):
    raw = b'time=2024-07-21T15:40:57.045-07:00 level=INFO source=a.go:1 msg=x name="\xc0"'
    _, got = read(tmp_path, raw + b"\n")
    assert got[0].message == raw


@pytest.mark.parametrize("head,fmt", [
    (b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1\n", "export"),
    (b'{"__REALTIME_TIMESTAMP":"1","MESSAGE":"x"}\n', "json"),
    (b'{"log":"x\\n","stream":"stderr","time":"2024-07-21T22:41:05Z"}\n', "docker-json"),
    (b"LPKSHHRH\x00\x00", "journal"),
    (b"Jul 22 23:26:23 gpu ollama[1617]: x\n", "text"),
    (b"Sep 24 08:27:48 ollama[1940]: x\n", "text"),
    (b"2025-07-22T23:26:23+0300 gpu ollama[1617]: x\n", "text"),
    ("\n".join(PLAIN).encode(), "plain"),
    (b"llama_model_loader: - kv 0\n" + PLAIN[1].encode(), "plain"),
    (b"ollama  | " + PLAIN[1].encode(), "compose"),
    (b"[pod/o/c] " + PLAIN[1].encode(), "kubectl"),
    (b"2024-07-21T22:41:05.123456789Z " + PLAIN[1].encode(), "docker"),
])
def test_sniff(head, fmt):
    assert sniff(head) == fmt


@pytest.mark.parametrize("data,what", [
    (b"\x1f\x8b\x08\x00" + bytes(100), "gzip-compressed data, not a log: zcat"),
    (b"\x28\xb5\x2f\xfd" + bytes(100), "zstd-compressed"),
    (b"\x7fELF\x02\x01\x01" + bytes(100), "an ELF executable"),
    (bytes(range(256)) * 8, "does not look like a log"),
    (b"", "is empty"),
])
def test_inputs_that_are_not_logs_are_refused_before_reading(tmp_path, data, what):
    with pytest.raises(InputError, match=what):
        read(tmp_path, data)


def test_a_forced_format_is_used(tmp_path):
    src, got = read(tmp_path, "\n".join(PLAIN), fmt="plain")
    assert src.format == "plain" and len(got) == len(PLAIN)
    src, got = read(tmp_path, "".join(f"ollama  | {x}\n" for x in PLAIN), fmt="compose")
    assert src.format == "compose" and {e.host for e in got} == {"ollama"}
    assert got[0].ts_us == PLAIN_TIMES[0] and timezone.utc


try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    _PIECES = ["ollama-1  | ", "[pod/o/c] ", "2024-07-21T22:41:05.1Z ", "2024-07-21T22:41:05.1Z stdout P ",
               "2024-08-27 19:10:09 ", "ollama[7]: ", "systemd[1]: ", *PLAIN, "\x1b[36m", "\r", '"', "{", "\t"]

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(st.one_of(st.lists(st.sampled_from(_PIECES), max_size=4).map("".join), st.text(max_size=40)),
                    max_size=12), st.sampled_from(["auto", "plain", "docker", "compose", "kubectl", "json-log",
                                                   "docker-json", "text"]))
    def test_every_line_reader_takes_anything_without_raising(tmp_path, lines, fmt):
        data = "\n".join(lines).encode("utf-8", "surrogatepass")
        p = tmp_path / "fuzz.log"
        p.write_bytes(data or b"x")
        try:
            src = open_input(str(p), fmt)
        except InputError:
            return  # refused up front with a message (not a log)
        got = list(src)
        assert all(isinstance(e.ts_us, int) and isinstance(e.message, (str, bytes)) for e in got)
        assert all(isinstance(k, str) and k for k in src.skipped)
