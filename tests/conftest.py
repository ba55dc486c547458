"""Shared fixtures: a private InfluxDB 1.6 (with its v2-write shim) for the whole session, a fresh database per test."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from ollama_ingest.testbed import Influx1, InfluxdNotFound


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
