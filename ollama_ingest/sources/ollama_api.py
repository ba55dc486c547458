"""Ollama's HTTP API as a source of evidence: ``/api/ps`` (what is loaded now), ``/api/tags`` and
``/api/show`` (names ↔ blobs). Standard library only; every call has a short timeout."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime

from ..events import ApiPs, PsModel

# OLLAMA_HOST is read once, by config.normalize_ollama_url (Ollama's own rules); callers pass its URL here.


def _get(url: str, timeout: float) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def _post(url: str, body: dict, timeout: float) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def _parse_time_us(text: str | None) -> int | None:
    if not text:
        return None
    try:
        # Go's RFC 3339 with up to 9 fractional digits; Python takes 6
        head, dot, frac = text.partition(".")
        if dot:
            digits = "".join(c for c in frac if c.isdigit())
            zone = frac[len(digits):]
            text = f"{head}.{digits[:6]}{zone}"
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1_000_000)
    except ValueError:
        return None


def poll_ps(url: str, host: str, timeout: float = 2.0, now_us: int | None = None) -> ApiPs:
    """One ``GET /api/ps``. Raises OSError/ValueError when the API does not answer sensibly."""
    doc = _get(url.rstrip("/") + "/api/ps", timeout)
    models = []
    for m in doc.get("models") or []:
        if not isinstance(m, dict):
            continue
        models.append(PsModel(name=str(m.get("name") or m.get("model") or ""), digest=str(m.get("digest") or ""),
                              expires_at_us=_parse_time_us(m.get("expires_at")),
                              context_length=m.get("context_length") if isinstance(m.get("context_length"), int) else None,
                              size_vram=m.get("size_vram") if isinstance(m.get("size_vram"), int) else None))
    ts = now_us if now_us is not None else int(time.time() * 1_000_000)
    return ApiPs(ts_us=ts, host=host, models=models)


def tags(url: str, timeout: float = 3.0) -> list[dict]:
    return list(_get(url.rstrip("/") + "/api/tags", timeout).get("models") or [])


def show(url: str, name: str, timeout: float = 5.0) -> dict:
    return _post(url.rstrip("/") + "/api/show", {"model": name}, timeout)


def reachable(url: str, timeout: float = 2.0) -> str | None:
    """The server's version if it answers, else None."""
    try:
        return str(_get(url.rstrip("/") + "/api/version", timeout).get("version", "?"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
