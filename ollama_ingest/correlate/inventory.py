"""What models a host has: name ↔ model blob ↔ manifest digest, from every place that can tell.

Sources, in the order they are asked: the manifests under OLLAMA_MODELS (exact, offline), the ``ollama``
CLI (``ollama list`` + ``ollama show --modelfile``), the HTTP API (``/api/tags`` + ``/api/show``), and an
inventory file written by ``ollama-ingest inventory --json`` on the Ollama host (for backfill elsewhere).
The ``ollama list`` ID and the API's ``digest`` are the *manifest* digest, not the blob in ``--model``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from .names import MODEL_LAYER, ModelNames, name_from_manifest_path

log = logging.getLogger("ollama_ingest.inventory")

DEFAULT_MODEL_DIRS = ("/usr/share/ollama/.ollama/models", "~/.ollama/models", "/root/.ollama/models",
                      "/var/lib/ollama", "/var/lib/ollama/models")
_FROM_BLOB = re.compile(r"^FROM\s+\S*?sha256[-:]([0-9a-f]{64})\s*$", re.M)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    blob: str  # model-layer sha256 hex ("" when unknown)
    digest: str = ""  # manifest sha256 hex
    size_bytes: int = 0
    source: str = ""


def model_dirs(extra: list[str | os.PathLike] | None = None, env: dict | None = None) -> list[Path]:
    env = os.environ if env is None else env
    dirs = [Path(d) for d in (extra or [])]
    if env.get("OLLAMA_MODELS"):
        dirs.append(Path(env["OLLAMA_MODELS"]))
    dirs += [Path(os.path.expanduser(d)) for d in DEFAULT_MODEL_DIRS]
    seen, out = set(), []
    for d in dirs:
        if d not in seen and has_manifests(d):
            seen.add(d)
            out.append(d)
    return out


_unreadable_said: set[Path] = set()


def has_manifests(models_dir: Path) -> bool:
    """Whether ``models_dir/manifests`` is a directory. A candidate this user may not even look at (``/root``
    under ``ProtectHome=``, another user's home) is skipped, said once at DEBUG: never fatal."""
    try:
        return (models_dir / "manifests").is_dir()
    except OSError as exc:  # PermissionError: Path.is_dir() only swallows "does not exist"
        if models_dir not in _unreadable_said:
            _unreadable_said.add(models_dir)
            log.debug("skipping models dir %s: %s", models_dir, exc.strerror or exc)
        return False


def from_manifests(models_dir: str | os.PathLike) -> list[ModelInfo]:
    root = Path(models_dir) / "manifests"
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for fn in files:
            path = Path(dirpath) / fn
            try:
                raw = path.read_bytes()
                doc = json.loads(raw)
                layers = doc.get("layers") or []
                size = sum(int(x.get("size", 0)) for x in layers if isinstance(x, dict))
                size += int((doc.get("config") or {}).get("size", 0))
            except (OSError, ValueError, AttributeError, TypeError):
                continue
            blob = next((str(x.get("digest", "")).split(":", 1)[-1] for x in layers
                         if isinstance(x, dict) and x.get("mediaType") == MODEL_LAYER), "")
            out.append(ModelInfo(name=name_from_manifest_path(path.relative_to(root)), blob=blob,
                                 digest=hashlib.sha256(raw).hexdigest(), size_bytes=size, source="manifests"))
    return sorted(out, key=lambda m: m.name)


def from_cli(ollama: str | None = None, timeout: float = 10.0) -> list[ModelInfo]:
    """``ollama list`` then ``ollama show --modelfile`` per name. Empty when the CLI is absent or fails."""
    exe = ollama or shutil.which("ollama")
    if not exe:
        return []
    try:
        listing = subprocess.run([exe, "list"], capture_output=True, text=True, timeout=timeout, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    out = []
    for line in listing.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 2:
            continue
        name, short_id = parts[0], parts[1]
        try:
            mf = subprocess.run([exe, "show", "--modelfile", name], capture_output=True, text=True,
                                timeout=timeout, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            mf = ""
        m = _FROM_BLOB.search(mf)
        out.append(ModelInfo(name=name, blob=m.group(1) if m else "", digest=short_id, source="cli"))
    return out


def from_api(url: str) -> list[ModelInfo]:
    """``/api/tags`` + ``/api/show`` (its modelfile's ``FROM …/blobs/sha256-<hex>``). Empty if unreachable."""
    from ..sources import ollama_api

    try:
        tags = ollama_api.tags(url)
    except (OSError, ValueError):
        return []
    out = []
    for t in tags:
        name = str(t.get("name") or t.get("model") or "")
        try:
            mf = str(ollama_api.show(url, name).get("modelfile", ""))
        except (OSError, ValueError):
            mf = ""
        m = _FROM_BLOB.search(mf)
        out.append(ModelInfo(name=name, blob=m.group(1) if m else "", digest=str(t.get("digest") or ""),
                             size_bytes=int(t.get("size") or 0), source="api"))
    return out


def load_file(path: str | os.PathLike) -> list[ModelInfo]:
    """The JSON ``ollama-ingest inventory --json`` prints. Raises ValueError with the reason if malformed."""
    try:
        doc = json.loads(Path(path).read_text())
        return [ModelInfo(**{k: m[k] for k in ("name", "blob", "digest", "size_bytes", "source") if k in m})
                for m in doc["models"]]
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not an inventory file ({exc})") from exc


def dump(infos: list[ModelInfo]) -> str:
    return json.dumps({"models": [asdict(m) for m in infos]}, indent=2, sort_keys=True)


def gather(models_dirs: list | None = None, ollama_url: str | None = None, use_cli: bool = True,
           inventory_files: list | None = None) -> list[ModelInfo]:
    infos: list[ModelInfo] = []
    for f in inventory_files or []:
        infos += load_file(f)
    for d in model_dirs(models_dirs):
        infos += from_manifests(d)
    have = {(m.name, m.blob) for m in infos}
    extra = (from_cli() if use_cli else []) + (from_api(ollama_url) if ollama_url else [])
    infos += [m for m in extra if (m.name, m.blob) not in have and m.blob]
    return infos


def names_from(infos: list[ModelInfo]) -> ModelNames:
    by_blob: dict[str, set[str]] = {}
    for m in infos:
        if m.blob:
            by_blob.setdefault(m.blob, set()).add(m.name)
    return ModelNames({b: sorted(n, key=lambda x: (len(x), x)) for b, n in by_blob.items()})
