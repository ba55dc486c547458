"""A private InfluxDB 1.6 (Debian's ``influxdb``) on loopback, with data in a temp dir and a v2 shim in front."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from .v2shim import V2Shim

_CONFIG = """\
reporting-enabled = false
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{dir}/meta"
  logging-enabled = false

[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  index-version = "inmem"
  query-log-enabled = false
  max-series-per-database = 0
  max-values-per-tag = 0

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
  pprof-enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
"""


class InfluxdNotFound(RuntimeError):
    """No influxd binary: install Debian's ``influxdb`` package (``scripts/setup.sh install-deps``)."""


class InfluxQLError(RuntimeError):
    pass


def find_influxd() -> str | None:
    return shutil.which("influxd") or ("/usr/bin/influxd" if os.access("/usr/bin/influxd", os.X_OK) else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Influx1:
    """``with Influx1() as db: db.create_database("x"); client = InfluxDBClient(url=db.v2_url, ...)``."""

    def __init__(
        self,
        workdir: str | os.PathLike | None = None,
        influxd: str | None = None,
        start_timeout: float = 20.0,
        token: str | None = None,
    ):
        self.influxd = influxd or find_influxd()
        if not self.influxd:
            raise InfluxdNotFound(
                "influxd not found: install the Debian package `influxdb` "
                "(bash scripts/setup.sh install-deps)"
            )
        self._own_dir = workdir is None
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="influx1-")).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config, self.log = self.dir / "influxd.toml", self.dir / "influxd.log"
        self.start_timeout = start_timeout
        self.http_port = self.rpc_port = 0
        self.proc: subprocess.Popen | None = None
        self.shim = V2Shim("http://127.0.0.1:1", token=token)
        self._paused = False

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> Influx1:
        try:
            for attempt in range(3):  # a free port can be taken between probing and influxd binding it
                self.http_port, self.rpc_port = _free_port(), _free_port()
                self.config.write_text(
                    _CONFIG.format(dir=self.dir, http_port=self.http_port, rpc_port=self.rpc_port)
                )
                try:
                    self.start_server()
                    break
                except RuntimeError as e:
                    if attempt == 2 or "address already in use" not in str(e):
                        raise
            self.shim.backend = ("127.0.0.1", self.http_port)
            self.shim.start()
        except BaseException:
            self.stop()  # the error already carries the log tail
            raise
        return self

    def start_server(self) -> None:
        """(Re)start influxd on the same ports and data dir."""
        if self.running:
            return
        t0 = time.monotonic()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [self.influxd, "-config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._paused = False
        while time.monotonic() - t0 < self.start_timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"influxd exited with {self.proc.returncode} at start:\n{self._log_tail()}"
                )
            if self.ping():
                return
            time.sleep(0.02)
        self._kill()
        raise RuntimeError(
            f"influxd did not answer /ping within {self.start_timeout:.0f} s:\n{self._log_tail()}"
        )

    def stop_server(self, timeout: float = 10.0) -> None:
        """Stop influxd (SIGTERM, then SIGKILL); the data dir and ports stay for ``start_server()``."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if self._paused:
                self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
        self.proc, self._paused = None, False

    def pause(self) -> None:
        """SIGSTOP influxd: connections are accepted by the kernel but never answered."""
        assert self.running, "influxd is not running"
        self.proc.send_signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        if self.proc is not None and self._paused:
            self.proc.send_signal(signal.SIGCONT)
            self._paused = False

    def ensure_running(self) -> None:
        """Undo pause() / stop_server() (for fixtures that must hand the next test a working server)."""
        self.resume()
        self.start_server()

    def stop(self) -> None:
        self.shim.stop()
        self.stop_server()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Influx1:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:]) or "(empty log)"

    # -- HTTP ------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def v2_url(self) -> str:
        return self.shim.url

    def ping(self, timeout: float = 1.0) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/ping", timeout=timeout) as r:
                return r.status == 204
        except OSError:
            return False

    def create_database(self, name: str) -> None:
        self.query(f'CREATE DATABASE "{_ident(name)}"')

    def drop_database(self, name: str) -> None:
        self.query(f'DROP DATABASE "{_ident(name)}"')

    def query(self, influxql: str, db: str | None = None, timeout: float = 30.0) -> list[dict]:
        """Run InfluxQL (POST /query, epoch=ns); rows of every series as dicts, series tags merged in.

        ``time`` is an int (ns since the epoch). Float fields with an integral value come back as int
        (Go's JSON writes 2.0 as ``2``): compare with ``==``, not by type.
        """
        params = {"q": influxql, "epoch": "ns", **({"db": db} if db else {})}
        req = urllib.request.Request(
            self.url + "/query",
            data=urlencode(params).encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                answer = json.load(r)
        except urllib.error.HTTPError as e:
            raise InfluxQLError(f"{influxql!r}: HTTP {e.code}: {e.read().decode(errors='replace')}") from None
        if "error" in answer:
            raise InfluxQLError(f"{influxql!r}: {answer['error']}")
        rows: list[dict] = []
        for result in answer.get("results", []):
            if "error" in result:
                raise InfluxQLError(f"{influxql!r}: {result['error']}")
            for series in result.get("series", []):
                tags, cols = series.get("tags", {}), series["columns"]
                rows.extend(
                    {**tags, **dict(zip(cols, values, strict=True))} for values in series.get("values", [])
                )
        return rows


def _ident(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')
