"""Re-running a backfill never duplicates (issue 12.1), against the real InfluxDB 1.6 behind the v2 shim.

A backfill owns the window it covers, per host: any sequence of backfills leaves exactly what a single
backfill of the last input writes (compared row by row), whatever form the earlier runs read the same history
from, and whether they knew the model names or not. Other hosts, other windows and the measurements `run`
and `check` write (`ollama_model_inventory`, `ollama_ingest`) are left alone.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from .service_support import ROOT, run_cli

FIX = ROOT / "fixtures"
JOURNAL_MEASUREMENTS = ("ollama_request", "ollama_load", "ollama_session", "ollama_event", "ollama_vram")


def backfill(influx, db, *inputs: str, extra: tuple[str, ...] = ()) -> dict:
    r = run_cli(["backfill", *map(str, inputs), "--url", influx.v2_url, "--bucket", db, "--json",
                 "--models-dir", "/nonexistent", *extra], timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stderr.strip().splitlines()[-1])


def dump(influx, db, measurements=JOURNAL_MEASUREMENTS) -> list[tuple]:
    """Every stored point as (measurement, time, sorted columns): what a reader of the database sees."""
    rows = []
    for m in measurements:
        for row in influx.query(f'SELECT * FROM "{m}"', db=db):
            cols = tuple(sorted((k, v) for k, v in row.items() if k != "time" and v not in (None, "")))
            rows.append((m, row["time"], cols))
    return sorted(rows)


def count(influx, db, measurement: str) -> int:
    return len(influx.query(f'SELECT * FROM "{measurement}"', db=db))


MODELS = ("--models-dir", str(FIX / "models"))
SEQUENCES = {  # name: the runs in order; the database must end as a fresh backfill of the last one leaves it
    "export, then short-iso text": [(FIX / "era-e.export", ()), (FIX / "era-e.short-iso.txt", ())],
    "short-iso text, then export": [(FIX / "era-e.short-iso.txt", ()), (FIX / "era-e.export", ())],
    "short text, short-precise, export, json": [(FIX / "era-e.short.txt", ()), (FIX / "era-e.short-precise.txt", ()),
                                                (FIX / "era-e.export", ()), (FIX / "era-e.json", ())],
    "without names, then --models-dir": [(FIX / "era-e.export", ()), (FIX / "era-e.export", MODELS)],
    "with names, then without": [(FIX / "era-e.export", MODELS), (FIX / "era-e.export", ())],
    "the same input twice": [(FIX / "era-e.export", MODELS), (FIX / "era-e.export", MODELS)],
}


@pytest.mark.parametrize("name", SEQUENCES)
def test_any_sequence_of_backfills_leaves_what_the_last_one_says(influx, dbs, name):
    runs = SEQUENCES[name]
    fresh, seq = dbs("fresh"), dbs("seq")
    last_input, last_extra = runs[-1]
    backfill(influx, fresh, last_input, extra=last_extra)
    summaries = [backfill(influx, seq, inp, extra=extra) for inp, extra in runs]
    want, got = dump(influx, fresh), dump(influx, seq)
    assert len(got) == len(want), {m: (count(influx, seq, m), count(influx, fresh, m)) for m in JOURNAL_MEASUREMENTS}
    assert got == want
    assert count(influx, seq, "ollama_request") == 93 and count(influx, seq, "ollama_session") == 9
    assert set(summaries[-1]["replaced"]) == {"gpu-host-e"}


def test_models_named_later_replace_the_unnamed_series(influx, dbs):
    db = dbs("names")
    first = backfill(influx, db, FIX / "era-e.export")
    assert first["models"]["unnamed"] and not first["models"]["named"]
    labels = {r["model"] for r in influx.query('SELECT * FROM "ollama_session"', db=db)}
    assert all(m.startswith("sha256:") for m in labels)
    second = backfill(influx, db, FIX / "era-e.export", extra=MODELS)
    assert "gemma3:12b" in second["models"]["named"] and not second["models"]["unnamed"]
    for m in ("ollama_session", "ollama_request", "ollama_load", "ollama_event"):
        labels = {r.get("model") for r in influx.query(f'SELECT * FROM "{m}"', db=db)}
        assert not any(x and x.startswith("sha256:") for x in labels), (m, labels)


def test_a_rerun_of_part_of_the_window_keeps_the_rest_and_other_hosts_and_the_service_measurements(influx, dbs):
    db = dbs("part")
    backfill(influx, db, FIX / "era-e.export", FIX / "era-f.export", extra=MODELS)
    whole = dump(influx, db)
    hosts = {c[1] for _m, _t, cols in whole for c in cols if c[0] == "host"}
    assert hosts == {"gpu-host-e", "gpu-host-f"}
    # what `run` and `check` write for the same host and time: a backfill must not delete it
    t = sorted(t for m, t, _ in whole if m == "ollama_request")[10]
    body = (f"ollama_model_inventory,host=gpu-host-e,model_name=gemma3:12b sha256=\"x\",size_bytes=5i {t}\n"
            f"ollama_ingest,host=gpu-host-e check=true {t}").encode()
    urllib.request.urlopen(urllib.request.Request(f"{influx.url}/write?db={db}&precision=n", data=body, method="POST"))
    # the same history again, from the middle on, for one host: the same points, no copies
    later = backfill(influx, db, FIX / "era-e.export", extra=(*MODELS, "--since", "2025-07-23T00:00:00+00:00"))
    assert set(later["replaced"]) == {"gpu-host-e"}
    assert later["replaced"]["gpu-host-e"]["from"] >= "2025-07-23T00:00:00"
    assert dump(influx, db) == whole
    assert count(influx, db, "ollama_model_inventory") == 1 and count(influx, db, "ollama_ingest") == 1


def test_no_replace_appends_and_a_text_form_then_doubles(influx, dbs):
    """The control: without deleting, the same history from a coarser form lands next to the first copy."""
    db = dbs("append")
    backfill(influx, db, FIX / "era-e.export")
    s = backfill(influx, db, FIX / "era-e.short-iso.txt", extra=("--no-replace",))
    assert "replaced" not in s
    assert count(influx, db, "ollama_request") > 93


def _gin_lines(host: str, ends: list[tuple[int, str, str]], precise: bool) -> str:
    """journalctl -o short-iso[-precise] lines of [GIN] requests: (seconds after 10:00 +10:00, latency, path)."""
    out = []
    for sec, latency, path in ends:
        hh, mm, ss = 10 + sec // 3600, sec // 60 % 60, sec % 60
        frac = ".250000" if precise else ""
        out.append(f"2025-07-23T{hh:02d}:{mm:02d}:{ss:02d}{frac}+1000 {host} ollama[1617]: [GIN] 2025/07/23 - "
                   f'{hh:02d}:{mm:02d}:{ss:02d} | 200 | {latency:>13} |       127.0.0.1 | POST     "{path}"')
    return "\n".join(out) + "\n"


def test_a_long_request_before_the_window_does_not_delete_the_earlier_backfill(influx, dbs, tmp_path):
    """Day-by-day backfills: the first request of the second window started 15 minutes before it (a long
    chat). The second backfill must replace that request (from any form) and nothing else of the first."""
    db = dbs("days")
    first = tmp_path / "first.txt"
    first.write_text(_gin_lines("h", [(60 * i, "1.5s", "/api/generate") for i in range(1, 20)], precise=False))
    backfill(influx, db, first)
    before = dump(influx, db, ("ollama_request",))
    assert len(before) == 19
    second = [(20 * 60 + 10, "15m0s", "/api/chat"), (21 * 60, "2s", "/api/chat")]
    for precise in (False, True, False):  # the same second window from the coarse form, the fine one, again
        path = tmp_path / f"second-{precise}.txt"
        path.write_text(_gin_lines("h", second, precise=precise))
        backfill(influx, db, path)
    after = dump(influx, db, ("ollama_request",))
    assert [r for r in after if r in before] == before  # the first window is untouched
    assert len(after) == 19 + 2  # and the long request has no copy
