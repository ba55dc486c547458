#!/usr/bin/python3
"""A stand-in for ``ollama serve`` inside the test container (standard library only).

It logs what the test gives it: ``POST /_fake/print`` with lines (bytes, one per line, exactly as
Ollama printed them) writes them to stdout, which systemd puts in the journal as ollama.service's
entries, stamped when they arrive. It answers the API the way an Ollama with no models loaded would
for what ollama-ingest asks: ``/api/version``, ``/api/tags`` (empty). ``/api/ps`` answers 404, so that
nothing the service writes comes from a live poll: everything is a function of the journal, and the
kill drill can compare the database with a replay. ``GET /_fake/seen`` counts the requests by path
(proof that the sandboxed service reached it on loopback).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "0.6.5"


def listen_address(env: str) -> tuple[str, int]:
    host, _, port = (env or "127.0.0.1:11434").rpartition(":")
    return host or "127.0.0.1", int(port or 11434)


def main() -> int:
    if sys.argv[1:] != ["serve"]:
        print("this is a test stand-in for `ollama serve`; nothing else is implemented", file=sys.stderr)
        return 1
    seen: Counter[str] = Counter()
    out_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, doc: dict | None = None) -> None:
            body = json.dumps(doc).encode() if doc is not None else b""
            self.send_response(status)
            if doc is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            seen[path] += 1
            if path == "/api/version":
                self._send(200, {"version": VERSION})
            elif path == "/api/tags":
                self._send(200, {"models": []})
            elif path == "/_fake/seen":
                self._send(200, dict(seen))
            else:
                self._send(404, {"error": "404 page not found"})

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/_fake/print":
                seen[self.path] += 1
                self._send(404, {"error": "404 page not found"})
                return
            with out_lock:
                sys.stdout.buffer.write(body if body.endswith(b"\n") else body + b"\n")
                sys.stdout.buffer.flush()
            self._send(204)

    server = ThreadingHTTPServer(listen_address(os.environ.get("OLLAMA_HOST", "")), Handler)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
