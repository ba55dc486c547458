"""Shared fixtures: a private InfluxDB 1.6 (with its v2-write shim) for the whole session, a fresh database per test."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from testbed import Influx1, InfluxdNotFound


@pytest.fixture(scope="session")
def influx(tmp_path_factory):
    """A running Influx1; ``influx.v2_url`` is the v2 shim for influxdb-client, ``influx.query`` reads back."""
    try:
        server = Influx1(tmp_path_factory.mktemp("influx1"))
    except InfluxdNotFound as e:
        if os.environ.get("CI"):
            pytest.fail(f"{e} (CI is set: these tests must run)", pytrace=False)
        pytest.skip(str(e))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def influx_db(influx, request):
    """``(influx, db)``: a database (= v2 bucket) of its own for this test, dropped afterwards."""
    name = "t_" + re.sub(r"\W", "_", request.node.name)[:40] + "_" + uuid.uuid4().hex[:8]
    influx.ensure_running()
    influx.create_database(name)
    yield influx, name
    influx.ensure_running()  # a test that paused or stopped influxd must not break the next one
    influx.drop_database(name)


@pytest.fixture
def dbs(influx):
    """A factory of fresh databases (``dbs("tag")`` → name), all dropped afterwards."""
    made: list[str] = []

    def make(tag: str) -> str:
        name = f"t_{tag}_{uuid.uuid4().hex[:8]}"
        influx.create_database(name)
        made.append(name)
        return name

    yield make
    influx.ensure_running()
    for name in made:
        influx.drop_database(name)
