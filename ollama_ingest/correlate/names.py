"""Model blob sha256 → model names (gathered by correlate/inventory.py).

The runner's ``--model …/blobs/sha256-<hex>`` is the model-layer digest, not the ``ollama list`` ID
(that is the manifest digest). One blob can carry several names (tags sharing a manifest, models
built FROM the same weights): the label is the shortest, then alphabetically first; all are kept.
"""

from __future__ import annotations

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

    def blob_of(self, name: str) -> str | None:
        """The blob a name (``gemma3:12b``, as /api/ps shows it) stands for, if exactly one has it."""
        found = [b for b, names in self.by_blob.items() if name in names]
        return found[0] if len(found) == 1 else None
