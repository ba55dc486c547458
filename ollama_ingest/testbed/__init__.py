"""Test bed: a private InfluxDB 1.6 on loopback with an InfluxDB v2-write shim in front.

Used by the tests and the demo only; nothing in the product imports it. Stdlib only.
"""

from .influx1 import Influx1, InfluxdNotFound, InfluxQLError, find_influxd
from .v2shim import V2Shim

__all__ = ["Influx1", "InfluxdNotFound", "InfluxQLError", "V2Shim", "find_influxd"]
