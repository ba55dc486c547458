"""A local InfluxDB that stays up, for trying ollama-ingest on your own journal after the demo:

    bash scripts/setup.sh db start    # InfluxDB 1.6 + the v2 shim on 127.0.0.1, data in .db/ (kept)
    bash scripts/setup.sh db status   # is it up, and its URL
    bash scripts/setup.sh db stop     # stop it (the data stays in .db/ for the next start)

One URL serves everything ollama-ingest needs: the v2 write and delete API (backfill) and InfluxQL's /query
(``timeline --influxql``). Port 8086, the default ``url``, when it is free; else another one, printed. The
database ``ollama`` (the default bucket) is created. Loopback only, no token: a test bed, not a production
database.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from .influx1 import Influx1

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / ".db"
PREFERRED_PORT = 8086
BUCKET = "ollama"


def _state_file(d: Path) -> Path:
    return d / "serve.json"


def read_state(d: Path = DEFAULT_DIR) -> dict | None:
    """The running server's state, or None when none runs (a stale file is removed)."""
    try:
        state = json.loads(_state_file(d).read_text())
        os.kill(int(state["pid"]), 0)
        return state
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the shim's server binds
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def serve(d: Path) -> int:
    """Run in the foreground until SIGTERM/SIGINT: influxd (data in d/influx) and the shim."""
    d.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    db = Influx1(workdir=d / "influx")
    db.start()
    try:
        db.shim.stop()  # started on a free port: move it to a stable one
        port = PREFERRED_PORT if _port_free(PREFERRED_PORT) else 0
        db.shim.start(port)
        db.create_database(BUCKET)
        state = {"pid": os.getpid(), "url": db.v2_url, "influxd_url": db.url, "dir": str(d), "bucket": BUCKET}
        _state_file(d).write_text(json.dumps(state))
        while not stop.wait(1.0):
            if not db.running:
                print("serve: influxd exited", file=sys.stderr)
                return 1
        return 0
    finally:
        _state_file(d).unlink(missing_ok=True)
        db.stop()


def start(d: Path = DEFAULT_DIR, timeout_s: float = 60.0) -> dict:
    """Start the server in the background (or find it running); returns its state."""
    state = read_state(d)
    if state is not None:
        return state
    d.mkdir(parents=True, exist_ok=True)
    with open(d / "serve.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "testbed.serve", "run", "--dir", str(d)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                cwd=ROOT)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        state = read_state(d)
        if state is not None:
            return state
        if proc.poll() is not None:
            raise RuntimeError(f"the database did not start: see {d / 'serve.log'}")
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"the database did not start within {timeout_s:.0f} s: see {d / 'serve.log'}")


def stop(d: Path = DEFAULT_DIR, timeout_s: float = 30.0) -> bool:
    """Stop a running server; False if none ran."""
    state = read_state(d)
    if state is None:
        return False
    os.kill(int(state["pid"]), signal.SIGTERM)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s and read_state(d) is not None:
        time.sleep(0.2)
    return True


def describe(state: dict) -> str:
    url = state["url"]
    default = url == f"http://127.0.0.1:{PREFERRED_PORT}"
    opt = "" if default else f" --url {url}"
    return (f"InfluxDB (test bed) at {url}, bucket {state['bucket']}, data in {state['dir']}\n"
            f"  backfill:  .venv/bin/ollama-ingest backfill{opt}\n"
            f"  timeline:  .venv/bin/ollama-ingest timeline --influxql{opt} --since 7d --html timeline.html\n"
            f"  stop:      bash scripts/setup.sh db stop")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="setup.sh db", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=("start", "stop", "status", "run"),
                    help="start in the background, stop, say whether it runs, or run in the foreground")
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"data directory (default: {DEFAULT_DIR})")
    args = ap.parse_args(argv)
    if args.action == "run":
        return serve(args.dir)
    if args.action == "start":
        try:
            print(describe(start(args.dir)))
        except RuntimeError as exc:
            print(f"db: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.action == "stop":
        print("stopped (the data stays in " + str(args.dir) + ")" if stop(args.dir) else "not running")
        return 0
    state = read_state(args.dir)
    print(describe(state) if state else "not running (bash scripts/setup.sh db start)")
    return 0 if state else 3


if __name__ == "__main__":
    sys.exit(main())
