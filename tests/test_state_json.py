"""The correlator's state as JSON (correlate/codec.py): what the service's checkpoint carries across restarts
and upgrades. Exact: resuming from the state saved after ANY entry gives the points of one uninterrupted run,
and a state saved, loaded and saved again is the same JSON."""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path

import pytest

from ollama_ingest.correlate import codec, inventory
from ollama_ingest.correlate.timeline import Timeline
from ollama_ingest.pipeline import Pipeline
from ollama_ingest.sources import open_input

from .helpers import ListSink

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
INPUTS = sorted([*(FIXTURES / "scenarios").glob("*.export"), *FIXTURES.glob("era-*.export")])


@cache
def _infos(models: Path) -> list:
    return inventory.from_manifests(models)


def names_for(path: Path):
    """A new ModelNames every time: the correlator learns names into it."""
    models = FIXTURES / "scenarios" / "models" if path.parent.name == "scenarios" else FIXTURES / "models"
    return inventory.names_from(_infos(models))


def points_of(pts) -> list[tuple]:
    return [(p.measurement, sorted(p.tags.items()), sorted(p.fields.items()), p.time_ns) for p in pts]


def run(path: Path, resume_every: int = 0) -> tuple[list, int]:
    """The pipeline over one input; with ``resume_every`` n, the correlator is saved to JSON and a new one
    loaded from it after every n-th entry (as a service resumed there would), and every saved state must
    load and save again to the same JSON. Returns (the points, how many times it resumed)."""
    sink = ListSink()
    p = Pipeline(Timeline(names_for(path)), sink, writer=None)
    resumed = 0
    for i, e in enumerate(open_input(str(path)), 1):
        p.feed((e,))
        if resume_every and i % resume_every == 0:
            saved = json.dumps(codec.to_json(p.timeline))
            p.timeline = codec.from_json(json.loads(saved))
            assert json.dumps(codec.to_json(p.timeline)) == saved
            resumed += 1
    p.finish()
    return sink.points, resumed


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_resuming_after_any_entry_gives_the_points_of_one_uninterrupted_run(path):
    """Saving and loading after EVERY entry of the story: if the JSON missed anything the correlator still
    needs at any point, the points (every tie-break, every late revision) would differ somewhere."""
    whole, _ = run(path)
    resumed, n = run(path, resume_every=1)
    assert n > 200 and len(whole) > 30
    assert points_of(resumed) == points_of(whole)


def test_references_stay_references():
    """A session held by a request and loaded at once is one object after loading, not two copies."""
    path = FIXTURES / "scenarios" / "debug-unload.export"
    p = Pipeline(Timeline(names_for(path)), ListSink(), writer=None)
    found = 0
    for e in open_input(str(path)):
        p.feed((e,))
        tl = codec.from_json(json.loads(json.dumps(codec.to_json(p.timeline))))
        for st in tl.hosts.values():
            assert all(st.names is tl.names for st in tl.hosts.values())
            for h in st.held:
                if h.session is not None and any(h.session == s for s in st.loaded):
                    assert any(h.session is s for s in st.loaded)
                    found += 1
    assert found > 0


def test_a_state_of_another_shape_is_refused_with_what_differs():
    path = FIXTURES / "scenarios" / "debug-unload.export"
    p = Pipeline(Timeline(names_for(path)), ListSink(), writer=None)
    p.feed(open_input(str(path)))
    doc = codec.to_json(p.timeline)
    host = next(iter(doc["hosts"].values()))
    assert host["sessions"]
    bad = json.loads(json.dumps(doc))
    next(iter(bad["hosts"].values()))["sessions"][0]["colour"] = "red"
    with pytest.raises(codec.StateFormatError, match=r"Session: fields missing \[\], unknown \['colour'\]"):
        codec.from_json(bad)
    bad = json.loads(json.dumps(doc))
    del next(iter(bad["hosts"].values()))["sessions"][0]["label"]
    with pytest.raises(codec.StateFormatError, match=r"missing \['label'\]"):
        codec.from_json(bad)
    bad = json.loads(json.dumps(doc))
    next(iter(bad["hosts"].values()))["loaded"] = [999]
    with pytest.raises(codec.StateFormatError, match="no session 999"):
        codec.from_json(bad)
    for junk in ([], {"names": {}}, {"names": [], "hosts": {}, "recent": {"keys": [], "times": []}}):
        with pytest.raises(codec.StateFormatError):
            codec.from_json(junk)


def test_recent_identities_keep_their_order_and_write_each_tag_set_once():
    rng = random.Random(1)
    tl = Timeline()
    for _ in range(500):
        tags = (("host", "h"), ("kind", rng.choice("abc")))
        tl.schema.recent[("ollama_event", tags, rng.randrange(10**18))] = None
    doc = codec.to_json(tl)
    assert len(doc["recent"]["keys"]) == 3 and len(doc["recent"]["times"]) == 500
    again = codec.from_json(json.loads(json.dumps(doc)))
    assert list(again.schema.recent) == list(tl.schema.recent)
