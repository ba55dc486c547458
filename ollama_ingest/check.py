"""``ollama-ingest check``: can the service do its job here? One line per check, exit 1 if any failed.

- journal: readable, and holding entries of the unit (a user who cannot read the system journal's
  files sees only its own entries: the line says so); with ``follow_file``, the check ``file`` instead:
  that file readable, in a format ``run`` can follow;
- models: the models dir(s) readable (manifests counted);
- ollama: the API answers ``/api/version``;
- influxdb: ``/ping`` answers, and one point can be written to the bucket (``ollama_ingest``, field
  ``check``): that proves the URL, the org, the bucket and the token;
- state: the state directory is writable (or can be created).

Run outside the unit (as root, typically), it takes the unit's own ``Environment=`` (its file and drop-ins:
``OLLAMA_MODELS``, ``OLLAMA_HOST`` written by install.sh, ``OLLAMA_INGEST_*`` from ``systemctl edit``) for
the variables the shell does not set, so it tests exactly what the service will use; the config file and
the token file are the unit's already.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from .config import ConfigError, Settings
from .sources.journal import system_journal_unreadable

Result = tuple[bool | None, str]  # (True ok / False failed / None skipped, what)
UNIT = "ollama-ingest.service"
_SETTING_VARS = ("OLLAMA_INGEST_", "INFLUXDB_V2_", "OLLAMA_MODELS", "OLLAMA_HOST", "STATE_DIRECTORY")


def unit_environment(unit: str = UNIT) -> dict[str, str]:
    """The settings variables of the installed unit's ``Environment=`` ({} inside a unit, or without one)."""
    if os.environ.get("INVOCATION_ID") or shutil.which("systemctl") is None:
        return {}
    try:
        r = subprocess.run(["systemctl", "show", unit, "-p", "LoadState", "-p", "Environment"],
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return {}
    props = dict(ln.split("=", 1) for ln in r.stdout.splitlines() if "=" in ln)
    if r.returncode != 0 or props.get("LoadState") != "loaded":
        return {}
    try:
        items = shlex.split(props.get("Environment", ""))
    except ValueError:
        return {}
    return {k: v for k, sep, v in (i.partition("=") for i in items) if sep and k.startswith(_SETTING_VARS)}


def adopt_unit_environment(unit: str = UNIT, err: TextIO | None = None) -> list[str]:
    """Take the unit's settings variables that this environment does not set; returns their names."""
    env = unit_environment(unit)
    taken = sorted(k for k in env if k not in os.environ)
    for k in taken:
        os.environ[k] = env[k]
    if taken:  # names only: a value may be a token
        print(f"check: as {unit} runs, with its Environment= {', '.join(taken)}", file=err or sys.stderr)
    return taken


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
            problem = None if files or s.journal_dir else system_journal_unreadable()
            hint = f" ({problem})" if problem else ""
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


def check_follow_file(s: Settings) -> Result:
    """``follow_file`` instead of the journal: the file readable by this user, in a format ``run`` follows."""
    from .sources.detect import sniff
    from .sources.follow import FOLLOWABLE

    p = Path(s.follow_file)
    try:
        with open(p, "rb") as f:
            head, size = f.read(65536), os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        return False, f"{p} does not exist (follow_file)"
    except OSError as exc:  # the hardened unit's user needs read access to Docker's container directory
        return False, f"cannot read {p} (follow_file): {exc.strerror or exc}; let this user read it (group or ACL)"
    if not head:
        return True, f"{p}: readable, empty so far"
    fmt = sniff(head)
    if fmt not in FOLLOWABLE:
        return False, f"{p} looks like {fmt}, which `run` cannot follow (follow_file)"
    return True, f"{p}: readable, {size} bytes of {fmt} log"


def _where(s: Settings) -> str:
    if s.journal_files:
        return ", ".join(map(str, s.journal_files))
    return str(s.journal_dir) if s.journal_dir else "the local journal"


def check_models(s: Settings) -> Result:
    from .correlate.inventory import has_manifests, model_dirs

    configured = [Path(d) for d in s.models_dir]
    dirs = configured or model_dirs()
    if not dirs:
        return False, ("no models dir found (set models_dir or OLLAMA_MODELS; looked in OLLAMA_MODELS and the "
                       "usual places)")
    lines, ok = [], True
    for d in dirs:
        manifests = d / "manifests"
        if not has_manifests(d):
            ok = False
            try:
                why = "" if d.exists() else " (does not exist)"
            except OSError as exc:
                why = f" (cannot look: {exc.strerror})"
            lines.append(f"{d}: no manifests/ directory{why}")
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
    from .schema.measurements import check_point
    from .selfmon import hostname
    from .sinks.influx import InfluxSink

    try:
        token = s.resolved_token()
    except ConfigError as exc:
        return False, str(exc)
    sink = InfluxSink(s.url, s.org, s.bucket, token, timeout_s=min(s.timeout_s, 5.0), verify_ssl=s.verify_ssl,
                      ca_file=s.ca_file)
    try:
        o = sink.probe()  # /ping: does anything answer there?
        if o.kind == "fatal":  # TLS: the certificate error itself
            return False, o.why
        if not o.ok:
            return False, f"no answer from {s.url}/ping (url / INFLUXDB_V2_URL): {o.why}"
        o = sink.probe(check_point(hostname(), time.time_ns()))
        token_from = s.token_source()
        if o.ok:
            return True, f"{s.url}: bucket {s.bucket!r} (org {s.org!r}) writable, token from {token_from}"
        what = o.why if o.kind in ("fatal", "retry") else f"InfluxDB refused the check point ({o.why})"
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
    from .statedir import StateLock

    cp = d / FILENAME
    if cp.is_dir():
        return False, f"{cp} is a directory, not a checkpoint file: remove it"
    what = f"{d}: writable" + (f", checkpoint of {time.ctime(cp.stat().st_mtime)}" if cp.exists() else "")
    pid = StateLock.holder(d)
    return True, what + (f", in use by the running service (pid {pid})" if pid and pid > 0 else
                         ", in use by the running service" if pid else "")


CHECKS: list[tuple[str, Callable[[Settings], Result]]] = [
    ("journal", check_journal), ("models", check_models), ("ollama", check_ollama),
    ("influxdb", check_influx), ("state", check_state),
]


def run_checks(settings: Settings, out: TextIO) -> int:
    failed = 0
    checks = CHECKS if not settings.follow_file else [("file", check_follow_file)] + CHECKS[1:]
    for name, fn in checks:
        try:
            ok, what = fn(settings)
        except Exception as exc:  # a check must report, never crash the others
            ok, what = False, f"{type(exc).__name__}: {exc}"
        failed += ok is False
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[ok]
        print(f"{mark} {name:<9} {what}", file=out, flush=True)
    return 1 if failed else 0
