#!/usr/bin/env bash
# Install (or upgrade) ollama-ingest as a systemd service, from this checkout. Idempotent: run it again
# after `git pull` to upgrade; settings and the token are never overwritten.
#
#   sudo systemd/install.sh [--prefix /opt/ollama-ingest] [--no-start]
#   systemd/install.sh --root DIR [--no-venv]     (stage the files under DIR: packaging, tests)
#
# It makes a venv under the prefix with the package in it, puts the command on PATH (a symlink in
# /usr/local/bin), installs the unit, creates /etc/ollama-ingest/config.toml (commented defaults) and
# /etc/ollama-ingest/influx-token (empty, 0600; the unit passes it as the credential "influx-token"),
# writes a drop-in that lets the service read the models dir and reach Ollama, then enables and
# (re)starts the service, unless the token file is still empty.
set -euo pipefail

PREFIX=/opt/ollama-ingest
ROOT=
START=1
VENV=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --prefix=*) PREFIX="${1#*=}"; shift ;;
    --root) ROOT="$2"; shift 2 ;;
    --root=*) ROOT="${1#*=}"; shift ;;
    --no-start) START=0; shift ;;
    --no-venv) VENV=0; shift ;;
    -h | --help) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${ROOT%/}"
if [ -n "$ROOT" ]; then
  START=0  # staging: no systemctl, no apt
elif [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo $0), or stage with --root DIR" >&2
  exit 1
fi
say() { echo "install.sh: $*" >&2; }

# -- 1. build dependencies of systemd-python, when installing for real --------------------------------
if [ -z "$ROOT" ] && [ "$VENV" = 1 ] && command -v dpkg-query >/dev/null 2>&1; then
  need=()
  for p in python3 python3-venv python3-dev gcc pkg-config libsystemd-dev; do
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" = "ii " ] || need+=("$p")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    say "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${need[@]}" \
      || { apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${need[@]}"; }
  fi
fi

# -- 2. the venv --------------------------------------------------------------------------------------
if [ "$VENV" = 1 ]; then
  if [ ! -x "$ROOT$PREFIX/venv/bin/python" ]; then
    say "creating $ROOT$PREFIX/venv"
    mkdir -p "$ROOT$PREFIX"
    python3 -m venv "$ROOT$PREFIX/venv"
  fi
  say "installing ollama-ingest from $SRC"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$ROOT$PREFIX/venv/bin/pip" install -q --upgrade "$SRC"
fi

# -- 3. the command on PATH (README's next step runs it) ------------------------------------------------
BIN_DIR="$ROOT/usr/local/bin"
install -d -m 0755 "$BIN_DIR"
if [ -e "$BIN_DIR/ollama-ingest" ] && [ ! -L "$BIN_DIR/ollama-ingest" ]; then
  say "$BIN_DIR/ollama-ingest exists and is not our symlink: left alone (run $PREFIX/venv/bin/ollama-ingest)"
else
  ln -sfn "$PREFIX/venv/bin/ollama-ingest" "$BIN_DIR/ollama-ingest"
fi

# -- 4. the unit --------------------------------------------------------------------------------------
UNIT_DIR="$ROOT/etc/systemd/system"
install -d -m 0755 "$UNIT_DIR" "$UNIT_DIR/ollama-ingest.service.d"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
sed "s#^ExecStart=/opt/ollama-ingest/venv/bin/ollama-ingest#ExecStart=$PREFIX/venv/bin/ollama-ingest#" \
  "$SRC/systemd/ollama-ingest.service" >"$tmp"
install -m 0644 "$tmp" "$UNIT_DIR/ollama-ingest.service"

# -- 5. config and token (kept when present) ----------------------------------------------------------
CONF_DIR="$ROOT/etc/ollama-ingest"
install -d -m 0755 "$CONF_DIR"
if [ ! -e "$CONF_DIR/config.toml" ]; then
  install -m 0644 "$SRC/systemd/config.toml.example" "$CONF_DIR/config.toml"
  say "wrote $CONF_DIR/config.toml (all defaults, commented): set url, org, bucket"
fi
if [ ! -e "$CONF_DIR/influx-token" ]; then
  (umask 077 && : >"$CONF_DIR/influx-token")
  say "created $CONF_DIR/influx-token (empty): put the InfluxDB token in it"
fi
chmod 0600 "$CONF_DIR/influx-token"

# -- 6. read access to the models dir, the address of Ollama ------------------------------------------------------------------
ollama_env() {  # the value of $1 in ollama.service's Environment= (empty when unset)
  [ -z "$ROOT" ] && command -v systemctl >/dev/null 2>&1 || return 0
  systemctl show -p Environment --value ollama.service 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p" | tail -n1 || true
}
models="$(ollama_env OLLAMA_MODELS)"
models="${models:-/usr/share/ollama/.ollama/models}"
ollama_host="$(ollama_env OLLAMA_HOST)"
{
  echo "# written by install.sh: read access to the Ollama models dir ($models); rerun install.sh to refresh"
  echo "[Service]"
  if getent group ollama >/dev/null 2>&1; then
    echo "SupplementaryGroups=ollama"  # added to the unit's systemd-journal
  fi
  case "$models" in
    /home/* | /root/*) echo "ProtectHome=read-only" ;;
  esac
  echo "Environment=OLLAMA_MODELS=$models"
  if [ -n "$ollama_host" ]; then
    echo "Environment=OLLAMA_HOST=$ollama_host"  # where Ollama listens (its API: /api/ps, names)
  fi
} >"$tmp"
install -m 0644 "$tmp" "$UNIT_DIR/ollama-ingest.service.d/10-models.conf"

# -- 7. enable and (re)start, once there is a token --------------------------------------------------------
if [ "$START" = 1 ]; then
  systemctl daemon-reload
  if [ ! -s "$CONF_DIR/influx-token" ]; then
    # enabled without a token, the next boot would leave a failed unit
    say "not enabling yet: $CONF_DIR/influx-token is empty. Set url, org, bucket in $CONF_DIR/config.toml," \
        "put the token in $CONF_DIR/influx-token, run 'ollama-ingest check', then: systemctl enable --now ollama-ingest"
    say "done"
    exit 0
  fi
  systemctl enable ollama-ingest.service >/dev/null
  if systemctl is-active --quiet ollama-ingest.service; then
    systemctl restart ollama-ingest.service
    say "restarted ollama-ingest.service"
  else
    systemctl start ollama-ingest.service
    say "started ollama-ingest.service"
  fi
  say "check it with: systemctl status ollama-ingest; journalctl -u ollama-ingest -f"
fi
say "done"
