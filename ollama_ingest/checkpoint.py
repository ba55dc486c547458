"""The service's checkpoint: the journal cursor and the state that goes with it, saved together, as JSON.

It is written only after the sink acknowledged every point derived from the entries up to the cursor
(docs/design.md §10), so resuming from it (seek to the cursor, step past its entry, load the correlator)
produces exactly what an uninterrupted run would have. One file, one JSON object, replaced atomically (temp
file in the same directory, fsync, rename, fsync of the directory)::

    {"format": "ollama-ingest checkpoint", "state_version": 2,
     "version": "0.1.0", "saved_at": 1761000000.5,         the ollama-ingest that saved it, and when
     "cursor": "s=…;i=…;…", "seq": 2255,                    the last entry fed, and its Entry.seq
     "counters": {"entries": …, "points_written": …},      self-monitoring totals so far (selfmon.py)
     "open": [{"host": …, "start_ns": …, "model": …}],     the open sessions as written (contract.OpenSession)
     "correlator": {"names": …, "hosts": …, "recent": …}}  the correlator's state (correlate/codec.py)

``state_version`` is the shape of all of it: a newer ollama-ingest reads an older shape through the
migrations of checkpoint_migrations.py, so an upgrade keeps the correlator's state (open sessions, requests
held for evidence, the tie-break's memory). What gives no correlator (0.1's file, whose correlator is a
pickle that is never loaded; a state from a newer ollama-ingest) still gives the cursor, the counters and the
open sessions: the service resumes from the cursor with a fresh correlator that takes those sessions up.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from . import checkpoint_migrations as migrations
from .correlate.contract import OpenSession

log = logging.getLogger("ollama_ingest.checkpoint")

FILENAME = "checkpoint"
FORMAT = migrations.FORMAT
STATE_VERSION = migrations.STATE_VERSION


class CheckpointError(Exception):
    """The checkpoint file exists but is not one (truncated, another format)."""


class CheckpointPathError(CheckpointError):
    """The checkpoint's path cannot be used at all (a directory, unreadable): only the user can fix it."""


@dataclass
class Checkpoint:
    cursor: str
    seq: int = 0  # entries fed so far (the Entry.seq of the entry at the cursor)
    correlator: dict | None = None  # the correlator's JSON (correlate/codec.py); None: none to load (state_error)
    state_error: str = ""
    version: str = __version__  # the ollama-ingest that saved it
    state_version: int = STATE_VERSION  # the shape it was saved in (it is read in the current one)
    saved_at: float = 0.0
    counters: dict = field(default_factory=dict)  # self-monitoring totals when it was saved (may be empty)
    open_sessions: list[OpenSession] = field(default_factory=list)  # the sessions open then, as written


def document(cp: Checkpoint) -> dict:
    """The checkpoint as the file holds it (keys in a fixed order: the same checkpoint is the same bytes)."""
    return {"format": FORMAT, "state_version": STATE_VERSION, "version": cp.version, "saved_at": cp.saved_at,
            "cursor": cp.cursor, "seq": cp.seq, "counters": cp.counters,
            "open": [s.as_dict() for s in cp.open_sessions], "correlator": cp.correlator}


def encode(cp: Checkpoint) -> bytes:
    return json.dumps(document(cp), separators=(",", ":")).encode() + b"\n"


def save(directory: Path, cp: Checkpoint, *, name: str = FILENAME) -> int:
    """Write the checkpoint atomically and durably; returns its size in bytes."""
    directory = Path(directory)
    data = encode(cp)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / name)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return len(data)


def load(directory: Path, *, name: str = FILENAME) -> Checkpoint | None:
    """The saved checkpoint in the current shape, or None if there is none. Raises ``CheckpointError`` for a
    damaged file, ``CheckpointPathError`` when the path is a directory or cannot be read."""
    path = Path(directory) / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise CheckpointPathError(f"{path} is a directory, not a checkpoint file: remove it") from None
    except OSError as exc:
        raise CheckpointPathError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = migrations.read(data)
    except migrations.NotACheckpoint as exc:
        raise CheckpointError(f"{path} is not an ollama-ingest checkpoint{f' ({exc})' if str(exc) else ''}") from None
    saved_in = doc.get("state_version")
    doc, state_error = migrations.upgrade(doc)
    cursor = doc.get("cursor")
    if not isinstance(cursor, str) or not cursor:
        raise CheckpointError(f"{path}: no cursor in it")
    counters = doc.get("counters")
    correlator = doc.get("correlator")
    if correlator is not None and not isinstance(correlator, dict):
        correlator, state_error = None, f"its correlator state is a {type(correlator).__name__}"
    seq, saved_at = doc.get("seq"), doc.get("saved_at")
    return Checkpoint(
        cursor=cursor, seq=seq if isinstance(seq, int) and seq >= 0 else 0, correlator=correlator,
        state_error=state_error, version=str(doc.get("version", "?")),
        state_version=saved_in if isinstance(saved_in, int) else 0,
        saved_at=float(saved_at) if isinstance(saved_at, (int, float)) else 0.0,
        counters={k: v for k, v in counters.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if isinstance(counters, dict) else {},
        open_sessions=[s for d in doc.get("open") or [] if (s := OpenSession.from_dict(d)) is not None])


def remove_stale_temp_files(directory: Path, *, name: str = FILENAME) -> None:
    """Temp files left by a process killed while saving."""
    for p in Path(directory).glob(f".{name}.*.tmp"):
        try:
            p.unlink()
        except OSError:
            pass
