"""What a backfill did, for people (a short text on a terminal) and for programs (one JSON object, ``--json``,
or whenever stderr is not a terminal). The keys of the JSON form are explained in README.md.

The readers may add facts of their own (per input: the format detected, the host used, what was assumed, the
lines they did not recognise): whatever the pipeline's summary holds beyond the keys known here is shown too,
one line per key, so nothing a reader reports is lost.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import TextIO

# the parse counters, in the order a person reads them
PARSE_KEYS = ("entries", "parsed", "events", "noise", "ignored", "skipped", "skip_reasons", "unknown_msgs",
              "other_unit", "points")
OWN_KEYS = {"status", "why", "seconds", "hosts", "models", "points_by_measurement", "assumptions", "replaced",
            "written", "dropped", "write_errors", "output", "inputs"}


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def collect(pipeline, sources: list, *, sink, replacing=None, dry_run: bool = False, output: str | None = None,
            status: str = "complete", why: str = "", seconds: float = 0.0) -> dict:
    """The machine form: the pipeline's counters plus what this run covered and wrote."""
    d = pipeline.summary()
    if dry_run and not output:  # nothing was written anywhere: printing is not writing
        d.pop("written", None)
        d.pop("dropped", None)
    elif output:
        d.pop("dropped", None)
        d["output"] = output
    else:
        d["write_errors"] = dict(sink.write_errors)
    d["status"] = status
    if why:
        d["why"] = why
    d["seconds"] = round(seconds, 3)
    d["hosts"] = {h or "(none)": {"first": _iso(a), "last": _iso(b)} for h, (a, b) in sorted(pipeline.spans.items())}
    d["models"] = {"named": sorted(m for m in pipeline.models if not m.startswith("sha256:")),
                   "unnamed": sorted(m for m in pipeline.models if m.startswith("sha256:"))}
    d["points_by_measurement"] = dict(sorted(pipeline.by_measurement.items()))
    d["assumptions"] = [note for src in sources for note in src.assumptions]
    if replacing is not None:
        d["replaced"] = {h or "(none)": {"from": _iso(lo // 1000), "to": _iso(hi // 1000)}
                         for h, (lo, hi) in sorted(replacing.window().items())}
    return d


def report(d: dict, *, json_form: bool, target: str, out: TextIO | None = None) -> None:
    out = out if out is not None else sys.stderr
    if json_form:
        print(json.dumps(d, sort_keys=True), file=out)
    else:
        print(render(d, target), file=out)


def _n(v) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


def _time(iso: str) -> str:
    return iso[:19].replace("T", " ")


def render(d: dict, target: str) -> str:
    """A few lines a person reads in five seconds."""
    lines = []
    head = {"complete": "done", "interrupted": f"interrupted ({d.get('why', '')})", "stopped": "stopped",
            "failed": "failed"}.get(d.get("status", ""), d.get("status", ""))
    lines.append(f"backfill {head} in {d.get('seconds', 0):.1f} s")
    if d.get("status") in ("stopped", "failed") and d.get("why"):
        lines.append(f"  why       {d['why']}")
    hosts = d.get("hosts", {})
    if hosts:
        first = min(v["first"] for v in hosts.values())
        last = max(v["last"] for v in hosts.values())
        lines.append(f"  covered   {_time(first)} → {_time(last)} UTC")
        lines.append(f"  hosts     {', '.join(hosts)}")
    else:
        lines.append("  covered   nothing: no entries of the unit in the input")
    models = d.get("models", {})
    named, unnamed = models.get("named", []), models.get("unnamed", [])
    if named or unnamed:
        lines.append(f"  models    {', '.join(named) or '(none named)'}")
    if unnamed:
        lines.append(f"  unnamed   {', '.join(unnamed)}: give the models dir (--models-dir DIR) or an inventory "
                     "(--inventory FILE from `ollama-ingest inventory --json` on the Ollama host), and run again")
    lines.append(f"  read      {_n(d.get('entries', 0))} entries: {_n(d.get('parsed', 0))} gave "
                 f"{_n(d.get('events', 0))} events, {_n(d.get('noise', 0))} runner output, "
                 f"{_n(d.get('ignored', 0))} with nothing to draw"
                 + (f", {_n(d['other_unit'])} of other units" if d.get("other_unit") else ""))
    reasons = d.get("skip_reasons") or {}
    if d.get("skipped"):
        top = sorted(reasons.items(), key=lambda kv: -kv[1])
        lines.append(f"  skipped   {_n(d['skipped'])}: " + "; ".join(f"{n:,} {r}" for r, n in top[:6])
                     + (f"; … {len(top) - 6} more reasons (--json)" if len(top) > 6 else ""))
    by_m = d.get("points_by_measurement") or {}
    lines.append(f"  points    {_n(d.get('points', 0))}" + (": " + ", ".join(f"{m} {n:,}" for m, n in by_m.items())
                                                           if by_m else ""))
    if "written" in d:
        where = "lines in" if "output" in d else "written to"
        lines.append(f"  written   {_n(d['written'])} {where} {target}"
                     + (f", {_n(d['dropped'])} refused by the database" if d.get("dropped") else ""))
    else:
        lines.append(f"  written   nothing (--dry-run: printed to {target})")
    for host, w in (d.get("replaced") or {}).items():
        lines.append(f"  replaced  {host}: what earlier backfills wrote from {_time(w['from'])} to "
                     f"{_time(w['to'])} UTC")
    for rep in d.get("inputs", []):  # one line per input: what it was read as (sources/report.py)
        lines.append(f"  input     {rep['input']}: {rep['format']}, {_n(rep['entries'])} entries, "
                     f"{_n(rep['ollama_lines'])} of them Ollama's" + (f", {_n(rep['skipped'])} not read"
                                                                      if rep.get("skipped") else ""))
    for note in d.get("assumptions", []):
        lines.append(f"  assumed   {note}")
    for key in sorted(set(d) - set(PARSE_KEYS) - OWN_KEYS):  # facts the readers added
        lines.append(f"  {key:<9} {_generic(d[key])}")
    if d.get("status") in ("interrupted", "stopped"):
        lines.append("  resume    run the same command again: a backfill replaces the window it covers, so "
                     "nothing is doubled")
    return "\n".join(lines)


def _generic(v) -> str:
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_generic(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(_generic(x) for x in v)
    return _n(v)
