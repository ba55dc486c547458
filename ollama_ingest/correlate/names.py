"""Model blob sha256 → model names, from the manifests under OLLAMA_MODELS.

The runner's ``--model …/blobs/sha256-<hex>`` is the model-layer digest, not the ``ollama list`` ID
(that is the manifest digest). One blob can carry several names (tags sharing a manifest, models
built FROM the same weights): the label is the shortest, then alphabetically first; all are kept.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MODEL_LAYER = "application/vnd.ollama.image.model"
DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"


def name_from_manifest_path(rel: Path) -> str:
    """``registry.ollama.ai/library/llama3/8b`` → ``llama3:8b``; other hosts/namespaces stay visible."""
    parts = rel.parts
    if len(parts) < 4:
        return "/".join(parts)
    host, *middle, model, tag = parts
    path = "/".join([*middle, model])
    if host == DEFAULT_HOST:
        if middle == [DEFAULT_NAMESPACE]:
            path = model
        return f"{path}:{tag}"
    return f"{host}/{path}:{tag}"


def scan_manifests(models_dir: str | os.PathLike) -> dict[str, list[str]]:
    """blob hex → sorted names, for every readable manifest. Unreadable files are passed over."""
    root = Path(models_dir) / "manifests"
    found: dict[str, set[str]] = {}
    if not root.is_dir():
        return {}
    for dirpath, _dirs, files in os.walk(root):
        for fn in files:
            path = Path(dirpath) / fn
            try:
                doc = json.loads(path.read_bytes())
                layers = doc.get("layers") or []
            except (OSError, ValueError, AttributeError):
                continue
            for layer in layers:
                if isinstance(layer, dict) and layer.get("mediaType") == MODEL_LAYER:
                    digest = str(layer.get("digest", ""))
                    hexd = digest.split(":", 1)[-1].split("-", 1)[-1]
                    found.setdefault(hexd, set()).add(name_from_manifest_path(path.relative_to(root)))
    return {k: sorted(v, key=lambda n: (len(n), n)) for k, v in found.items()}


class ModelNames:
    """Resolves blobs to a label; names the log itself gives (template selection) win."""

    def __init__(self, by_blob: dict[str, list[str]] | None = None) -> None:
        self.by_blob: dict[str, list[str]] = dict(by_blob or {})

    def learn(self, blob: str, name: str) -> None:
        names = self.by_blob.setdefault(blob, [])
        if name in names:
            names.remove(name)
        names.insert(0, name)

    def label(self, blob: str | None) -> str:
        if not blob:
            return "unknown"
        names = self.by_blob.get(blob)
        return names[0] if names else f"sha256:{blob[:12]}"

    def all_names(self, blob: str | None) -> list[str]:
        return list(self.by_blob.get(blob or "", []))
