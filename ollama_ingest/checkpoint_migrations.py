"""How a newer ollama-ingest reads the checkpoint an older one saved (docs/design.md §10).

``STATE_VERSION`` is the shape of the checkpoint document (checkpoint.py) and of the correlator's state in it
(correlate/codec.py). When it changes (a field of a state record added, removed or renamed, its meaning
changed, a key of the document), ``STATE_VERSION`` goes up by one, a function from the previous shape to the
new one joins ``MIGRATIONS``, and a sample of the new shape is committed (``python -m tests.state_sample``):
tests/test_checkpoint_upgrade.py fails until all three are there, and loads every older sample through the
chain. A migration takes the document as the older version saved it and returns it in the next shape, plus
why the correlator could not be carried over ("" when it was).

The versions:

1. 0.1.0: the line ``OLLAMA-INGEST-CHECKPOINT 1``, a JSON header (cursor, seq, saved_at, version, counters,
   open sessions), then a pickle of the correlator. The pickle is never loaded: its classes are those of the
   version that wrote it (0.1.0's correlator was one class of another shape), and unpickling a file runs
   whatever it names. The header gives the cursor, the counters and the sessions that were open; the
   correlator starts fresh and takes those sessions up (what 0.1.0 itself did on any version change).
2. One JSON document; the correlator as data.
"""

from __future__ import annotations

import json
from collections.abc import Callable

FORMAT = "ollama-ingest checkpoint"
STATE_VERSION = 2
LEGACY_MAGIC = b"OLLAMA-INGEST-CHECKPOINT 1\n"


class NotACheckpoint(ValueError):
    """Neither a checkpoint of any version nor 0.1.0's file."""


def read(data: bytes) -> dict:
    """The document a checkpoint file holds, in the shape it was saved in (``state_version``)."""
    if data.startswith(LEGACY_MAGIC):
        return _legacy_header(data[len(LEGACY_MAGIC):])
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise NotACheckpoint() from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise NotACheckpoint()
    v = doc.get("state_version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 2:
        raise NotACheckpoint(f"state version {v!r}")
    return doc


def _legacy_header(rest: bytes) -> dict:
    """Version 1: its header only (what follows the first newline is a pickle, and stays unread)."""
    nl = rest.find(b"\n")
    try:
        header = json.loads(rest[:nl]) if nl >= 0 else None
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict):
        raise NotACheckpoint("unreadable header")
    return {**header, "state_version": 1}


def upgrade(doc: dict) -> tuple[dict, str]:
    """``doc`` in the current shape, and why it carries no correlator state ("" when it does)."""
    v = doc["state_version"]
    if v > STATE_VERSION:  # a downgrade: its correlator's shape is unknown here; the rest is read as ours
        return ({**doc, "correlator": None}, f"it was saved by ollama-ingest {doc.get('version', '?')} in state "
                f"version {v}, and this one reads versions up to {STATE_VERSION}")
    why = ""
    while v < STATE_VERSION:
        doc, lost = MIGRATIONS[v](doc)
        why = why or lost
        v += 1
        doc["state_version"] = v
    return doc, why


def v1_to_v2(old: dict) -> tuple[dict, str]:
    """0.1.0's header → the JSON document, without a correlator (its pickle is not loaded: see above)."""
    return ({"format": FORMAT, "state_version": 2, "version": old.get("version", "0.1.0"),
             "saved_at": old.get("saved_at", 0.0), "cursor": old.get("cursor"), "seq": old.get("seq", 0),
             "counters": old.get("counters") or {}, "open": old.get("open") or [], "correlator": None},
            f"it is ollama-ingest {old.get('version', '0.1.0')}'s checkpoint, whose correlator state (a pickle) "
            "is not loaded")


# state version n → the function that turns it into version n + 1
MIGRATIONS: dict[int, Callable[[dict], tuple[dict, str]]] = {1: v1_to_v2}
