"""The service's state directory: created private, locked against a second ``run``, and what a start
takes from the checkpoint in it (the correlator state when it can be trusted, the counters always)."""

from __future__ import annotations

import fcntl
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from . import checkpoint as ckpt
from .config import ConfigError
from .correlate import codec
from .correlate.timeline import Timeline
from .schema.measurements import journal_gap_point
from .schema.point import Point

log = logging.getLogger("ollama_ingest.service")

LOCK_NAME = "lock"


def prepare_state_dir(path: Path) -> Path:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"bad setting state_dir: cannot create {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"bad setting state_dir: {path} is not writable by this user (uid {os.getuid()})")
    return path


class StateLock:
    """An exclusive ``flock`` on ``state_dir/lock`` for the life of the process: two ``run`` on one state
    directory would overwrite each other's checkpoint. The lock file holds the owner's pid (for messages)."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd, self.path = fd, path

    @classmethod
    def acquire(cls, state_dir: Path) -> StateLock:
        path = Path(state_dir) / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except IsADirectoryError:
            raise ConfigError(f"bad setting state_dir: {path} is a directory: remove it") from None
        except OSError as exc:
            raise ConfigError(f"bad setting state_dir: cannot open {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = _read_pid(fd)
            os.close(fd)
            raise ConfigError(
                f"state_dir {state_dir} is in use by another `ollama-ingest run`"
                f"{f' (pid {other})' if other else ''}: stop that one first (e.g. systemctl stop ollama-ingest), "
                "or give this one its own --state-dir") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(fd, path)

    @staticmethod
    def holder(state_dir: Path) -> int | None:
        """The pid of the ``run`` holding the lock now, or None (not locked, or no lock file)."""
        try:
            fd = os.open(Path(state_dir) / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None
        except BlockingIOError:
            return _read_pid(fd) or -1
        finally:
            os.close(fd)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the last descriptor drops the flock
            self.fd = -1


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text.isdigit() else None
    except (OSError, ValueError):
        return None


def load_checkpoint(state_dir: Path, start_at: str) -> ckpt.Checkpoint | None:
    """The checkpoint, or None (none yet, or damaged: said once). A path that can never be one is a
    ``ConfigError`` (exit 2), not a traceback."""
    try:
        return ckpt.load(state_dir)
    except ckpt.CheckpointPathError as exc:
        raise ConfigError(f"bad setting state_dir: {exc}") from None
    except ckpt.CheckpointError as exc:
        log.warning("%s: starting without it (from the %s of the journal); the counters restart from zero",
                    exc, start_at)
        return None


COUNTERS = ("entries", "events", "unparsed", "noise", "dropped", "write_errors", "points_written",
            "journal_gaps", "journal_gap_s")


@dataclass
class Restored:
    """What a start takes from the checkpoint: the correlator if it could be loaded (else None: a fresh one,
    which takes up the checkpoint's open sessions), and the self-monitoring totals so far, which go on."""

    timeline: Timeline | None = None
    carried: dict = field(default_factory=dict)

    @property
    def fresh(self) -> bool:
        return self.timeline is None


def restore(cp: ckpt.Checkpoint | None) -> Restored:
    if cp is None:
        return Restored()
    carried = {k: v for k, v in cp.counters.items() if k in COUNTERS}
    if cp.correlator is None:  # an upgrade from 0.1.0 is expected (INFO); a downgrade or damage is not
        level = logging.INFO if cp.state_version < ckpt.STATE_VERSION else logging.WARNING
        log.log(level, "the checkpoint holds no correlator state to load (%s): resuming from its cursor with a "
                "fresh state, which takes up the %d sessions open then (requests held for evidence then are not "
                "carried over)", cp.state_error, len(cp.open_sessions))
        return Restored(None, carried)
    try:
        timeline = codec.from_json(cp.correlator)
    except codec.StateFormatError as exc:
        log.warning("the saved correlator state (ollama-ingest %s) cannot be loaded (%s): resuming from the "
                    "checkpoint's cursor with a fresh state", cp.version, exc)
        return Restored(None, carried)
    if cp.version != __version__:
        log.info("the state saved by ollama-ingest %s (state version %d) is taken up by %s", cp.version,
                 cp.state_version, __version__)
    return Restored(timeline, carried)


def journal_gap(cp: ckpt.Checkpoint, files: list[str] | None, directory: str | None, unit: str,
                host: str) -> tuple[Point, float] | None:
    """The checkpoint's entry is gone: the entries between it and the oldest entry still there were never
    read. An ``ollama_event`` of kind ``journal_gap`` at the gap's start, spanning it, and its seconds;
    None when nothing newer than the checkpoint was lost (re-read entries just rewrite the same points)."""
    since_us = cursor_time_us(cp.cursor) or int(cp.saved_at * 1e6)
    oldest = oldest_entry(files, directory, unit)
    if oldest is None or oldest[0] <= since_us:
        return None
    until_us, journal_host = oldest
    gap_s = round((until_us - since_us) / 1e6, 6)
    fmt = "%Y-%m-%d %H:%M:%S"
    span = (f"{time.strftime(fmt, time.localtime(since_us / 1e6))} to "
            f"{time.strftime(fmt, time.localtime(until_us / 1e6))}")
    log.warning("journal entries of %s from %s (%.0f s) were vacuumed before they were read", unit, span, gap_s)
    point = journal_gap_point(journal_host or host, since_us, until_us, span)
    return point, gap_s


def cursor_time_us(cursor: str) -> int | None:
    """The realtime of a journal cursor's entry (its ``t=`` field, hex µs), or None."""
    for part in cursor.split(";"):
        if part.startswith("t="):
            try:
                return int(part[2:], 16)
            except ValueError:
                return None
    return None


def oldest_entry(files: list[str] | None, directory: str | None, unit: str) -> tuple[int, str] | None:
    """(journal time in µs, host) of the oldest entry of ``unit`` still in the journal, or None."""
    from .sources.journal import JournalOpenError, add_unit_matches, open_reader

    try:
        r = open_reader(files, directory)
    except JournalOpenError:
        return None
    try:
        add_unit_matches(r, unit)
        r.seek_head()
        if not r._next():
            return None
        try:
            host = r._get("_HOSTNAME").decode("utf-8", "replace")
        except (KeyError, OSError):
            host = ""
        return r._get_realtime(), host
    except OSError:
        return None
    finally:
        r.close()
