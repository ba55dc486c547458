"""A point as InfluxDB stores it, and its identity; what text it becomes is the sinks' business."""

from __future__ import annotations

from dataclasses import dataclass

FieldValue = int | float | bool | str


@dataclass(slots=True)
class Point:
    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    time_ns: int

    @property
    def identity(self) -> tuple:
        """What InfluxDB keys a point by: a second point with the same identity overwrites it."""
        return (self.measurement, tuple(sorted(self.tags.items())), self.time_ns)
