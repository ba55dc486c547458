#!/usr/bin/env bash
# Usage: scripts/setup.sh test [pytest args…] | demo [demo args…] | db start|stop|status | install-deps
#
# Works on a fresh Debian 12 with only git (run as root), or as a user with sudo. Installs the Debian
# packages (Python, build deps of systemd-python, InfluxDB 1.6, systemd-journal-remote, debootstrap and
# systemd-nspawn for the test that boots systemd), makes .venv,
# installs the project into it, then runs the tests or the demo. The tests and the demo start their own
# private influxd on loopback ports; a system influxd the package may have started is not used. `db start`
# keeps one up (data in .db/) for backfilling your own journal after the demo; `db stop` stops it.
set -euo pipefail

MODE="${1:-}"
case "$MODE" in
  test | demo | db | install-deps) shift ;;
  *) echo "usage: $0 test|demo|db|install-deps [args…]" >&2; exit 2 ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(python3 python3-venv python3-dev gcc pkg-config libsystemd-dev influxdb
          systemd-journal-remote systemd ca-certificates chromium
          debootstrap systemd-container  # tests/test_systemd_boot.py boots a Debian with systemd as PID 1
          locales)  # glibc's locale sources: a test checks the month table against them (scripts/gen_month_table.py)
# the dashboard checks run InfluxData's Flux parser and Grafana's schema types under Node.js; a Node.js
# that is already there (e.g. from another repository) is used as it is
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "setup.sh: not root and no sudo: run as root, or install: ${PACKAGES[*]}" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" = "ii " ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}" >&2
  apt_get() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q "$@"; }
  install() { apt_get install -y --no-install-recommends "${missing[@]}"; }
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt_get update
  fi
  install || { apt_get update && install; }
fi

if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv .venv
fi
# Reinstall only when pyproject.toml changed or an import broke (keeps reruns fast and offline).
stamp=.venv/.ollama-ingest-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ] \
   || ! .venv/bin/python -c 'import ollama_ingest, influxdb_client, systemd.journal, pytest' 2>/dev/null; then
  PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/pip install -q -e '.[test]'
  echo "$want" >"$stamp"
fi

case "$MODE" in
  test) exec .venv/bin/python -m pytest "$@" ;;
  demo) exec .venv/bin/python -m testbed.demo "$@" ;;
  db) exec .venv/bin/python -m testbed.serve "$@" ;;
  install-deps) echo "setup.sh: dependencies installed" >&2 ;;
esac
