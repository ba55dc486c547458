"""Bounded tag values for requests: whatever a scanner sends, at most a few dozen series."""

from __future__ import annotations

# Ollama's native API and its OpenAI/Anthropic-compatible routes (server/routes.go, all eras).
KNOWN_ENDPOINTS = frozenset({
    "/", "/api/version", "/api/tags", "/api/ps", "/api/show", "/api/chat", "/api/generate",
    "/api/embed", "/api/embeddings", "/api/pull", "/api/push", "/api/create", "/api/copy",
    "/api/delete", "/api/blobs", "/api/me", "/api/signin", "/api/signout",
    "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/v1/responses",
    "/v1/messages", "/v1/images/generations",
})
MODEL_ENDPOINTS = frozenset({
    "/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/v1/chat/completions",
    "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/messages", "/v1/images/generations",
})
EMBED_ENDPOINTS = frozenset({"/api/embed", "/api/embeddings", "/v1/embeddings"})
METHODS = frozenset({"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})


def endpoint_of(path: str) -> str:
    """``/api/chat?x=1`` → ``/api/chat``; ``/api/blobs/sha256:…`` → ``/api/blobs``; else ``other``."""
    p = path.split("?", 1)[0]
    if len(p) > 1:
        p = p.rstrip("/")
    if p in KNOWN_ENDPOINTS:
        return p
    if p.startswith("/api/blobs/"):
        return "/api/blobs"
    if p.startswith("/v1/models/"):
        return "/v1/models"
    return "other"


def method_of(method: str) -> str:
    return method if method in METHODS else "other"
