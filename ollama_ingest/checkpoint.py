"""The service's checkpoint: the journal cursor and the correlator state that goes with it, saved together.

A checkpoint is written only after the sink acknowledged every point derived from the entries up to the
cursor (docs/design.md §10), so resuming from it (seek to the cursor, step past its entry, feed the saved state) produces
exactly what an uninterrupted run would have.

File layout (one file, replaced atomically: temp file in the same directory, fsync, rename, fsync dir)::

    OLLAMA-INGEST-CHECKPOINT 1\\n
    {"cursor": …, "seq": …, "saved_at": …, "version": …, "counters": {…}, "open": […]}\\n  (JSON header)
    <pickle of the state dict>                                                  (correlator state)

The header is separate from the pickle so that a state that cannot be unpickled (a new version changed
the classes) still gives the cursor, the self-monitoring totals and the sessions that were open (their
identity as written) back: the service then resumes from the cursor with a fresh correlator state that
takes those sessions up, and its counters go on from where they were.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__

log = logging.getLogger("ollama_ingest.checkpoint")

MAGIC = b"OLLAMA-INGEST-CHECKPOINT 1\n"
FILENAME = "checkpoint"


class CheckpointError(Exception):
    """The checkpoint file exists but is not one (truncated, another format)."""


class CheckpointPathError(CheckpointError):
    """The checkpoint's path cannot be used at all (a directory, unreadable): only the user can fix it."""


@dataclass
class Checkpoint:
    cursor: str
    seq: int = 0  # entries fed so far (the Entry.seq of the entry at the cursor)
    state: dict | None = None  # None: the state could not be loaded (see ``state_error``)
    state_error: str = ""
    version: str = __version__
    saved_at: float = 0.0
    counters: dict = field(default_factory=dict)  # self-monitoring totals when it was saved (may be empty)
    open_sessions: list = field(default_factory=list)  # the sessions open then, as written (dicts)


def save(directory: Path, cursor: str, seq: int, state: dict, *, name: str = FILENAME,
         counters: dict | None = None, open_sessions: list | None = None) -> int:
    """Write the checkpoint atomically and durably; returns its size in bytes."""
    directory = Path(directory)
    header = json.dumps({"cursor": cursor, "seq": seq, "saved_at": time.time(), "version": __version__,
                         "counters": counters or {}, "open": open_sessions or []}, sort_keys=True).encode()
    body = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    data = MAGIC + header + b"\n" + body
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
    """The saved checkpoint, or None if there is none. Raises ``CheckpointError`` for a damaged file,
    ``CheckpointPathError`` when the path is a directory or cannot be read."""
    path = Path(directory) / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise CheckpointPathError(f"{path} is a directory, not a checkpoint file: remove it") from None
    except OSError as exc:
        raise CheckpointPathError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not data.startswith(MAGIC):
        raise CheckpointError(f"{path} is not an ollama-ingest checkpoint")
    rest = data[len(MAGIC):]
    nl = rest.find(b"\n")
    try:
        header = json.loads(rest[:nl]) if nl >= 0 else None
        cursor = header["cursor"]
        if not isinstance(cursor, str) or not cursor:
            raise ValueError("empty cursor")
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: unreadable header ({exc})") from None
    counters = header.get("counters")
    cp = Checkpoint(cursor=cursor, seq=int(header.get("seq", 0)), version=str(header.get("version", "?")),
                    saved_at=float(header.get("saved_at", 0.0)),
                    counters={k: v for k, v in counters.items() if isinstance(v, (int, float))}
                    if isinstance(counters, dict) else {},
                    open_sessions=[d for d in header.get("open") or [] if isinstance(d, dict)
                                   and isinstance(d.get("start_ns"), int) and isinstance(d.get("model"), str)
                                   and isinstance(d.get("host"), str)])
    try:
        state = pickle.loads(rest[nl + 1:])
        if not isinstance(state, dict):
            raise TypeError(f"state is a {type(state).__name__}, not a dict")
        cp.state = state
    except Exception as exc:  # any unpickling failure: a new version, a damaged body
        cp.state_error = f"{type(exc).__name__}: {exc}"[:300]
    return cp


def remove_stale_temp_files(directory: Path, *, name: str = FILENAME) -> None:
    """Temp files left by a process killed while saving."""
    for p in Path(directory).glob(f".{name}.*.tmp"):
        try:
            p.unlink()
        except OSError:
            pass
