"""A tiny InfluxDB v2-write → v1 HTTP shim, so influxdb-client's v2 write API can talk to InfluxDB 1.6.

Maps ``POST /api/v2/write?bucket=B&precision=P`` to ``POST /write?db=B&precision=n|u|ms|s`` (body passed
through as is, gzip included), answers ``/health``, proxies ``/ping``, answers ``GET /api/v2/buckets``
from ``SHOW DATABASES``, passes ``/query`` (InfluxQL) through, and maps ``POST /api/v2/delete`` (start, stop, a predicate of ``key="value"`` terms
joined by AND, ``_measurement`` among them) to InfluxQL's ``DELETE FROM … WHERE tag='v' AND time >= … AND
time <= …``. v1 error bodies are rewritten as v2 ones; status and ``Retry-After`` are kept.
When the backend is unreachable the client's connection is reset (like a database that is down), unless
``down_status`` is set. ``fail_next()`` makes the next writes fail with a chosen status (429/503 tests).
InfluxDB 2.x answers a field type conflict with 422 "unprocessable entity", 1.6 with 400: ``v2_conflicts=True``
makes the shim answer like 2.x.
"""

from __future__ import annotations

import collections
import hashlib
import http.client
import json
import re
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

_PRECISION = {"ns": "n", "us": "u", "ms": "ms", "s": "s"}
_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    413: "request too large",
    422: "unprocessable entity",
    429: "too many requests",
    503: "unavailable",
}
_HEALTH = {
    "name": "influxdb",
    "message": "ready for queries and writes",
    "status": "pass",
    "checks": [],
    "version": "1.6-shim",
    "commit": "",
}


class V2Shim:
    def __init__(
        self,
        backend_url: str,
        token: str | None = None,
        timeout: float = 30.0,
        down_status: int | None = None,
        v2_conflicts: bool = False,
    ):
        u = urlsplit(backend_url)
        self.backend = (u.hostname, u.port or 80)
        self.token, self.timeout, self.down_status = token, timeout, down_status
        self.v2_conflicts = v2_conflicts
        self._faults: collections.deque = collections.deque()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def fail_next(
        self, status: int, message: str = "injected failure", retry_after: str | None = None, times: int = 1
    ) -> None:
        self._faults.extend([(status, message, retry_after)] * times)

    def start(self, port: int = 0) -> V2Shim:
        handler = type("Handler", (_Handler,), {"shim": self})
        self._server = _Server(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="v2shim", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def backend_call(self, method: str, path: str, body: bytes | None = None, headers=None, timeout=None):
        conn = http.client.HTTPConnection(*self.backend, timeout=timeout or self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.headers, r.read()
        finally:
            conn.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up is no error
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    shim: V2Shim
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, obj=None, headers=None, body: bytes = b"") -> None:
        if obj is not None:
            body = json.dumps(obj).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if obj is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str, retry_after: str | None = None) -> None:
        code = _CODES.get(status, "internal error" if status >= 500 else "invalid")
        headers = {"X-Platform-Error-Code": code, **({"Retry-After": retry_after} if retry_after else {})}
        self._send(status, {"code": code, "message": message}, headers)

    def _backend_down(self, exc: OSError) -> None:
        if self.shim.down_status:
            return self._error(self.shim.down_status, f"influxdb unreachable: {exc}")
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _route(self) -> None:
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if u.path == "/health":
            return self._health()
        if u.path == "/ping":
            return self._proxy(self.command, "/ping")
        if u.path == "/query":  # InfluxQL passes through: one URL writes (v2) and reads (v1)
            ctype = {"Content-Type": self.headers["Content-Type"]} if self.headers.get("Content-Type") else {}
            return self._proxy_raw(self.command, self.path, body, ctype)
        if self.shim.token is not None and self.headers.get("Authorization") != f"Token {self.shim.token}":
            return self._error(401, "unauthorized access")
        if u.path == "/api/v2/write" and self.command == "POST":
            return self._write(q, body)
        if u.path == "/api/v2/delete" and self.command == "POST":
            return self._delete(q, body)
        if u.path == "/api/v2/buckets" and self.command == "GET":
            return self._buckets(q.get("name"))
        self._error(404, "path not found")

    do_GET = do_POST = do_HEAD = _route

    def _health(self) -> None:
        try:
            ok = self.shim.backend_call("GET", "/ping", timeout=2)[0] == 204
        except OSError:
            ok = False
        self._send(
            200 if ok else 503,
            {**_HEALTH, **({} if ok else {"status": "fail", "message": "influxdb unreachable"})},
        )

    def _proxy(
        self, method: str, path: str, body: bytes | None = None, headers=None, bucket: str = ""
    ) -> None:
        try:
            status, h, data = self.shim.backend_call(method, path, body, headers)
        except OSError as e:
            return self._backend_down(e)
        if status < 300:
            keep = {k: v for k, v in h.items() if k.lower().startswith("x-influxdb") or k.lower() == "date"}
            return self._send(status, headers=keep, body=data)
        try:
            msg = json.loads(data)["error"]
        except (ValueError, KeyError, TypeError):
            msg = data.decode("utf-8", "replace").strip() or h.get("X-Influxdb-Error", "")
        if status == 404 and msg.startswith("database not found"):
            msg = f'bucket "{bucket}" not found'
        if status == 400 and self.shim.v2_conflicts and msg.startswith("partial write: field type conflict"):
            status, msg = 422, "failure writing points to database: " + msg
        self._error(status, msg, h.get("Retry-After"))

    def _proxy_raw(self, method: str, path: str, body: bytes, headers: dict) -> None:
        try:
            status, h, data = self.shim.backend_call(method, path, body, headers)
        except OSError as e:
            return self._backend_down(e)
        keep = {k: v for k, v in h.items() if k.lower() in ("content-type", "date") or k.lower().startswith("x-influxdb")}
        self._send(status, headers=keep, body=data)

    def _write(self, q: dict, body: bytes) -> None:
        if self.shim._faults:
            return self._error(*self.shim._faults.popleft())
        if not q.get("bucket"):
            return self._error(400, "bucket not specified")
        precision = _PRECISION.get(q.get("precision", "ns"))
        if precision is None:
            return self._error(400, f"invalid precision {q['precision']!r}: use ns, us, ms or s")
        headers = {k: self.headers[k] for k in ("Content-Type", "Content-Encoding") if self.headers.get(k)}
        path = "/write?" + urlencode({"db": q["bucket"], "precision": precision})
        self._proxy("POST", path, body, headers, bucket=q["bucket"])

    def _delete(self, q: dict, body: bytes) -> None:
        if not q.get("bucket"):
            return self._error(400, "bucket not specified")
        try:
            req = json.loads(body)
            start, stop = str(req["start"]), str(req["stop"])
            terms = _parse_predicate(req.get("predicate") or "")
        except (ValueError, KeyError, TypeError) as e:
            return self._error(400, f"invalid request: {e}")
        measurement = terms.pop("_measurement", None)
        where = [f'"{_ident(k)}" = {_literal(v)}' for k, v in terms.items()]
        where += [f"time >= {_literal(start)}", f"time <= {_literal(stop)}"]
        stmt = "DELETE" + (f' FROM "{_ident(measurement)}"' if measurement else "") + " WHERE " + " AND ".join(where)
        params = urlencode({"db": q["bucket"], "q": stmt})
        try:
            status, _, data = self.shim.backend_call("POST", "/query?" + params, b"",
                                                     {"Content-Type": "application/x-www-form-urlencoded"})
        except OSError as e:
            return self._backend_down(e)
        try:
            answer = json.loads(data)
            err = answer.get("error") or next((r["error"] for r in answer.get("results", []) if "error" in r), None)
        except (ValueError, AttributeError, TypeError):
            err = data.decode("utf-8", "replace")[:200] if status != 200 else None
        if err and "database not found" in err:
            return self._error(404, f'bucket "{q["bucket"]}" not found')
        if err or status != 200:
            return self._error(400 if status < 500 else status, err or f"influxdb answered {status}")
        self._send(204)

    def _buckets(self, name: str | None) -> None:
        try:
            status, _, data = self.shim.backend_call("GET", "/query?" + urlencode({"q": "SHOW DATABASES"}))
            if status != 200:
                raise ValueError(f"SHOW DATABASES answered {status}")
            series = json.loads(data)["results"][0].get("series", [{}])
        except (OSError, ValueError, KeyError, IndexError) as e:
            return self._error(503, f"influxdb unreachable: {e}")
        names = [row[0] for row in series[0].get("values", [])]
        if name is not None:
            if name not in names:
                return self._error(404, f'bucket "{name}" not found')
            names = [name]
        org = "0" * 16
        buckets = [
            {
                "id": hashlib.sha256(n.encode()).hexdigest()[:16],
                "orgID": org,
                "type": "user",
                "name": n,
                "retentionRules": [],
                "labels": [],
                "links": {"self": f"/api/v2/buckets/{n}"},
            }
            for n in names
        ]
        self._send(200, {"links": {"self": "/api/v2/buckets"}, "buckets": buckets})


_TERM = re.compile(r'\s*([A-Za-z_][\w.-]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*')
_AND = re.compile(r"AND\s+", re.I)


def _parse_predicate(text: str) -> dict[str, str]:
    """``_measurement="m" AND host="h"`` → {"_measurement": "m", "host": "h"}: the subset of InfluxDB 2.x's
    delete predicate (tag equality joined by AND) that a backfill sends; anything else is an error."""
    terms: dict[str, str] = {}
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None:
            raise ValueError(f"unsupported predicate at {text[pos:pos + 40]!r}")
        terms[m.group(1)] = re.sub(r"\\(.)", r"\1", m.group(2))
        pos = m.end()
        if pos < len(text):
            and_ = _AND.match(text, pos)
            if and_ is None:
                raise ValueError(f"expected AND at {text[pos:pos + 40]!r}")
            pos = and_.end()
    return terms


def _ident(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
