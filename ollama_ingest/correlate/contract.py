"""What the pipeline and the service may ask of the correlator, and nothing more (``timeline.Timeline``)."""

from __future__ import annotations

from typing import Protocol

from ..events import Event
from ..schema.point import Point
from .names import ModelNames


class Correlator(Protocol):
    def feed(self, e: Event) -> list[Point]:
        """One event (in input order, per host): the points it decides, possibly none."""

    def advance(self, now_ns: int) -> list[Point]:
        """The input is complete up to ``now_ns`` with no events: what was waiting for evidence is decided."""

    def finish(self) -> list[Point]:
        """The end of the input: everything held is decided, open sessions are written open."""

    def open_sessions(self, now_ns: int | None = None) -> list[Point]:
        """The sessions still open, as upserts (the service writes them periodically)."""

    def hosts_seen(self) -> list[str]:
        """The hosts whose events were fed."""

    def learn_names(self, names: ModelNames) -> None:
        """Model names for blobs not known yet (a model pulled since); known ones keep theirs."""

    def open_session_records(self) -> list[dict]:
        """The open sessions by the identity they were written with (for the checkpoint's header)."""

    def resume_open(self, records: list[dict]) -> int:
        """Take up the sessions a lost state had open (``open_session_records``); returns how many."""
