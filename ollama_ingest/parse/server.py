"""Server start and configuration, and the v0.30.1+ line that names the loaded model."""

from __future__ import annotations

import re

from ..entry import Entry
from ..events import ServerConfig, ServerListening, TemplateSelection
from .common import base, kv, on_msg, short_model_name, to_int
from .units import parse_duration_ns


def parse_env_map(text: str) -> dict[str, str]:
    """``map[A:1 B: C:[x y]]`` (Go %v of a map[string]string) → dict. Brackets nest in values."""
    inner = text.strip()
    if inner.startswith("map[") and inner.endswith("]"):
        inner = inner[4:-1]
    out: dict[str, str] = {}
    depth, start = 0, 0
    items = []
    for i, ch in enumerate(inner):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == " " and depth == 0:
            items.append(inner[start:i])
            start = i + 1
    items.append(inner[start:])
    key = None
    for item in items:
        k, sep, v = item.partition(":")
        if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
            out[k] = v
            key = k
        elif key is not None and item:
            out[key] += " " + item  # a value with a space outside brackets
    return out


def _config_from_env(e: Entry, env: dict[str, str]) -> ServerConfig:
    keep = env.get("OLLAMA_KEEP_ALIVE")
    try:
        keep_ns = parse_duration_ns(keep) if keep else None
    except ValueError:
        keep_ns = None
    return ServerConfig(**base(e), env=env, keep_alive_ns=keep_ns,
                        num_parallel=to_int(env.get("OLLAMA_NUM_PARALLEL")),
                        max_loaded_models=to_int(env.get("OLLAMA_MAX_LOADED_MODELS")),
                        models_dir=env.get("OLLAMA_MODELS") or None, debug=env.get("OLLAMA_DEBUG"))


class CutLine(ValueError):
    """A line that ends before its value does (hard-wrapped by a terminal, cut by a pager): a counted skip."""


@on_msg("server config")
def server_config(e: Entry, line: str, msg: str) -> ServerConfig:
    env = kv(line).get("env", "")
    if not env.rstrip().endswith("]"):  # the map was cut: the next entry holds the rest of the line
        raise CutLine("cut short")
    return _config_from_env(e, parse_env_map(env))


_GOLOG_CONFIG = re.compile(r'INFO server config env="(.*)"\s*$')


def parse_golog_server_config(e: Entry, text: str) -> ServerConfig | None:
    """v0.1.34–v0.6.8, text after the Go-log prefix: ``INFO server config env="map[…]"``; None if cut."""
    m = _GOLOG_CONFIG.match(text)
    if not m:
        return None
    from .logfmt import go_unquote

    env = go_unquote(m.group(1))
    return _config_from_env(e, parse_env_map(env)) if env.endswith("]") else None


_LISTENING = re.compile(r"Listening on (\S+)(?: \(version ([^)]+)\))?")


@on_msg("Listening on ", prefix=True)
def listening(e: Entry, line: str, msg: str) -> ServerListening | None:
    return parse_listening(e, msg)


def parse_listening(e: Entry, msg: str) -> ServerListening | None:
    """``Listening on 127.0.0.1:11434 (version 0.3.5)``; before v0.1.4 (Go log) without the version."""
    m = _LISTENING.match(msg)
    return ServerListening(**base(e), address=m.group(1), version=m.group(2)) if m else None


@on_msg("template selection")
def template_selection(e: Entry, line: str, msg: str) -> TemplateSelection | None:
    ref = kv(line).get("model")
    if not ref:
        return None
    return TemplateSelection(**base(e), model_name=short_model_name(ref), model_ref=ref)
