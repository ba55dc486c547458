"""What the pipeline and the service may ask of the correlator, and nothing more (``timeline.Timeline``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from ..events import Event
from ..schema.point import Point
from .names import ModelNames


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A session open when the checkpoint was saved, by the identity its ``ollama_session`` point was written
    with (tags ``host``, ``model``, ``series``; time ``start_ns``) and what its bar showed: a fresh state takes
    it up (``resume_open``, design §3) so the evidence that follows ends it in place."""

    host: str
    start_ns: int
    model: str
    series: str
    blob: str = ""
    ctx: int | None = None  # per request
    parallel: int | None = None
    requests: int = 0
    end: int = 0  # ms: the latest it was seen alive

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any) -> OpenSession | None:
        """The record a checkpoint holds, or None when it is not one (its identity missing or mistyped)."""
        if not (isinstance(d, dict) and isinstance(d.get("host"), str) and isinstance(d.get("start_ns"), int)
                and isinstance(d.get("model"), str)):
            return None

        def num(k: str) -> int | None:
            v = d.get(k)
            return v if isinstance(v, int) and not isinstance(v, bool) else None

        series = d.get("series")
        return cls(d["host"], d["start_ns"], d["model"], series if isinstance(series, str) and series else d["model"],
                   d["blob"] if isinstance(d.get("blob"), str) else "", num("ctx"), num("parallel"),
                   num("requests") or 0, num("end") or 0)


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

    def open_session_records(self) -> list[OpenSession]:
        """The open sessions by the identity they were written with (for the checkpoint)."""

    def resume_open(self, records: list[OpenSession]) -> int:
        """Take up the sessions a lost state had open (``open_session_records``); returns how many."""
