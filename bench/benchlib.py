"""What the benchmarks share: the generated inputs (made once, kept in bench/data/, git-ignored), the
machine description, and writing docs/benchmarks.md (each benchmark owns its part of the page)."""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
DOCS = os.path.join(ROOT, "docs", "benchmarks.md")
# bench/whole_process.py writes the page above this line; the other benchmarks each own a section below it
KEEP_MARK = "<!-- everything below is kept when bench/whole_process.py rewrites this file -->"
JOURNAL_REMOTE = next((p for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
                       if os.path.exists(p)), "/lib/systemd/systemd-journal-remote")


def size_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def parse_size(s: str) -> int:
    import argparse

    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", s.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {s!r} (e.g. 1000000, 100k, 1m)")
    mult = {"": 1, "k": 1000, "m": 1_000_000}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def generated_export(era: str, n: int, seed: int = 42, day: bool = False) -> tuple[str, dict]:
    """bench/data/<era|day>-<era>-<size>.export from bench/gen_journal.py (made when missing) and its meta."""
    stem = f"{'day' if day else 'era'}-{era}-{size_label(n)}"
    path = os.path.join(DATA, stem + ".export")
    if not os.path.exists(path):
        os.makedirs(DATA, exist_ok=True)
        print(f"generating {path} …", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_journal.py"), "--era", era, "-n", str(n), "--seed",
                        str(seed), "--format", "export", "--out", path, *(["--day"] if day else [])], check=True)
    meta = {}
    if os.path.exists(path + ".meta.json"):
        with open(path + ".meta.json") as f:
            meta = json.load(f)
    return path, meta


def journal_dir(export: str) -> tuple[str, dict]:
    """The export's entries as journal files, made by ``systemd-journal-remote`` in ``<stem>.journal.d/``.

    systemd 252's journal-remote rotates its output at 128 MiB (no option to raise it before v253), so a big
    input becomes several files in that directory; journalctl and ollama-ingest both read the directory."""
    stem = export.removesuffix(".export")
    d = stem + ".journal.d"
    meta = d + ".meta.json"
    if not os.path.isdir(d) or not any(x.endswith(".journal") for x in os.listdir(d)):
        os.makedirs(d, exist_ok=True)
        argv = [JOURNAL_REMOTE, "-o", os.path.join(d, os.path.basename(stem) + ".journal"), export]
        print(f"converting: {shlex.join(argv)} …", file=sys.stderr)
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        with open(meta, "w") as f:
            json.dump({"seconds": round(time.perf_counter() - t0, 2), "command": shlex.join(argv)}, f)
    files = sorted(x for x in os.listdir(d) if x.endswith(".journal"))
    info = {}
    if os.path.exists(meta):
        with open(meta) as f:
            info = json.load(f)
    info.update(files=len(files), bytes_on_disk=sum(os.path.getsize(os.path.join(d, x)) for x in files))
    return d, info


def warm(path: str) -> None:
    """Read a file (or every file of a directory) once, so the first measured run does not pay for the disk."""
    files = [os.path.join(path, x) for x in os.listdir(path)] if os.path.isdir(path) else [path]
    for name in files:
        with open(name, "rb") as fh:
            while fh.read(1 << 24):
                pass


def machine() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        jv = subprocess.run(["journalctl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    except OSError:
        jv = "?"
    try:
        from importlib.metadata import version

        pysd = version("systemd-python")
    except Exception:  # noqa: BLE001
        pysd = "?"
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "?"
    if git("status", "--porcelain", "--", "ollama_ingest"):
        commit += " + uncommitted changes in ollama_ingest/"
    return {"commit": commit, "nproc": os.cpu_count(), "cpu": model, "mem": mem, "python": platform.python_version(),
            "impl": platform.python_implementation(), "kernel": platform.release(), "journalctl": jv,
            "systemd_python": pysd}


def _page() -> tuple[str, str]:
    """The page split at KEEP_MARK: (what whole_process.py writes, the sections below the mark)."""
    text = open(DOCS, encoding="utf-8").read() if os.path.exists(DOCS) else ""
    if KEEP_MARK not in text:
        return text, ""
    head, tail = text.split(KEEP_MARK, 1)
    return head, tail


def write_head(lines: list[str]) -> None:
    """Replace the page above KEEP_MARK; the sections below it stay as they are."""
    _, tail = _page()
    with open(DOCS, "w", encoding="utf-8") as f:
        f.write("\n".join(ln.rstrip() for ln in lines).rstrip("\n") + "\n\n" + KEEP_MARK + (tail or "\n"))


def write_section(title: str, lines: list[str]) -> None:
    """Replace the section headed ``title`` below KEEP_MARK (up to the next ``## ``), or append it at the end.
    Nothing else in the file changes."""
    head, tail = _page()
    body = tail.split("\n")
    new = [ln.rstrip() for ln in lines]
    while new and not new[-1]:
        new.pop()
    try:
        start = body.index(title)
    except ValueError:
        while body and not body[-1].strip():
            body.pop()
        body += ["", *new, ""]
    else:
        end = next((i for i in range(start + 1, len(body)) if body[i].startswith("## ")), len(body))
        body[start:end] = [*new, ""]
    with open(DOCS, "w", encoding="utf-8") as f:
        f.write(head + KEEP_MARK + "\n".join(body).rstrip("\n") + "\n")
