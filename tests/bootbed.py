"""A Debian bookworm booted with systemd as PID 1, for the tests that need a real systemd.

- ``base_root()``: a minimal bookworm root made by debootstrap, cached under ``$OLLAMA_INGEST_TEST_CACHE``
  (default /var/cache/ollama-ingest-test) in a directory named by a hash of its recipe, so reruns on the
  same machine reuse it (built under a lock, renamed into place when complete);
- ``Machine``: one boot of it. The cached root stays read-only under an overlay; the machine's changes
  go to a directory of its own and are thrown away with it. ``systemd-nspawn --boot --register=no
  --keep-unit`` boots it (``--keep-unit``: on hosts where PID 1 is not systemd nspawn cannot register a
  scope); without ``--private-network`` it shares the host's network, so services on the host's loopback
  (the test InfluxDB) are reachable from inside and the other way round. Commands run inside with
  ``nsenter`` into the namespaces of its PID 1.

A host that cannot do this raises ``CannotBoot`` with the reason; the tests skip with it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("OLLAMA_INGEST_TEST_CACHE", "/var/cache/ollama-ingest-test"))
PIP_CACHE = CACHE / "pip"  # bound to the container's /root/.cache/pip: wheels are built once per machine
SUITE = "bookworm"
# what an Ollama host has before ollama-ingest: systemd, D-Bus, Python 3 (Debian's), the CA certificates
BASE_PACKAGES = ["systemd", "dbus", "python3", "ca-certificates"]
# what systemd/install.sh installs when missing: only downloaded into the root's apt cache, so that
# install.sh's own apt-get install runs for real but without the network
INSTALL_SH_PACKAGES = ["python3-venv", "python3-dev", "gcc", "pkg-config", "libsystemd-dev"]
RECIPE_VERSION = 1  # bump when base_root's steps change
HOSTNAME = "ollama-host"
LOGIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class CannotBoot(Exception):
    """This host cannot build or boot the container; the message says why."""


def why_not() -> str | None:
    """Why this host cannot boot a container (None: it can try)."""
    if os.geteuid() != 0:
        return "booting a container needs root (systemd-nspawn, mount, nsenter)"
    missing = [t for t in ("debootstrap", "systemd-nspawn", "nsenter", "chroot") if shutil.which(t) is None]
    if missing:
        return (f"{', '.join(missing)} not found (Debian packages debootstrap, systemd-container, util-linux; "
                "scripts/setup.sh installs them)")
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "the kernel has no overlay filesystem (the cached root is booted under an overlay)"
    return None


def _run(cmd: list[str], timeout: float, what: str, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if r.returncode != 0:
        raise CannotBoot(f"{what} failed ({' '.join(cmd[:3])}…, exit {r.returncode}): "
                         f"{(r.stderr or r.stdout).strip()[-1500:]}")
    return r


def debian_mirror() -> str:
    """The Debian mirror this host's apt uses (deb.debian.org unless configured otherwise)."""
    texts = []
    for p in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            texts.append(p.read_text())
        except OSError:
            continue
    for text in texts:
        for m in re.finditer(r"(?:^deb\s+(?:\[[^\]]*\]\s+)?|^URIs:\s*)(\S+/debian)/?\s", text, re.M):
            return m.group(1)
    return "http://deb.debian.org/debian"


def recipe() -> dict:
    return {"suite": SUITE, "base": BASE_PACKAGES, "downloaded": INSTALL_SH_PACKAGES, "version": RECIPE_VERSION,
            "mirror": debian_mirror(), "arch": os.uname().machine, "hostname": HOSTNAME}


def base_root() -> Path:
    """The cached root for this recipe; built first if missing (~1 min, needs the Debian mirror)."""
    rec = recipe()
    key = hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()[:16]
    final = CACHE / f"{SUITE}-{key}"
    if (final / "root" / "etc" / "os-release").exists():
        return final / "root"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be building the same root
        if (final / "root" / "etc" / "os-release").exists():
            return final / "root"
        tmp = CACHE / f".build-{key}-{uuid.uuid4().hex[:8]}"
        try:
            _build(tmp / "root", rec)
            (tmp / "recipe.json").write_text(json.dumps(rec, indent=2, sort_keys=True))
            if final.exists():
                shutil.rmtree(final)
            tmp.rename(final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return final / "root"


def _build(root: Path, rec: dict) -> None:
    root.parent.mkdir(parents=True)
    _run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", SUITE, str(root),
          rec["mirror"]], 1200, "debootstrap")

    def chroot(*cmd: str, timeout: float = 600) -> None:
        _run(["chroot", str(root), *cmd], timeout, f"chroot {cmd[0]}",
             env={"PATH": LOGIN_PATH, "DEBIAN_FRONTEND": "noninteractive", "LANG": "C.UTF-8"})

    (root / "etc/hostname").write_text(HOSTNAME + "\n")
    (root / "var/log/journal").mkdir(parents=True, exist_ok=True)  # a persistent journal, as most hosts keep
    # apt's timers must not take the dpkg lock while install.sh runs apt-get
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        (root / "etc/systemd/system" / timer).symlink_to("/dev/null")
    # Ollama's install script: a system user `ollama` with its home in /usr/share/ollama
    chroot("useradd", "--system", "--user-group", "--create-home", "--home-dir", "/usr/share/ollama",
           "--shell", "/bin/false", "ollama")
    chroot("apt-get", "-q", "update")
    chroot("apt-get", "-q", "install", "-y", "--download-only", "--no-install-recommends", *INSTALL_SH_PACKAGES)


def _remove_leftovers() -> None:
    """Machines of a test run that was killed: no systemd-nspawn of theirs runs any more (the pid file
    names it), and they are older than a minute (a run that is just starting has none yet)."""
    runs = CACHE / "runs"
    for d in runs.iterdir() if runs.is_dir() else []:
        try:
            pid = int((d / "nspawn.pid").read_text())
            alive = str(d) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            alive = False
        if not alive and time.time() - d.stat().st_mtime > 60:
            subprocess.run(["umount", "-l", str(d / "merged")], capture_output=True, timeout=60)
            shutil.rmtree(d, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Machine:
    """One boot of the cached root under an overlay; ``sh()`` runs a command inside as root."""

    def __init__(self, base: Path, name: str | None = None) -> None:
        self.base = base
        self.name = name or f"oi-test-{uuid.uuid4().hex[:8]}"
        self.dir = CACHE / "runs" / self.name
        self.root = self.dir / "merged"
        self.log = self.dir / "nspawn.log"
        self.proc: subprocess.Popen | None = None
        self.pid1: int | None = None
        self._mounted = False

    # -- lifecycle ---------------------------------------------------------------------------------
    def mount(self) -> Machine:
        _remove_leftovers()
        for d in ("upper", "work", "merged"):
            (self.dir / d).mkdir(parents=True, exist_ok=True)
        _run(["mount", "-t", "overlay", "overlay", "-o",
              f"lowerdir={self.base},upperdir={self.dir / 'upper'},workdir={self.dir / 'work'}", str(self.root)],
             60, "mounting the overlay")
        self._mounted = True
        return self

    def boot(self, timeout: float = 90) -> float:
        """Boot; returns the seconds until systemd said the system is up."""
        t0 = time.monotonic()
        PIP_CACHE.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                ["systemd-nspawn", "-D", str(self.root), "--boot", "--register=no", "--keep-unit",
                 f"--machine={self.name}", "--console=read-only", "--resolv-conf=copy-host",
                 "--timezone=off", f"--bind={PIP_CACHE}:/root/.cache/pip"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        (self.dir / "nspawn.pid").write_text(str(self.proc.pid))
        while self.pid1 is None:  # the container's systemd: nspawn's child named systemd
            if self.proc.poll() is not None:
                raise CannotBoot(f"systemd-nspawn exited with {self.proc.returncode}: {self.boot_log()}")
            if time.monotonic() - t0 > timeout:
                raise CannotBoot(f"no systemd inside the container after {timeout:.0f} s: {self.boot_log()}")
            kids = subprocess.run(["pgrep", "-P", str(self.proc.pid), "-x", "systemd"], capture_output=True,
                                  text=True).stdout.split()
            self.pid1 = int(kids[0]) if kids else None
            time.sleep(0.1)
        # from here on systemd runs: what goes wrong is the test's or the product's, not the host's
        while True:
            r = self.sh("systemctl is-system-running --wait", check=False, timeout=timeout)
            state = r.stdout.strip()
            if state in ("running", "degraded"):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout or self.proc.poll() is not None:
                raise AssertionError(f"the container's systemd did not come up ({state or r.stderr.strip()}): "
                                     f"{self.boot_log()}")
            time.sleep(0.5)

    def boot_log(self) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        lines = [ln for ln in re.sub(r"\x1b\[[0-9;]*m|\r", "", text).splitlines() if ln.strip()]
        return " | ".join(lines[-6:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nspawn asks the container's systemd to power off
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._mounted:
            subprocess.run(["umount", "-l", str(self.root)], capture_output=True, timeout=60)
            self._mounted = False
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- inside --------------------------------------------------------------------------------------
    def sh(self, script: str, *, check: bool = True, timeout: float = 120, cwd: str = "/",
           env: dict | None = None, input: str | bytes | None = None) -> subprocess.CompletedProcess:
        """``bash -l -c script`` inside, as root with a login shell's environment (PATH from /etc/profile)."""
        assert self.pid1 is not None, "not booted"
        base_env = {"HOME": "/root", "TERM": "dumb", "LANG": "C.UTF-8", "PATH": LOGIN_PATH, **(env or {})}
        cmd = ["nsenter", "-t", str(self.pid1), "-m", "-u", "-i", "-n", "-p", "-r", "-w",
               "env", "-i", *[f"{k}={v}" for k, v in base_env.items()],
               "/bin/bash", "-l", "-c", f"cd {cwd} && {script}"]
        text = not isinstance(input, bytes)
        r = subprocess.run(cmd, capture_output=True, text=text, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"inside the container `{script}` exited with {r.returncode}:\n"
                                 f"{r.stdout}\n{r.stderr}")
        return r

    def path(self, inside: str) -> Path:
        """The host's path of a file inside (the overlay's merged view)."""
        return self.root / inside.lstrip("/")

    def unit(self, name: str, *props: str) -> dict[str, str]:
        r = self.sh(f"systemctl show {name} " + " ".join(f"-p {p}" for p in props))
        return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)

    # -- putting things in before the boot -------------------------------------------------------------
    def copy_checkout(self, dest: str = "/root/ollama-ingest") -> Path:
        """The checkout's files (tracked and untracked, not ignored), as `git clone` would give them."""
        target = self.path(dest)
        target.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           capture_output=True, timeout=60)
        if r.returncode == 0:
            names = [n for n in r.stdout.decode().split("\0") if n and (ROOT / n).is_file()]
        else:  # not a git checkout: everything but the venv and caches
            names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()
                     and not {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"} & set(p.parts)]
        for n in names:
            (target / n).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / n, target / n)
        return target

    def trust_host_cas(self) -> None:
        """This host's CA certificates (a TLS-inspecting proxy's, say) for pip inside, kept across
        update-ca-certificates runs that apt triggers."""
        local = Path("/usr/local/share/ca-certificates")
        if local.is_dir():
            for crt in local.rglob("*.crt"):
                dest = self.path(str(crt))
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(crt, dest)
        bundle = Path("/etc/ssl/certs/ca-certificates.crt")
        if bundle.is_file():
            shutil.copy2(bundle, self.path(str(bundle)))

    def ids(self, user: str) -> tuple[int, int]:
        for line in self.path("/etc/passwd").read_text().splitlines():
            f = line.split(":")
            if f[0] == user:
                return int(f[2]), int(f[3])
        raise KeyError(user)

    def free_port(self) -> int:
        return _free_port()  # the network is the host's
