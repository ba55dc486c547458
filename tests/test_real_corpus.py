"""The real-log corpus (tests/real/): verbatim Ollama logs that people pasted into public issue threads.

Each excerpt is run through the CLI exactly as a user runs it: `ollama-ingest backfill FILE --dry-run`, no format
flag (auto-detection), no config, no reachable Ollama. The printed line protocol is read back with a small parser of
our own (not the package's) and compared with the hand-checked `<NNN>-<slug>.expected.json` (schema:
tests/real/README.md). Nothing here is derived from ollama_ingest: the corpus is the final word on formats.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

REAL = Path(__file__).parent / "real"
INDEX = json.loads((REAL / "index.json").read_text(encoding="utf-8"))
CLI = Path(sys.executable).parent / "ollama-ingest"
FORMS = {"journalctl-short", "short-iso", "short-precise", "json", "plain-stderr-linux", "plain-stderr-windows",
         "plain-stderr-macos", "server-log-windows", "server-log-macos", "docker", "docker-t", "compose", "kubectl",
         "docker-json-file", "other"}
JOURNAL_FORMS = {"journalctl-short", "short-iso", "short-precise"}
# ollama_event kinds that stand for a WARN/ERROR (or eviction) line of Ollama's; counted exactly per excerpt.
ASSERTED_KINDS = {"vram_timeout", "prompt_truncated", "client_aborted", "model_too_large", "runner_terminated",
                  "load_failed", "runner_not_running", "runtime_oom", "eviction"}
SECOND = 10**9
HALF_DAY_AND_MORE = 14 * 3600 * SECOND  # the widest UTC offset: a date read in an unknown zone is this close


def expected(entry: dict) -> dict:
    return json.loads((REAL / (entry["file"][:-4] + ".expected.json")).read_text(encoding="utf-8"))


def _ids(entries: list[dict]) -> list[str]:
    return [e["file"][:-4] for e in entries]


# ---------------------------------------------------------------- line protocol, read independently


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split on `sep` outside double quotes, honouring backslash escapes."""
    out, cur, quoted, i = [], [], False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def _split_key_value(kv: str) -> tuple[str, str]:
    """`k=v` at the first `=` that no backslash escapes (keys never hold quotes)."""
    i = 0
    while i < len(kv):
        if kv[i] == "\\":
            i += 2
            continue
        if kv[i] == "=":
            return kv[:i], kv[i + 1:]
        i += 1
    raise ValueError(f"no '=' in {kv!r}")


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _field_value(raw: str):
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return _unescape(raw[1:-1])
    if raw in ("t", "T", "true", "True", "TRUE"):
        return True
    if raw in ("f", "F", "false", "False", "FALSE"):
        return False
    if raw.endswith("i") or raw.endswith("u"):
        return int(raw[:-1])
    return float(raw)


def parse_line_protocol(line: str) -> dict:
    """`meas,k=v,… f=v,… ts` → {"m", "tags", "fields", "ts"}; raises ValueError on anything else."""
    parts = _split_unescaped(line, " ")
    if len(parts) != 3:
        raise ValueError(f"not line protocol: {line!r}")
    head, fields_raw, ts = parts
    key_parts = _split_unescaped(head, ",")
    tags = {}
    for kv in key_parts[1:]:
        k, v = _split_key_value(kv)
        tags[_unescape(k)] = _unescape(v)
    fields = {}
    for kv in _split_unescaped(fields_raw, ","):
        k, v = _split_key_value(kv)
        fields[_unescape(k)] = _field_value(v)
    return {"m": _unescape(key_parts[0]), "tags": tags, "fields": fields, "ts": int(ts)}


def test_line_protocol_reader_reads_escapes():
    p = parse_line_protocol(r'ollama_load,host=a\ b,series=m\ (ctx:\ 2048) load_s=2.26,blob="x\"y",n=3i,open=true 17')
    assert p == {"m": "ollama_load", "tags": {"host": "a b", "series": "m (ctx: 2048)"},
                 "fields": {"load_s": 2.26, "blob": 'x"y', "n": 3, "open": True}, "ts": 17}


# ---------------------------------------------------------------- running the CLI as a user does


@pytest.fixture(scope="module")
def cli_env() -> dict:
    with socket.socket() as s:  # a loopback port nobody listens on: model-name look-ups must fail fast
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLAMA")}
    env.update(OLLAMA_INGEST_CONFIG="/dev/null", OLLAMA_HOST=f"127.0.0.1:{port}")
    return env


def run_backfill(path: Path, env: dict) -> tuple[int, list[dict], str]:
    proc = subprocess.run([str(CLI), "backfill", str(path), "--dry-run"], env=env, capture_output=True,
                          timeout=300, cwd=path.parent)
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace")
    points = []
    for line in stdout.splitlines():
        if line.strip():
            try:
                points.append(parse_line_protocol(line))
            except ValueError:
                pass  # a summary or message on stdout is not a point
    return proc.returncode, points, stderr


def _path_ok(point: dict, path: str) -> bool:
    endpoint = point["tags"].get("endpoint")
    bare = path.split("?", 1)[0]
    if endpoint == "other":
        return point["fields"].get("path") == path
    return endpoint is not None and (endpoint == bare or bare.startswith(endpoint.rstrip("/") + "/"))


def _same_request(point: dict, req: dict) -> bool:
    f, t = point["fields"], point["tags"]
    latency_ms = f.get("latency_ms")
    return (isinstance(latency_ms, (int, float)) and round(latency_ms * 1e6) == req["latency_ns"]
            and f.get("status_code") == req["status"] and t.get("method") == req["method"]
            and (req["cut"] or _path_ok(point, req["path"])))


def _end_ns(point: dict, req: dict) -> int:
    return point["ts"] + req["latency_ns"]


def _naive_utc_ns(end_local: str) -> int:
    dt = datetime.strptime(end_local, "%Y/%m/%d - %H:%M:%S").replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * SECOND


def summary_of(stderr: str) -> dict | None:
    """The JSON summary `backfill` prints on stderr (README: entries, events, skipped, …)."""
    for line in reversed(stderr.splitlines()):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and "entries" in found:
            return found
    return None


def check_entries(stderr: str, exp: dict) -> list[str]:
    """One entry per line: at least the lines that plainly carry an Ollama/systemd message were read."""
    summary = summary_of(stderr)
    if summary is None:
        return ["no JSON summary with `entries` on stderr"]
    if not isinstance(summary["entries"], int) or summary["entries"] < exp["min_entries"]:
        return [f"{summary['entries']} entries read, at least {exp['min_entries']} lines are Ollama's"]
    return []


def check_requests(points: list[dict], exp: dict) -> list[str]:
    problems = []
    written = [p for p in points if p["m"] == "ollama_request"]
    unused = list(range(len(written)))
    required = [r for r in exp["requests"] if not r["cut"]]
    matched = []
    for req in exp["requests"]:
        hit = next((i for i in unused if _same_request(written[i], req)), None)
        if hit is None:
            if not req["cut"]:
                problems.append(f"line {req['line']}: request {req['method']} {req['path']} {req['status']} "
                                f"{req['latency']} not written")
            continue
        unused.remove(hit)
        matched.append((req, written[hit]))
    found = sum(1 for r, _ in matched if not r["cut"])
    if found < len(required):
        problems.insert(0, f"requests: {found} of {len(required)} written as expected")
    if unused:
        problems.append(f"{len(unused)} request point(s) that match no [GIN] line: "
                        + "; ".join(str(written[i]["fields"]) for i in unused[:3]))
    for req, point in matched:
        if point["fields"].get("client") != req["client"]:
            problems.append(f"line {req['line']}: client {point['fields'].get('client')!r} != {req['client']!r}")
        end = _end_ns(point, req)
        if req["end_utc_ns"] is not None:
            if not req["end_utc_ns"] <= end <= req["end_utc_ns"] + SECOND:
                problems.append(f"line {req['line']}: request end {end} ns is not {req['end_local']} in UTC "
                                f"({req['end_utc_ns']} ns)")
        elif exp["time"].get("year") is not None:
            if abs(end - _naive_utc_ns(req["end_local"])) > HALF_DAY_AND_MORE + SECOND:
                problems.append(f"line {req['line']}: request end {end} ns is not on the date {req['end_local']}")
    ends = [_end_ns(p, r) for r, p in matched]
    if any(b < a - SECOND for a, b in zip(ends, ends[1:], strict=False)):
        problems.append("request ends are not in the order of the log")
    return problems


def check_loads(points: list[dict], exp: dict) -> list[str]:
    problems = []
    loads = [p for p in points if p["m"] == "ollama_load"]
    finished = [ld for ld in exp["loads"] if ld["load_s"] is not None]
    for ld in finished:
        ok = [p for p in loads if isinstance(p["fields"].get("load_s"), (int, float))
              and abs(p["fields"]["load_s"] - ld["load_s"]) < 1e-9
              and (ld["blob"] is None or p["fields"].get("blob") == ld["blob"])]
        if not ok:
            problems.append(f"line {ld['line']}: load of {ld['blob'] or 'unknown blob'} with load_s={ld['load_s']} "
                            "not written")
    if len(loads) != len(finished):
        problems.append(f"{len(loads)} ollama_load point(s), expected {len(finished)}")
    for ld in exp["loads"]:
        if ld["load_s"] is None and ld["blob"]:
            carriers = [p for p in points if p["m"] in ("ollama_session", "ollama_load")
                        and p["fields"].get("blob") == ld["blob"]]
            if not carriers:
                problems.append(f"line {ld['line']}: unfinished load of {ld['blob'][:12]} not written as an open "
                                "load/session with its blob")
    return problems


def check_events(points: list[dict], exp: dict) -> list[str]:
    problems = []
    events = [p for p in points if p["m"] == "ollama_event"]
    for kind in sorted(ASSERTED_KINDS):
        want = sum(1 for e in exp["events"] if e["kind"] == kind)
        got = sum(1 for p in events if p["tags"].get("kind") == kind)
        if want != got:
            problems.append(f"events of kind {kind}: {got}, expected {want}")
    starts = [p for p in events if p["tags"].get("kind") == "server_start"]
    want_versions = sorted(s["version"] or "" for s in exp["server_starts"])
    got_versions = sorted(str(p["fields"].get("version") or "") for p in starts)
    if want_versions != got_versions:
        problems.append(f"server starts (versions) {got_versions}, expected {want_versions}")
    for kind in sorted({e["kind"] for e in exp["service_events"]} | {p["tags"].get("kind", "") for p in events}):
        if kind.startswith("service_"):
            want = sum(1 for e in exp["service_events"] if e["kind"] == kind)
            got = sum(1 for p in events if p["tags"].get("kind") == kind)
            if want != got:
                problems.append(f"systemd events of kind {kind}: {got}, expected {want}")
    for e in exp["service_events"]:
        if e["utc_ns"] is not None and not any(
                p["tags"].get("kind") == e["kind"] and e["utc_ns"] <= p["ts"] < e["utc_ns"] + SECOND for p in events):
            problems.append(f"line {e['line']}: no {e['kind']} event at {e['utc_ns']} ns (the journal time in UTC)")
    return problems + check_server_configs(events, exp)


def check_vram(points: list[dict], exp: dict) -> list[str]:
    vram = [p for p in points if p["m"] == "ollama_vram"]
    return [f"line {v['line']}: no ollama_vram point for gpu {v['gpu']} from {v['source']}" for v in exp["vram"]
            if not any(p["tags"].get("gpu") == v["gpu"] and p["fields"].get("source") == v["source"] for p in vram)]


def check_server_configs(events: list[dict], exp: dict) -> list[str]:
    """One event per whole `server config` line; a hard-wrapped one may be a counted skip, never an empty event."""
    problems = []
    configs = [p for p in events if p["tags"].get("kind") == "server_config"]
    whole = [c for c in exp["server_configs"] if not c["wrapped"]]
    wrapped = len(exp["server_configs"]) - len(whole)
    if not len(whole) <= len(configs) <= len(whole) + wrapped:
        problems.append(f"{len(configs)} server_config event(s), expected {len(whole)}"
                        + (f" (+{wrapped} hard-wrapped)" if wrapped else ""))
    for p in configs:
        if not set(p["fields"]) - {"message"}:
            problems.append("a server_config event with no fields")
    for c in whole:
        if c["keep_alive_s"] is not None and not any(p["fields"].get("keep_alive_s") == c["keep_alive_s"]
                                                     for p in configs):
            problems.append(f"line {c['line']}: server config keep_alive_s={c['keep_alive_s']} not written")
    return problems


@pytest.mark.parametrize("entry", INDEX, ids=_ids(INDEX))
def test_excerpt_gives_the_hand_checked_outcome(entry, cli_env):
    exp = expected(entry)
    rc, points, stderr = run_backfill(REAL / entry["file"], cli_env)
    if exp.get("expect") == "no_ollama_entries":  # never a silent zero (issue 10 point 7)
        assert rc != 0 and stderr.strip() and "Traceback" not in stderr and not points, (rc, stderr[-600:])
        return
    problems = []
    if rc != 0:
        problems.append(f"exit status {rc}")
    if "Traceback" in stderr:
        problems.append("traceback on stderr")
    problems += check_requests(points, exp) + check_loads(points, exp) + check_events(points, exp)
    problems += check_vram(points, exp) + check_entries(stderr, exp)
    assert not problems, f"{entry['file']} ({entry['form']}, {entry['source']}):\n  " + "\n  ".join(problems) \
        + "\n  stderr: " + stderr.strip()[-600:]


WITH_REQUESTS = [e for e in INDEX if expected(e)["requests"]]


@pytest.mark.parametrize("entry", WITH_REQUESTS, ids=_ids(WITH_REQUESTS))
def test_first_gin_line_alone_is_one_request(entry, cli_env, tmp_path):
    req = expected(entry)["requests"][0]
    lines = (REAL / entry["file"]).read_bytes().split(b"\n")
    one = tmp_path / "one.log"
    one.write_bytes(lines[req["line"] - 1] + b"\n")
    rc, points, stderr = run_backfill(one, cli_env)
    assert rc == 0 and "Traceback" not in stderr, stderr[-600:]
    written = [p for p in points if p["m"] == "ollama_request"]
    if req["cut"]:  # a line cut by the pager may be a counted skip; if written, it must be right
        assert len(written) <= 1 and all(_same_request(p, req) for p in written), written
        return
    assert len(written) == 1, f"{len(written)} requests from one [GIN] line; stderr: {stderr[-600:]}"
    assert _same_request(written[0], req) and written[0]["fields"].get("client") == req["client"], written[0]


JOURNAL = [e for e in INDEX if e["form"] in JOURNAL_FORMS]


@pytest.mark.parametrize("entry", JOURNAL, ids=_ids(JOURNAL))
def test_first_journal_line_alone(entry, cli_env, tmp_path):
    exp = expected(entry)
    first = (REAL / entry["file"]).read_bytes().split(b"\n")[0]
    one = tmp_path / "one.log"
    one.write_bytes(first + b"\n")
    rc, points, stderr = run_backfill(one, cli_env)
    assert "Traceback" not in stderr, stderr[-600:]
    written = [p for p in points if p["m"] == "ollama_request"]
    gin_first = [r for r in exp["requests"] if r["line"] == 1 and not r["cut"]]
    assert len(written) == len(gin_first), f"{len(written)} requests; stderr: {stderr[-600:]}"
    if gin_first:
        assert rc == 0 and _same_request(written[0], gin_first[0]), (rc, written)


def test_index_lists_every_excerpt_once():
    logs = sorted(p.name for p in REAL.glob("*.log"))
    assert sorted(e["file"] for e in INDEX) == logs
    assert len({e["id"] for e in INDEX}) == len(INDEX)
    for e in INDEX:
        assert e["file"].startswith(e["id"] + "-"), e
        assert e["form"] in FORMS, e
        assert e["source"].startswith("https://"), e
        assert (REAL / (e["file"][:-4] + ".expected.json")).is_file(), e
        assert expected(e)["id"] == e["id"]
