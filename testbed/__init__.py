"""Test bed: a private InfluxDB 1.6 on loopback with an InfluxDB v2-write shim in front.

Used by the tests, the benchmarks and the demo (``python -m testbed.demo``, ``python -m testbed.serve``: run by
scripts/setup.sh from the checkout's root); it lives in the checkout only and is not in the wheel, and nothing in
the product imports it. Stdlib only (the demo uses the product).
"""

from .influx1 import Influx1, InfluxdNotFound, InfluxQLError, find_influxd
from .v2shim import V2Shim

__all__ = ["Influx1", "InfluxdNotFound", "InfluxQLError", "V2Shim", "find_influxd"]
