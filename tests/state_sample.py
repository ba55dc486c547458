"""A correlator state that holds every kind of record the state has, for the committed checkpoint samples
(tests/data/checkpoint-v*.json) and the upgrade tests: six stories of the fixtures, each on its own host, each
fed up to the first entry after which its host holds the record named, into one correlator.

    python -m tests.state_sample            # writes tests/data/checkpoint-v<N>.json and state-shape-v<N>.json
    python -m tests.state_sample --replace  # rewrite them: only while state version N is unreleased

A sample of a released state version is never rewritten: it is what installed services have on disk.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from ollama_ingest.correlate import inventory
from ollama_ingest.correlate.state import HostState
from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.entry import Entry
from ollama_ingest.pipeline import Pipeline
from ollama_ingest.sources import open_input

from .helpers import ListSink

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DATA = Path(__file__).resolve().parent / "data"
CURSOR = "s=0123456789abcdef0123456789abcdef;i=4d2;b=fedcba9876543210fedcba9876543210;m=1;t=63c1b2a3f4e5d;x=1"

# (input, what its host must hold at the cut)
CUTS: list[tuple[str, str, Callable[[HostState], bool]]] = [
    ("era-c.export", "a held request naming its session", lambda st: any(h.session for h in st.held)),
    ("era-e.export", "sessions ended by a service stop", lambda st: bool(st.stopped)),
    ("era-f.export", "a held truncation warning", lambda st: bool(st.held_warnings)),
    ("era-g.export", "an OOM hint", lambda st: st.oom is not None),
    ("scenarios/debug-unload.export", "a pending unload reason", lambda st: bool(st.pending_reason)),
    ("scenarios/two-evictions.export", "an eviction waiting for its victim", lambda st: bool(st.evictions)),
]


def names():
    """The model names of the fixtures' manifests (the scenarios have their own)."""
    n = inventory.names_from(inventory.from_manifests(FIXTURES / "models"))
    for b, ns in inventory.names_from(inventory.from_manifests(FIXTURES / "scenarios" / "models")).by_blob.items():
        n.by_blob.setdefault(b, ns)
    return n


def build() -> tuple[Pipeline, ListSink, list[list[Entry]]]:
    """The pipeline fed every story up to its cut; its sink; per story, the entries after the cut."""
    sink = ListSink()
    p = Pipeline(Timeline(names()), sink, writer=None)
    rests = []
    for rel, what, holds in CUTS:
        entries = list(open_input(str(FIXTURES / rel)))
        for i, e in enumerate(entries):
            p.feed((e,))
            if holds(p.timeline.hosts[e.host]):
                rests.append(entries[i + 1:])
                break
        else:
            raise AssertionError(f"{rel} never holds {what}")
    return p, sink, rests


def sample_checkpoint():
    """The checkpoint of the sample state, as the service saves it."""
    from ollama_ingest import checkpoint
    from ollama_ingest.correlate import codec

    p, _sink, _rests = build()
    return checkpoint.Checkpoint(
        cursor=CURSOR, seq=p.stats.entries, correlator=codec.to_json(p.timeline), saved_at=1_761_000_000.0,
        counters={"entries": p.stats.entries, "events": p.stats.events, "points_written": p.points},
        open_sessions=p.timeline.open_session_records())


def shape() -> dict[str, list[str]]:
    """The checkpoint's shape: its keys, the open-session record's, every record of the correlator's state."""
    from dataclasses import fields

    from ollama_ingest import checkpoint
    from ollama_ingest.correlate import codec
    from ollama_ingest.correlate.contract import OpenSession

    return {"checkpoint": list(checkpoint.document(checkpoint.Checkpoint("c"))),
            "OpenSession": [f.name for f in fields(OpenSession)], **codec.state_shape()}


def main(argv: list[str]) -> int:
    import json

    from ollama_ingest import checkpoint

    v = checkpoint.STATE_VERSION
    path, shape_path = DATA / f"checkpoint-v{v}.json", DATA / f"state-shape-v{v}.json"
    if (path.exists() or shape_path.exists()) and "--replace" not in argv:
        print(f"{path.name} exists (a released state version's sample is never rewritten)", file=sys.stderr)
        return 1
    DATA.mkdir(exist_ok=True)
    checkpoint.save(DATA, sample_checkpoint(), name=path.name)
    shape_path.write_text(json.dumps(shape(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size} bytes) and {shape_path.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
