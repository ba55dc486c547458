"""Settings: CLI > environment (OLLAMA_INGEST_*, and influxdb-client's INFLUXDB_V2_*) > TOML file.

The TOML file is ``/etc/ollama-ingest/config.toml`` (``OLLAMA_INGEST_CONFIG`` names another one); its keys
are the setting names below, flat. The token comes from ``token`` (environment or file), else
``token_file``, else the systemd credential ``influx-token`` (``LoadCredential=``, ``$CREDENTIALS_DIRECTORY``),
else the file the unit loads that credential from, ``influx-token`` beside the config file (so ``check`` and
``run`` outside the unit use exactly the unit's settings); it is a ``SecretStr`` and never printed or logged.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import stat
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .sinks.backoff import MAX_BACKOFF_S

log = logging.getLogger("ollama_ingest.config")

DEFAULT_CONFIG = "/etc/ollama-ingest/config.toml"
DEFAULT_STATE_DIR = "/var/lib/ollama-ingest"
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
CREDENTIAL_NAME = "influx-token"
ENV_PREFIX = "OLLAMA_INGEST_"


class ConfigError(Exception):
    """A configuration problem the user must fix; the message names the setting."""


def _alias(name: str, *more: str) -> AliasChoices:
    return AliasChoices(ENV_PREFIX + name.upper(), *more, name)


def default_state_dir() -> Path:
    """``$STATE_DIRECTORY`` (systemd's ``StateDirectory=``; the first if several), else /var/lib/ollama-ingest."""
    env = os.environ.get("STATE_DIRECTORY", "")
    first = env.split(":", 1)[0]
    return Path(first) if first else Path(DEFAULT_STATE_DIR)


_PORT = re.compile(r"[+-]?\d+")


def _split_host_port(hostport: str) -> tuple[str, str] | None:
    """Go's ``net.SplitHostPort``: ``host:port`` or ``[v6]:port``; None where Go returns an error."""
    i = hostport.rfind(":")
    if i < 0:
        return None
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or end + 1 != i:
            return None
        host, j, k = hostport[1:end], 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            return None
    if "[" in hostport[j:] or "]" in hostport[k:]:
        return None
    return host, hostport[i + 1:]


def normalize_ollama_url(value: str | None) -> str:
    """``OLLAMA_HOST`` as Ollama reads it (``envconfig.Host`` then ``ConnectableHost``), as a URL to connect to.

    Surrounding spaces and quotes are dropped; no scheme means ``http`` and port 11434 (``ollama.com`` means
    ``https://ollama.com:443``); ``http://`` without a port means 80 and ``https://`` 443; a bad port falls
    back to the default; a path is kept (a proxy prefix). Listen-on-all addresses (``0.0.0.0``, ``::``) and an
    empty host (``:11434``) become loopback. The only error is a scheme other than http/https.
    """
    s = (value or "").strip().strip("\"'").strip()
    default_port = "11434"
    scheme, sep, hostport = s.partition("://")
    if not sep:
        scheme, hostport = "http", s
        if s == "ollama.com":
            scheme, hostport = "https", "ollama.com:443"
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    else:
        raise ValueError(f"must be an http:// or https:// URL, not {value!r}")
    hostport, _, path = hostport.partition("/")
    split = _split_host_port(hostport)
    if split is None:
        host, port = "127.0.0.1", default_port
        bare = hostport.strip("[]")
        if _ip(bare) is not None:
            host = str(_ip(bare))
        elif hostport:
            host = hostport
    else:
        host, port = split
    if not _PORT.fullmatch(port) or not 0 <= int(port) <= 65535:
        port = default_port
    ip = _ip(host)
    if host == "" or (ip is not None and ip.is_unspecified):  # a listen address: connect on loopback
        host = "::1" if ip is not None and ip.version == 6 else "127.0.0.1"
    netloc = f"[{host}]:{int(port)}" if ":" in host else f"{host}:{int(port)}"
    path = path.rstrip("/")
    return f"{scheme}://{netloc}" + (f"/{path}" if path else "")


def _ip(text: str):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    # -- InfluxDB ---------------------------------------------------------------------------------
    url: str = Field("http://127.0.0.1:8086", validation_alias=_alias("url", "INFLUXDB_V2_URL"))
    org: str = Field("ollama", validation_alias=_alias("org", "INFLUXDB_V2_ORG"))
    bucket: str = Field("ollama", validation_alias=_alias("bucket", "INFLUXDB_V2_BUCKET"))
    token: SecretStr | None = Field(None, validation_alias=_alias("token", "INFLUXDB_V2_TOKEN"))
    token_file: Path | None = None
    verify_ssl: bool = Field(True, validation_alias=_alias("verify_ssl", "INFLUXDB_V2_VERIFY_SSL"))
    # a CA bundle (PEM) to verify the server's certificate with, e.g. a private CA; influxdb-client's own name
    ca_file: Path | None = Field(None, validation_alias=_alias("ca_file", "INFLUXDB_V2_SSL_CA_CERT"))
    timeout_s: float = Field(10.0, gt=0)
    batch_size: int = Field(5000, ge=1)
    flush_interval_s: float = Field(1.0, gt=0)
    max_backoff_s: float = Field(MAX_BACKOFF_S, gt=0)  # the one default (sinks/backoff.py)
    # -- the journal ------------------------------------------------------------------------------
    unit: str = "ollama.service"
    journal_files: list[Path] = []  # follow these .journal files instead of the local journal
    journal_dir: Path | None = None  # or a directory of journal files
    start_at: Literal["head", "tail"] = "head"  # where `run` starts when it has no checkpoint yet
    follow_file: Path | None = None  # `run` follows this log file (Ollama's output, Docker's json-file log) instead
    host: str | None = None  # host tag of every entry (default: the one the input names, else this machine's name)
    # -- the service ------------------------------------------------------------------------------
    state_dir: Path = Field(default_factory=default_state_dir)
    selfmon_interval_s: float = Field(60.0, ge=0)  # 0: no self-monitoring points
    inventory_interval_s: float = Field(3600.0, ge=0)  # ollama_model_inventory points; 0: never
    ps_interval_s: float = Field(2.0, ge=0)  # poll the Ollama API's /api/ps for unload evidence; 0: never
    # a quiet journal is complete up to now - settle_s: held requests are released and keep-alive
    # expiries inferred without waiting for the next line; < 0: only ever on the next line
    settle_s: float = 2.0
    # -- Ollama -----------------------------------------------------------------------------------
    models_dir: list[Path] = []
    ollama_url: str = Field(DEFAULT_OLLAMA_URL, validation_alias=_alias("ollama_url", "OLLAMA_HOST"))

    @field_validator("url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        u = urlsplit(v)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"must be an http:// or https:// URL, not {v!r}")
        return v.rstrip("/")

    @field_validator("ollama_url", mode="before")
    @classmethod
    def _check_ollama_url(cls, v):
        return normalize_ollama_url(v) if isinstance(v, str) else v

    @field_validator("org", "bucket", "unit")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        from pydantic_settings import TomlConfigSettingsSource

        path = config_path()
        toml = TomlConfigSettingsSource(settings_cls, toml_file=path if path.is_file() else None)
        return (init_settings, env_settings, toml)

    # -- the token --------------------------------------------------------------------------------
    def token_source(self) -> str:
        """Where the token comes from, for messages (never the token itself)."""
        if self.token is not None:
            return "token"
        if self.token_file:
            return f"token_file {self.token_file}"
        cred = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred and (Path(cred) / CREDENTIAL_NAME).is_file():
            return f"systemd credential {CREDENTIAL_NAME}"
        path = unit_token_file()
        try:
            empty = path.stat().st_size == 0
        except OSError:
            return "none"
        if not os.access(path, os.R_OK):
            return f"none (cannot read {path}: run as root)"
        return f"{path}" + (" (empty)" if empty else "")

    def resolved_token(self) -> str:
        """The token from the setting, a token_file, or a systemd credential; never logged.

        A token_file that cannot be read is a ``ConfigError``; one that others may read is a warning.
        """
        if self.token is not None:
            return self.token.get_secret_value()
        if self.token_file:
            p = Path(self.token_file)
            try:
                mode = p.stat().st_mode
                text = p.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"bad setting token_file: cannot read {p}: {exc.strerror}") from None
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                log.warning("token_file %s is readable by others (mode %04o): chmod 600 it",
                            p, stat.S_IMODE(mode))
            return text.strip()
        cred = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred:
            try:
                return (Path(cred) / CREDENTIAL_NAME).read_text(encoding="utf-8").strip()
            except OSError:
                pass
        try:  # outside the unit (check, run by hand as root): the file the unit's credential comes from
            return unit_token_file().read_text(encoding="utf-8").strip()
        except OSError:
            return ""


def config_path() -> Path:
    return Path(os.environ.get("OLLAMA_INGEST_CONFIG") or DEFAULT_CONFIG)


def _check_named_config() -> None:
    """A file named by OLLAMA_INGEST_CONFIG must be there (a typo would silently drop every setting in it);
    the default file may be absent. ``/dev/null`` is an empty configuration."""
    named = os.environ.get("OLLAMA_INGEST_CONFIG")
    if not named:
        return
    p = Path(named)
    if not p.exists():
        raise ConfigError(f"OLLAMA_INGEST_CONFIG names {p}, which does not exist")
    if p.is_dir():
        raise ConfigError(f"OLLAMA_INGEST_CONFIG names {p}, which is a directory, not a TOML file")


def unit_token_file() -> Path:
    """The file the unit passes as the credential ``influx-token`` (``LoadCredential=``): beside the config."""
    return config_path().parent / CREDENTIAL_NAME


def _env_names(field: str) -> list[str]:
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return [c for c in alias.choices if isinstance(c, str) and c.isupper()]
    return [ENV_PREFIX + field.upper()]


def describe_validation_error(exc: ValidationError, cli: dict | None = None) -> str:
    """One line naming the first bad key and where its value came from (never echoing a token)."""
    err = exc.errors()[0]
    loc = [str(x) for x in err.get("loc", ())]
    key = loc[0] if loc else "config"
    # an alias in the location (e.g. INFLUXDB_V2_URL) → the setting's name
    for name in Settings.model_fields:
        if key in _env_names(name):
            key = name
    where = ""
    if cli and key in cli:
        where = f" (--{key.replace('_', '-')})"
    elif key in Settings.model_fields:
        envs = [n for n in _env_names(key) if n in os.environ]
        where = f" (from {envs[0]})" if envs else f" (in {config_path()})"
    elif err.get("type") == "extra_forbidden":
        return f"unknown setting {key!r} in {config_path()} (see systemd/config.toml.example)"
    shown = ""
    if "input" in err and key not in ("token",) and not isinstance(err["input"], dict):
        shown = f" = {err['input']!r}"
    path = ".".join(loc[1:])
    return f"bad setting {key}{'[' + path + ']' if path else ''}{shown}{where}: {err.get('msg')}"


def unknown_env_names() -> list[str]:
    """OLLAMA_INGEST_* variables that are not settings (a typo is otherwise silently ignored)."""
    known = {ENV_PREFIX + n.upper() for n in Settings.model_fields} | {ENV_PREFIX + "CONFIG"}
    return sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)


def load_settings(cli: dict | None = None) -> Settings:
    """Settings with the CLI values on top; raises ``ConfigError`` with one clear line."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pydantic-settings reads TOML with tomli there
        import tomli as tomllib

    _check_named_config()
    overrides = {k: v for k, v in (cli or {}).items() if v is not None}
    if "token_file" in overrides:  # --token-file on the command line beats a token from env or file
        overrides["token"] = None
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, overrides)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"bad config file {config_path()}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {config_path()}: {exc.strerror}") from None
    for name in unknown_env_names():
        log.warning("environment variable %s is not a setting: ignored", name)
    _warn_if_open_with_token(config_path(), tomllib)
    return settings


def _warn_if_open_with_token(path: Path, tomllib) -> None:
    """A config file holding ``token`` that others may read: warn, as for a token_file (never the token)."""
    try:
        mode = path.stat().st_mode
        if not mode & (stat.S_IRWXG | stat.S_IRWXO):
            return
        with open(path, "rb") as f:
            holds_token = "token" in tomllib.load(f)
    except (OSError, ValueError):  # TOMLDecodeError is a ValueError; a bad file was reported already
        return
    if holds_token:
        log.warning("config file %s holds the token and is readable by others (mode %04o): move the token "
                    "to the systemd credential %s or a token_file, or chmod 600 it",
                    path, stat.S_IMODE(mode), CREDENTIAL_NAME)
