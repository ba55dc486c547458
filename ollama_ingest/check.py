"""``ollama-ingest check``: can the service do its job here? One line per check, exit 1 if any failed.

- journal: readable, and holding entries of the unit (a user outside ``systemd-journal`` sees only
  its own entries: the line says so);
- models: the models dir(s) readable (manifests counted);
- ollama: the API answers ``/api/version``;
- influxdb: ``/ping`` answers, and one point can be written to the bucket (``ollama_ingest``, field
  ``check``): that proves the URL, the org, the bucket and the token;
- state: the state directory is writable (or can be created).
"""

from __future__ import annotations

import grp
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from .config import ConfigError, Settings

Result = tuple[bool | None, str]  # (True ok / False failed / None skipped, what)


def check_journal(s: Settings) -> Result:
    from .sources.journal import JournalOpenError, add_unit_matches, open_reader

    files = [str(f) for f in s.journal_files] or None
    try:
        r = open_reader(files, str(s.journal_dir) if s.journal_dir else None)
    except JournalOpenError as exc:
        return False, str(exc)
    try:
        add_unit_matches(r, s.unit)
        r.seek_tail()
        if not r._previous():
            hint = ""
            if not files and not s.journal_dir and os.geteuid() != 0 and not _in_group("systemd-journal", "adm"):
                hint = " (this user is not in the systemd-journal group: it sees only its own entries)"
            return False, f"no entries of {s.unit} in {_where(s)}{hint}"
        newest = datetime.fromtimestamp(r._get_realtime() / 1e6, timezone.utc).astimezone()
        r.seek_head()
        r._next()
        oldest = datetime.fromtimestamp(r._get_realtime() / 1e6, timezone.utc).astimezone()
        return True, (f"{_where(s)}: entries of {s.unit} from {oldest:%Y-%m-%d %H:%M} to "
                      f"{newest:%Y-%m-%d %H:%M:%S %z}")
    except OSError as exc:
        return False, f"cannot read {_where(s)}: {exc.strerror or exc}"
    finally:
        r.close()


def _where(s: Settings) -> str:
    if s.journal_files:
        return ", ".join(map(str, s.journal_files))
    return str(s.journal_dir) if s.journal_dir else "the local journal"


def _in_group(*names: str) -> bool:
    groups = set(os.getgroups())
    for n in names:
        try:
            if grp.getgrnam(n).gr_gid in groups:
                return True
        except KeyError:
            continue
    return False


def check_models(s: Settings) -> Result:
    from .correlate.inventory import model_dirs

    configured = [Path(d) for d in s.models_dir]
    dirs = configured or model_dirs()
    if not dirs:
        return False, ("no models dir found (set models_dir or OLLAMA_MODELS; looked in OLLAMA_MODELS and the "
                       "usual places)")
    lines, ok = [], True
    for d in dirs:
        manifests = d / "manifests"
        if not manifests.is_dir():
            ok = False
            lines.append(f"{d}: no manifests/ directory" + ("" if d.exists() else " (does not exist)"))
            continue
        count, unreadable = 0, 0
        for dirpath, _dirs, files in os.walk(manifests, onerror=lambda e: None):
            for fn in files:
                if os.access(os.path.join(dirpath, fn), os.R_OK):
                    count += 1
                else:
                    unreadable += 1
        if not os.access(manifests, os.R_OK | os.X_OK) or unreadable:
            ok = False
            lines.append(f"{d}: {unreadable or 'some'} manifests not readable by this user")
        else:
            lines.append(f"{d}: {count} manifests readable")
    return ok, "; ".join(lines)


def check_ollama(s: Settings) -> Result:
    from .sources.ollama_api import reachable

    version = reachable(s.ollama_url, timeout=3.0)
    if version is None:
        return False, f"no answer from {s.ollama_url}/api/version (ollama_url / OLLAMA_HOST)"
    return True, f"{s.ollama_url}: Ollama {version}"


def check_influx(s: Settings) -> Result:
    from .selfmon import hostname
    from .sinks.influx import InfluxSink, SinkConfigError
    from .sinks.lineprotocol import Point, to_line

    try:
        token = s.resolved_token()
    except ConfigError as exc:
        return False, str(exc)
    sink = InfluxSink(s.url, s.org, s.bucket, token, timeout_s=min(s.timeout_s, 5.0), verify_ssl=s.verify_ssl,
                      ca_file=s.ca_file)
    try:
        try:
            sink.ping()
        except SinkConfigError as exc:  # TLS: the certificate error itself
            return False, str(exc)
        except ConnectionError as exc:
            return False, f"no answer from {s.url}/ping (url / INFLUXDB_V2_URL): {exc}"
        line = to_line(Point("ollama_ingest", {"host": hostname()}, {"check": True}, time.time_ns()))
        ok, what = sink.probe(line)
        token_from = s.token_source()
        if ok:
            return True, f"{s.url}: bucket {s.bucket!r} (org {s.org!r}) writable, token from {token_from}"
        return False, f"{what} (token from {token_from})"
    finally:
        sink.client.close()


def check_state(s: Settings) -> Result:
    d = Path(s.state_dir)
    probe = d
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        return False, f"{d} is not writable by this user (state_dir / STATE_DIRECTORY)"
    from .checkpoint import FILENAME

    cp = d / FILENAME
    return True, f"{d}: writable" + (f", checkpoint of {time.ctime(cp.stat().st_mtime)}" if cp.exists() else "")


CHECKS: list[tuple[str, Callable[[Settings], Result]]] = [
    ("journal", check_journal), ("models", check_models), ("ollama", check_ollama),
    ("influxdb", check_influx), ("state", check_state),
]


def run_checks(settings: Settings, out: TextIO) -> int:
    failed = 0
    for name, fn in CHECKS:
        try:
            ok, what = fn(settings)
        except Exception as exc:  # a check must report, never crash the others
            ok, what = False, f"{type(exc).__name__}: {exc}"
        failed += ok is False
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[ok]
        print(f"{mark} {name:<9} {what}", file=out, flush=True)
    return 1 if failed else 0
