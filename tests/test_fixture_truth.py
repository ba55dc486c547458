"""The era fixtures through the whole pipeline, checked against their ground truth (fixtures/expected/*.json).

Every [GIN] line gives exactly one ollama_request point at its start (journal µs*1000 - latency ns) with the
right status/method/client; every load that finished gives an ollama_load point at its start line with
load_s, ctx_size (--ctx-size/-c/KvSize), ctx (num_ctx) and parallel; every unload the log can show
(``observable``) matches the session the pipeline wrote (end to the ms field, reason; open when still
loaded). Unloads the log cannot show are compared and reported, never asserted.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from ollama_ingest.correlate import inventory
from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.pipeline import Pipeline
from ollama_ingest.sources import open_input

from .helpers import ListSink

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
MODELS = FIXTURES / "models"
ERAS = ["era-c", "era-e", "era-f", "era-g"]


def expected(stem: str) -> dict:
    return json.loads((FIXTURES / "expected" / f"{stem}.json").read_text(encoding="utf-8"))


@cache
def output(stem: str):
    """(every point written, the last write of each identity: what InfluxDB keeps)."""
    names = inventory.names_from(inventory.from_manifests(MODELS))
    sink = ListSink()
    Pipeline(Timeline(names), sink).run([open_input(str(FIXTURES / f"{stem}.export"))])
    last = {}
    for p in sink.points:
        last[p.identity] = p
    return sink.points, list(last.values())


def stored(stem: str, measurement: str) -> list:
    return [p for p in output(stem)[1] if p.measurement == measurement]


# Where the correlator disagrees with an observable unload (docs/design.md §4 / fixtures/README.md, "How each runner
# ended"). Each stays a strict xfail until the correlator is fixed (or the truth is shown wrong).
KNOWN: dict = {}


@pytest.mark.parametrize("stem", ERAS)
def test_every_gin_line_is_one_request_point_at_its_start(stem):
    exp = expected(stem)
    reqs = [p for p in output(stem)[0] if p.measurement == "ollama_request"]
    assert len(reqs) == len(exp["gin"])
    by_time: dict[int, list] = {}
    for p in reqs:
        by_time.setdefault(p.time_ns, []).append(p)
    for g in exp["gin"]:
        got = by_time.get(g["start_ns"], [])
        assert len(got) == 1, (g["us"], g["path"], len(got))
        p = got[0]
        assert (p.tags["status"], p.tags["method"], p.fields["client"]) == (str(g["status"]), g["method"], g["client"])
        assert p.fields["status_code"] == g["status"]
        assert p.fields["end"] == g["us"] // 1000


def _load_cases():
    for stem in ERAS:
        for ld in expected(stem)["loads"]:
            if ld["ok"]:
                yield pytest.param(stem, ld["id"], id=f"{stem}-{ld['id']}-{ld['model']}")


@pytest.mark.parametrize("stem,load_id", list(_load_cases()))
def test_every_ok_load_is_one_load_point(stem, load_id):
    ld = next(x for x in expected(stem)["loads"] if x["id"] == load_id)
    got = [p for p in stored(stem, "ollama_load") if p.time_ns == ld["start_us"] * 1000]
    assert len(got) == 1, ld["model"]
    f = got[0].fields
    assert (f["load_s"], f["ctx_size"], f["ctx"], f["parallel"]) == (ld["load_s"], ld["ctx"], ld["num_ctx"],
                                                                      ld["parallel"])
    assert f["blob"] == ld["blob"]
    assert f["end"] == ld["ready_us"] // 1000
    assert got[0].tags["model"] in ld["names"]


def _session(stem, start_us):
    got = [p for p in stored(stem, "ollama_session") if p.time_ns == start_us * 1000]
    assert len(got) == 1, start_us
    return got[0]


def _as_written(p) -> dict:
    f = p.fields
    if f.get("open"):
        return {"open": True}
    return {"open": False, "end_ms": f["end"], "reason": f.get("unload_reason")}


def _as_truth(u) -> dict:
    if u.get("open"):
        return {"open": True}
    return {"open": False, "end_ms": u["at_us"] // 1000, "reason": u["reason"]}


def _unload_cases(observable: bool):
    for stem in ERAS:
        for ld in expected(stem)["loads"]:
            if ld["unload"]["observable"] != observable:
                continue
            marks = ()
            if (stem, ld["id"]) in KNOWN:
                marks = (pytest.mark.xfail(strict=True, reason=KNOWN[stem, ld["id"]]),)
            yield pytest.param(stem, ld["id"], id=f"{stem}-{ld['id']}-{ld['model']}", marks=marks)


@pytest.mark.parametrize("stem,load_id", list(_unload_cases(True)))
def test_every_observable_unload_matches(stem, load_id):
    ld = next(x for x in expected(stem)["loads"] if x["id"] == load_id)
    assert _as_written(_session(stem, ld["start_us"])) == _as_truth(ld["unload"])


def test_unobservable_unloads_are_reported(capsys):
    """Not asserted: the log cannot show these. Differences are counted and printed (with whether the pipeline
    wrote what the log alone implies)."""
    seen, differ = 0, []
    for stem in ERAS:
        for ld in expected(stem)["loads"]:
            u = ld["unload"]
            if u["observable"]:
                continue
            seen += 1
            assert u.get("why"), (stem, ld["id"])
            got, want = _as_written(_session(stem, ld["start_us"])), _as_truth(u)
            if got != want:
                implied = u.get("log_implies")
                agrees = bool(implied) and got == {"open": False, "end_ms": implied["at_us"] // 1000,
                                                   "reason": implied["reason"]}
                differ.append(f"  {stem} load {ld['id']} {ld['model']}: wrote {got}, story {want}"
                              f"{' (= what the log implies)' if agrees else ''}; why: {u['why']}")
    with capsys.disabled():
        print(f"\nera unloads the log cannot show: {seen}, written differently from the story: {len(differ)}")
        for line in differ:
            print(line)
