"""The checkpoint across versions (checkpoint.py, checkpoint_migrations.py): a newer ollama-ingest reads what an
older one saved, so an upgrade keeps the correlator's state; 0.1.0's file (JSON header + pickle) gives its
cursor, counters and open sessions and its pickle is never loaded; a state of a shape that changed without a
new state version, a migration and a sample fails here.

The samples in tests/data are what each state version's service saves for one state that holds every kind of
record (tests/state_sample.py): checkpoint-v1.legacy was saved by 0.1.0's own code, checkpoint-v2.json and
state-shape-v2.json by ``python -m tests.state_sample``."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest

from ollama_ingest import __version__, checkpoint, statedir
from ollama_ingest import checkpoint_migrations as migrations
from ollama_ingest.correlate import codec
from ollama_ingest.pipeline import Pipeline

from .helpers import ListSink
from .state_sample import CURSOR, DATA, build, shape

V = checkpoint.STATE_VERSION


def sample(v: int) -> Path:
    return DATA / (f"checkpoint-v{v}.legacy" if v == 1 else f"checkpoint-v{v}.json")


def test_the_state_has_the_shape_of_its_version():
    committed = json.loads((DATA / f"state-shape-v{V}.json").read_text(encoding="utf-8"))
    assert shape() == committed, (
        "the checkpoint's shape changed: raise STATE_VERSION (checkpoint_migrations.py), add the migration from "
        f"version {V}, and commit the new version's sample (python -m tests.state_sample)")


def test_every_older_version_has_a_migration_and_every_version_a_sample():
    assert sorted(migrations.MIGRATIONS) == list(range(1, V))
    for v in range(1, V + 1):
        assert sample(v).exists(), f"no sample of state version {v}"


@pytest.mark.parametrize("v", range(1, V + 1))
def test_every_version_loads_with_its_cursor_counters_and_open_sessions(tmp_path, v):
    shutil.copy(sample(v), tmp_path / "checkpoint")
    cp = checkpoint.load(tmp_path)
    assert (cp.cursor, cp.seq, cp.state_version) == (CURSOR, 2255, v)
    assert cp.counters["entries"] == 2255 and cp.counters["points_written"] == 287
    assert len(cp.open_sessions) == 11 and len({s.host for s in cp.open_sessions}) == 5
    if v == 1:
        assert cp.correlator is None and "pickle" in cp.state_error
    else:
        tl = codec.from_json(cp.correlator)
        assert [(s.host, s.start_ns, s.series) for s in tl.open_session_records()] == \
            [(s.host, s.start_ns, s.series) for s in cp.open_sessions]


def test_the_current_sample_is_what_this_version_saves_and_a_fixed_point(tmp_path):
    """save → load → save gives the same bytes; and the committed sample is what this code saves for the
    sample state (when the rules change what the state holds, not its shape, the sample is rewritten with
    ``python -m tests.state_sample --replace``)."""
    data = sample(V).read_bytes()
    shutil.copy(sample(V), tmp_path / "checkpoint")
    cp = checkpoint.load(tmp_path)
    cp.correlator = codec.to_json(codec.from_json(cp.correlator))
    assert checkpoint.encode(cp) == data
    checkpoint.save(tmp_path, cp)
    assert (tmp_path / "checkpoint").read_bytes() == data
    from .state_sample import sample_checkpoint

    assert checkpoint.encode(sample_checkpoint()) == data


def test_resuming_from_the_current_sample_gives_the_points_of_one_uninterrupted_run(tmp_path):
    p, sink, rests = build()
    before = len(sink.points)
    for rest in rests:
        p.feed(rest)
    p.finish()
    whole = sink.points[before:]
    shutil.copy(sample(V), tmp_path / "checkpoint")
    restored = statedir.restore(checkpoint.load(tmp_path))
    resumed = ListSink()
    q = Pipeline(restored.timeline, resumed, writer=None)
    for rest in rests:
        q.feed(rest)
    q.finish()
    assert len(whole) > 300
    assert [(x.measurement, x.tags, x.fields, x.time_ns) for x in resumed.points] == \
        [(x.measurement, x.tags, x.fields, x.time_ns) for x in whole]


class _Bomb:
    """Unpickling it creates a file: proof that the pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_a_0_1_checkpoint_is_read_from_its_header_and_its_pickle_never_loaded(tmp_path, caplog):
    data = sample(1).read_bytes()
    head = data[: data.index(b"\n", len(migrations.LEGACY_MAGIC)) + 1]
    marker = tmp_path / "unpickled"
    (tmp_path / "checkpoint").write_bytes(head + pickle.dumps({"timeline": _Bomb(marker)}))
    cp = checkpoint.load(tmp_path)
    caplog.set_level("INFO")
    restored = statedir.restore(cp)
    assert not marker.exists()
    assert restored.fresh and restored.carried["entries"] == 2255
    said = [r for r in caplog.records if "0.1.0's checkpoint" in r.getMessage()]
    assert len(said) == 1 and said[0].levelname == "INFO" and "takes up the 11 sessions" in said[0].getMessage()
    tl = Pipeline(codec.from_json({"names": {}, "hosts": {}, "recent": {"keys": [], "times": []}}), ListSink()).timeline
    assert tl.resume_open(cp.open_sessions) == 11
    assert sorted((s.host, s.start_ns) for st in tl.hosts.values() for s in st.loaded) == \
        sorted((s.host, s.start_ns) for s in cp.open_sessions)


def test_a_state_from_a_newer_version_keeps_its_cursor_and_sessions_and_starts_fresh(tmp_path, caplog):
    doc = json.loads(sample(V).read_bytes())
    doc.update(state_version=V + 1, version="9.0.0", correlator={"something": "else"})
    (tmp_path / "checkpoint").write_text(json.dumps(doc))
    cp = checkpoint.load(tmp_path)
    assert (cp.cursor, cp.correlator, len(cp.open_sessions)) == (CURSOR, None, 11)
    assert statedir.restore(cp).fresh
    assert f"saved by ollama-ingest 9.0.0 in state version {V + 1}" in caplog.text
    assert [r.levelname for r in caplog.records if "9.0.0" in r.getMessage()] == ["WARNING"]


def test_a_correlator_of_the_wrong_shape_starts_fresh_and_keeps_the_counters(tmp_path, caplog):
    doc = json.loads(sample(V).read_bytes())
    next(iter(doc["correlator"]["hosts"].values()))["sessions"][0]["colour"] = "red"
    (tmp_path / "checkpoint").write_text(json.dumps(doc))
    restored = statedir.restore(checkpoint.load(tmp_path))
    assert restored.fresh and restored.carried["entries"] == 2255
    assert "cannot be loaded" in caplog.text and "colour" in caplog.text


def test_a_state_of_another_package_version_is_taken_up(tmp_path, caplog):
    doc = json.loads(sample(V).read_bytes())
    doc["version"] = "0.0.9"
    (tmp_path / "checkpoint").write_text(json.dumps(doc))
    caplog.set_level("INFO")
    assert not statedir.restore(checkpoint.load(tmp_path)).fresh
    assert f"saved by ollama-ingest 0.0.9 (state version {V}) is taken up by {__version__}" in caplog.text


@pytest.mark.parametrize("data", [
    b"garbage", b"{}", b'{"format": "something else", "state_version": 2}', b'{"format": "ollama-ingest checkpoint"}',
    b'{"format": "ollama-ingest checkpoint", "state_version": 1}', migrations.LEGACY_MAGIC + b"{not json\n",
    migrations.LEGACY_MAGIC + b'["a list"]\n', b"\xff\xfe"])
def test_what_is_not_a_checkpoint_says_so(tmp_path, data):
    (tmp_path / "checkpoint").write_bytes(data)
    with pytest.raises(checkpoint.CheckpointError, match="is not an ollama-ingest checkpoint"):
        checkpoint.load(tmp_path)


def test_a_checkpoint_without_a_cursor_is_damaged(tmp_path):
    doc = json.loads(sample(V).read_bytes())
    doc["cursor"] = ""
    (tmp_path / "checkpoint").write_text(json.dumps(doc))
    with pytest.raises(checkpoint.CheckpointError, match="no cursor"):
        checkpoint.load(tmp_path)
