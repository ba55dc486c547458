"""The options several subcommands share, each defined once with its help and default, and the settings they
override. A subcommand adds a named group (``add_group(p, "influx")``); ``cli_settings(args)`` then gives
``load_settings`` exactly the values of the options that subcommand declared (the namespace records them)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field

SETTING = "(default: the setting {key}: {env}, config.toml, else {default})"
_RECORD = "cli_settings_from"  # the namespace attribute listing (dest, setting, convert) of the declared options


def setting_default(key: str, env: str, default: str) -> str:
    """The help's ``(default: …)`` of an option that overrides a setting."""
    return SETTING.format(key=key, env=env, default=default)


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    setting: str | None = None  # the Settings key this option overrides, if it does
    convert: Callable[[object], object] = lambda v: v  # CLI value → setting value (None: not given)
    kwargs: dict = field(default_factory=dict)

    @property
    def dest(self) -> str:
        return self.flags[-1].lstrip("-").replace("-", "_")


def _env(key: str) -> str:
    return f"OLLAMA_INGEST_{key.upper()} / INFLUXDB_V2_{key.upper()}"


GROUPS: dict[str, tuple[str | None, list[Option]]] = {  # title None: among the subcommand's own options
    "influx": ("InfluxDB", [
        Option(("--url",), "InfluxDB URL " + setting_default("url", _env("url"), "http://127.0.0.1:8086"), "url"),
        Option(("--org",), "InfluxDB organization " + setting_default("org", _env("org"), "ollama"), "org"),
        Option(("--bucket",), "bucket to write to " + setting_default("bucket", _env("bucket"), "ollama"), "bucket"),
        Option(("--token-file",), "read the InfluxDB token from FILE (mode 0600) " + setting_default(
            "token / token_file", _env("token"), "the systemd credential influx-token, else the file influx-token beside "
            "the config file, as the unit loads it; none: writes without a token"), "token_file",
            kwargs={"metavar": "FILE"}),
        Option(("--ca-file",), "CA certificates to verify InfluxDB's TLS certificate with " + setting_default(
            "ca_file", "OLLAMA_INGEST_CA_FILE / INFLUXDB_V2_SSL_CA_CERT", "the system's CAs"), "ca_file",
            kwargs={"metavar": "PEM"}),
        Option(("--insecure",), "do not verify InfluxDB's TLS certificate (default: verified; setting verify_ssl)",
               "verify_ssl", lambda v: False if v else None, {"action": "store_true"}),
    ]),
    "models": ("model names", [
        Option(("--models-dir",), "an OLLAMA_MODELS tree (manifests/…) to name model blobs; repeatable (default: "
               "the setting models_dir, OLLAMA_MODELS and the usual places)",
               kwargs={"action": "append", "default": [], "metavar": "DIR"}),
        Option(("--ollama-url",), "Ollama's API, asked for model names " + setting_default(
            "ollama_url", "OLLAMA_INGEST_OLLAMA_URL / OLLAMA_HOST", "http://127.0.0.1:11434"), "ollama_url"),
    ]),
    "unit": (None, [
        Option(("--unit",), "the systemd unit of Ollama " + setting_default(
            "unit", "OLLAMA_INGEST_UNIT", "ollama.service"), "unit"),
    ]),
    "journal": ("the journal followed", [
        Option(("--journal-file",), "follow this .journal file instead of the local journal; repeatable "
               "(default: the local journal)", "journal_files", lambda v: v or None,
               {"action": "append", "default": [], "metavar": "FILE"}),
        Option(("--journal-dir",), "follow the journal files in DIR (default: the local journal)", "journal_dir",
               kwargs={"metavar": "DIR"}),
        Option(("--state-dir",), "checkpoint directory " + setting_default(
            "state_dir", "OLLAMA_INGEST_STATE_DIR", "$STATE_DIRECTORY or /var/lib/ollama-ingest"), "state_dir",
            kwargs={"metavar": "DIR"}),
    ]),
    "writing": (None, [
        Option(("--batch-size",), "points per write " + setting_default(
            "batch_size", "OLLAMA_INGEST_BATCH_SIZE", "5000"), "batch_size", kwargs={"type": int}),
    ]),
}


def add_group(p: argparse.ArgumentParser, name: str, **help_of: str) -> None:
    """Add the options of group ``name`` to ``p``; ``help_of`` replaces an option's own words by dest (the
    ``(default: …)`` part stays the group's)."""
    title, options = GROUPS[name]
    group = p.add_argument_group(title) if title else p
    record = list(p.get_default(_RECORD) or [])
    for opt in options:
        text = opt.help
        if opt.dest in help_of:
            text = help_of[opt.dest] + text[text.index(" (default"):]
        group.add_argument(*opt.flags, help=text, **opt.kwargs)
        if opt.setting:
            record.append((opt.dest, opt.setting, opt.convert))
    p.set_defaults(**{_RECORD: record})


def cli_settings(args: argparse.Namespace) -> dict:
    """The settings the subcommand's declared options override (None where an option was not given)."""
    values = vars(args)
    return {setting: convert(values[dest]) for dest, setting, convert in values[_RECORD]}


def add_verbose(p: argparse.ArgumentParser, top: bool = False) -> None:
    # on the top parser and on every subcommand, so `ollama-ingest backfill -v` works too
    p.add_argument("-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS,
                   help="more messages on stderr: -v for progress notes, -vv for debugging (default: warnings only)")
