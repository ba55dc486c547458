"""The queries every picture is drawn from: Grafana's panels, ``docs/grafana.md`` and ``ollama-ingest timeline``.

Each query exists twice, in the form Grafana runs it:
- Flux (InfluxDB 2.x/3.x, and 1.8+ with Flux on): at most 8 lines, one measurement, one filter and one pivot
  for a layer; no regexp, no strings package, no join/union/fill. Grafana's variables appear as
  ``"${bucket}"``, ``${host:json}`` (a multi-value host variable as a JSON list), ``${lookback}`` and
  ``v.timeRangeStart``/``v.timeRangeStop``/``v.windowPeriod``.
- InfluxQL (InfluxDB 1.x): ``$timeFilter``, ``/^$host$/``, ``${__from}``/``${__to}`` (ms) and
  ``$__interval`` as Grafana's InfluxQL data source expands them.

``render_flux`` and ``render_influxql`` put concrete values in their place, so the command line (and the
tests) run exactly what the dashboards run. Two readers fetch the timeline layers: ``FluxReader``
(influxdb-client's query API, the product's way) and ``InfluxQLReader`` (HTTP ``/query``, for InfluxDB 1.x,
the test bed and the demo). Neither ever prints the token.

A session is written at its load **start**; one that began before the visible window but is still loaded
inside it is found by reading ``lookback`` (a dashboard constant, 30d) further back and keeping the
sessions whose ``end`` (ms since the epoch) is not before the window's start.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone

# Events drawn as yellow warning markers (docs/schema.md, ollama_event kinds)
WARNING_KINDS = ("vram_timeout", "prompt_truncated", "client_aborted", "model_too_large", "runner_terminated",
                 "load_failed", "runner_not_running", "runtime_oom", "eviction")

# The Step 12 layers, bottom to top, and their colours (Grafana colour names / CSS colours)
LAYERS = ("session", "load", "request", "warning", "unload")
LAYER_COLORS = {"session": "rgba(128, 128, 128, 0.35)", "load": "blue", "request": "green",
                "warning": "yellow", "unload": "red"}

DEFAULT_LOOKBACK = "30d"

_HOSTS = "contains(value: r.host, set: ${host:json})"
_FROM = 'from(bucket: "${bucket}")'
_RANGE = "  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)"
_RANGE_BACK = "  |> range(start: date.sub(d: ${lookback}, from: v.timeRangeStart), stop: v.timeRangeStop)"
_PIVOT = '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
_STILL_LOADED = "  |> filter(fn: (r) => r.end >= int(v: v.timeRangeStart) / 1000000)"
_KINDS = "[" + ", ".join(f'"{k}"' for k in WARNING_KINDS) + "]"
_IQL_HOST = '"host" =~ /^$host$/'
_IQL_KINDS = "(" + " OR ".join(f"\"kind\" = '{k}'" for k in WARNING_KINDS) + ")"


def _m(measurement: str, extra: str = "") -> str:
    return f'  |> filter(fn: (r) => r._measurement == "{measurement}" and {_HOSTS}{extra})'


def _field(measurement: str, field: str, extra: str = "") -> str:
    return _m(measurement, f' and r._field == "{field}"{extra}')


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    flux: str
    influxql: str
    note: str = ""

    @property
    def flux_lines(self) -> int:
        return len(self.flux.splitlines())


def _q(name: str, title: str, flux_lines: list[str], influxql: str, note: str = "") -> Query:
    return Query(name, title, "\n".join(flux_lines), influxql, note)


# -- the timeline layers (one frame each, so every query ends in group()) ------------------------------------
SESSIONS = _q("sessions", "Sessions (grey: load → unload)", [
    'import "date"', _FROM, _RANGE_BACK, _m("ollama_session"), _PIVOT, _STILL_LOADED,
    '  |> set(key: "layer", value: "session")', "  |> group()",
], 'SELECT "host", "model", "series", "end", "open", "unload_reason", "evidence", "requests", "load_s", "ctx" '
   f'FROM "ollama_session" WHERE {_IQL_HOST} AND time >= ${{__from}}ms - $lookback AND time <= ${{__to}}ms '
   'AND "end" >= ${__from}',
   "reads `lookback` further back than the window and keeps the sessions still loaded inside it")

LOADS = _q("loads", "Model loads (blue)", [
    _FROM, _RANGE, _m("ollama_load"), _PIVOT, '  |> set(key: "layer", value: "load")', "  |> group()",
], 'SELECT "host", "model", "series", "load_s", "end", "ctx", "parallel", "gpu_layers", "mem_required_bytes" '
   f'FROM "ollama_load" WHERE {_IQL_HOST} AND $timeFilter')

REQUESTS = _q("requests", "Requests served by a model (green)", [
    _FROM, _RANGE, _m("ollama_request", " and exists r.model"), _PIVOT,
    '  |> set(key: "layer", value: "request")', "  |> group()",
], 'SELECT "host", "model", "series", "endpoint", "method", "status", "latency_ms", "end", "attribution" '
   f'FROM "ollama_request" WHERE {_IQL_HOST} AND "model" != \'\' AND $timeFilter')

WARNINGS = _q("warnings", "Warnings (yellow markers)", [
    _FROM, _RANGE, _m("ollama_event", " and exists r.model"),
    f"  |> filter(fn: (r) => contains(value: r.kind, set: {_KINDS}))", _PIVOT,
    '  |> map(fn: (r) => ({r with end: int(v: r._time) / 1000000, layer: "warning"}))', "  |> group()",
], f'SELECT * FROM "ollama_event" WHERE {_IQL_HOST} AND "model" != \'\' AND {_IQL_KINDS} AND $timeFilter',
   "the Gantt panel needs an end: a marker ends where it starts")

UNLOADS = _q("unloads", "Unloads (red markers, at the end of each closed session)", [
    'import "date"', _FROM, _RANGE_BACK, _m("ollama_session"), _PIVOT,
    "  |> filter(fn: (r) => not r.open and r.end >= int(v: v.timeRangeStart) / 1000000)",
    '  |> map(fn: (r) => ({r with _time: time(v: r.end * 1000000), layer: "unload"}))', "  |> group()",
], 'SELECT "host", "model", "end", "layer", "reason" AS "unload_reason", "evidence", "requests" FROM "ollama_event" '
   f"WHERE {_IQL_HOST} AND \"kind\" = 'unload' AND $timeFilter",
   "from the session, not the unload event: the marker sits exactly where the grey bar ends; InfluxQL cannot "
   "move a point's time, so its version reads the unload event, written at the unload time")

TIMELINE_LAYERS = {"session": SESSIONS, "load": LOADS, "request": REQUESTS, "warning": WARNINGS,
                   "unload": UNLOADS}

# -- the other panels ----------------------------------------------------------------------------------------
REQUEST_RATE = _q("request_rate", "Requests per interval, by model and endpoint", [
    _FROM, _RANGE, _field("ollama_request", "latency_ms"), '  |> group(columns: ["model", "endpoint"])',
    "  |> aggregateWindow(every: v.windowPeriod, fn: count, createEmpty: false)",
], 'SELECT count("latency_ms") FROM "ollama_request" WHERE ' + _IQL_HOST
   + ' AND $timeFilter GROUP BY time($__interval), "model", "endpoint" fill(none)')

LATENCY_P50 = _q("latency_p50", "Latency p50 by model and endpoint (ms)", [
    _FROM, _RANGE, _field("ollama_request", "latency_ms", " and exists r.model"),
    '  |> group(columns: ["model", "endpoint"])',
    "  |> aggregateWindow(every: v.windowPeriod, fn: median, createEmpty: false)",
], 'SELECT percentile("latency_ms", 50) AS "p50" FROM "ollama_request" WHERE ' + _IQL_HOST
   + " AND \"model\" != '' AND $timeFilter GROUP BY time($__interval), \"model\", \"endpoint\" fill(none)")

LATENCY_P95 = _q("latency_p95", "Latency p95 by model and endpoint (ms)", [
    _FROM, _RANGE, _field("ollama_request", "latency_ms", " and exists r.model"),
    '  |> group(columns: ["model", "endpoint"])',
    "  |> aggregateWindow(every: v.windowPeriod, fn: (column, tables=<-) => tables |> quantile(q: 0.95, "
    "column: column), createEmpty: false)",
], 'SELECT percentile("latency_ms", 95) AS "p95" FROM "ollama_request" WHERE ' + _IQL_HOST
   + " AND \"model\" != '' AND $timeFilter GROUP BY time($__interval), \"model\", \"endpoint\" fill(none)")

STATUS_CLASSES = _q("status_classes", "Responses by status class", [
    _FROM, _RANGE, _field("ollama_request", "status_code"),
    '  |> map(fn: (r) => ({r with class: string(v: r._value / 100) + "xx"}))', '  |> group(columns: ["class"])',
    "  |> aggregateWindow(every: v.windowPeriod, fn: count, createEmpty: false)",
], 'SELECT count("status_code") FROM "ollama_request" WHERE ' + _IQL_HOST
   + ' AND $timeFilter GROUP BY time($__interval), "status" fill(none)',
   "InfluxQL cannot compute a class: its version counts by status code")

LOAD_COUNT = _q("load_count", "Loads per model", [
    _FROM, _RANGE, _field("ollama_load", "load_s"), '  |> group(columns: ["model"])', "  |> count()",
], 'SELECT count("load_s") AS "loads" FROM "ollama_load" WHERE ' + _IQL_HOST + ' AND $timeFilter GROUP BY "model"')

LOAD_TIME = _q("load_time", "Load time per model (s)", [
    _FROM, _RANGE, _field("ollama_load", "load_s"), '  |> group(columns: ["model"])',
], 'SELECT "load_s" FROM "ollama_load" WHERE ' + _IQL_HOST + ' AND $timeFilter GROUP BY "model"')

VRAM = _q("vram", "Available memory by GPU (bytes)", [
    _FROM, _RANGE, _field("ollama_vram", "available_bytes"), '  |> group(columns: ["host", "gpu"])',
], 'SELECT "available_bytes" FROM "ollama_vram" WHERE ' + _IQL_HOST + ' AND $timeFilter GROUP BY "host", "gpu"')

WARNINGS_TABLE = _q("warnings_table", "Warnings", [
    _FROM, _RANGE, _m("ollama_event"), f"  |> filter(fn: (r) => contains(value: r.kind, set: {_KINDS}))", _PIVOT,
    '  |> keep(columns: ["_time", "host", "kind", "model", "message"])', "  |> group()",
], 'SELECT "host", "kind", "model", "message" FROM "ollama_event" WHERE ' + _IQL_HOST + f" AND {_IQL_KINDS} "
   "AND $timeFilter")

SESSIONS_TABLE = _q("sessions_table", "Sessions", [
    'import "date"', _FROM, _RANGE_BACK, _m("ollama_session"), _PIVOT, _STILL_LOADED,
    '  |> keep(columns: ["_time", "host", "series", "end", "unload_reason", "evidence", "requests", "open"])',
    "  |> group()",
], 'SELECT "host", "series", "end", "unload_reason", "evidence", "requests", "open" FROM "ollama_session" '
   f'WHERE {_IQL_HOST} AND time >= ${{__from}}ms - $lookback AND time <= ${{__to}}ms AND "end" >= ${{__from}}')

# -- annotations (markers on the core State timeline panel, which cannot draw instants in a row) --------------
WARNING_MARKS = _q("warning_marks", "Warnings (annotation)", [
    _FROM, _RANGE, _field("ollama_event", "message", " and exists r.model"),
    f"  |> filter(fn: (r) => contains(value: r.kind, set: {_KINDS}))",
    '  |> map(fn: (r) => ({_time: r._time, text: r.model + ": " + r._value, tags: r.kind}))', "  |> group()",
], 'SELECT "message", "model", "kind" FROM "ollama_event" WHERE ' + _IQL_HOST + f" AND {_IQL_KINDS} AND $timeFilter",
   "Grafana takes time, text and tags from the columns of those names")

UNLOAD_MARKS = _q("unload_marks", "Unloads (annotation)", [
    'import "date"', _FROM, _RANGE_BACK, _m("ollama_session"), _PIVOT,
    "  |> filter(fn: (r) => not r.open and r.end >= int(v: v.timeRangeStart) / 1000000)",
    '  |> map(fn: (r) => ({_time: time(v: r.end * 1000000), text: r.model + " unloaded: " + r.unload_reason, '
    "tags: r.evidence}))",
    "  |> group()",
], 'SELECT "message" AS "text", "evidence" AS "tags", "model", "host" FROM "ollama_event" '
   f"WHERE {_IQL_HOST} AND \"kind\" = 'unload' AND $timeFilter")

HOSTS_VARIABLE = Query("host_variable", "host variable", 'import "influxdata/influxdb/schema"\n'
                       'schema.tagValues(bucket: "${bucket}", tag: "host", start: v.timeRangeStart)',
                       'SHOW TAG VALUES WITH KEY = "host"')

ALL = (SESSIONS, LOADS, REQUESTS, WARNINGS, UNLOADS, REQUEST_RATE, LATENCY_P50, LATENCY_P95, STATUS_CLASSES,
       LOAD_COUNT, LOAD_TIME, VRAM, WARNINGS_TABLE, SESSIONS_TABLE, WARNING_MARKS, UNLOAD_MARKS, HOSTS_VARIABLE)


# -- rendering -----------------------------------------------------------------------------------------------
def _flux_time(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _duration(text: str) -> str:
    if not re.fullmatch(r"(\d+(ns|us|ms|s|m|h|d|w))+", text):
        raise ValueError(f"not a duration: {text!r} (e.g. 30d, 12h)")
    return text


def _flux_string(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid Flux string literal (\" \\ \n escapes)


def render_flux(q: Query, *, bucket: str, start: datetime, stop: datetime, hosts: list[str] | None = None,
                lookback: str = DEFAULT_LOOKBACK, window: str = "1m") -> str:
    """The dashboard's Flux with concrete values; no host list means every host."""
    text = q.flux.replace('"${bucket}"', _flux_string(bucket))
    text = text.replace(_HOSTS, f"contains(value: r.host, set: {json.dumps(list(hosts))})" if hosts else "true")
    text = text.replace("${lookback}", _duration(lookback))
    text = text.replace("v.timeRangeStart", _flux_time(start)).replace("v.timeRangeStop", _flux_time(stop))
    return text.replace("v.windowPeriod", _duration(window))


def _regex_alternatives(values: list[str]) -> str:
    return "(" + "|".join(re.sub(r"([\\/.^$|?*+()\[\]{}-])", r"\\\1", v) for v in values) + ")"


def render_influxql(q: Query, *, start: datetime, stop: datetime, hosts: list[str] | None = None,
                    lookback: str = DEFAULT_LOOKBACK, interval: str = "1m") -> str:
    """The dashboard's InfluxQL as Grafana would expand it; no host list means every host."""
    from_ms, to_ms = int(start.timestamp() * 1000), int(stop.timestamp() * 1000)
    text = q.influxql.replace("$timeFilter", f"time >= {from_ms}ms AND time <= {to_ms}ms")
    text = text.replace(_IQL_HOST, f'"host" =~ /^{_regex_alternatives(hosts)}$/' if hosts else '"host" =~ /.*/')
    text = text.replace("${__from}", str(from_ms)).replace("${__to}", str(to_ms))
    return text.replace("$lookback", _duration(lookback)).replace("$__interval", _duration(interval))


# -- readers -------------------------------------------------------------------------------------------------
class ReadError(RuntimeError):
    """The database could not be read (the message never holds the token)."""


@dataclass
class Window:
    start: datetime
    stop: datetime
    hosts: list[str] | None = None
    lookback: str = DEFAULT_LOOKBACK


def _as_ns(value) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        ts = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        delta = ts - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    raise TypeError(f"not a time: {value!r}")


class InfluxQLReader:
    """InfluxQL over HTTP ``/query`` (InfluxDB 1.x, or 2.x's v1 compatibility API with a DBRP mapping)."""

    language = "influxql"

    def __init__(self, url: str, database: str, token: str = "", *, timeout_s: float = 30.0,
                 verify_ssl: bool = True, ca_file=None) -> None:
        import ssl

        self.url, self.database, self._token = url.rstrip("/"), database, token
        self.timeout_s = timeout_s
        self._ssl = None
        if not verify_ssl:
            self._ssl = ssl._create_unverified_context()  # the user asked for --insecure
        elif ca_file:
            self._ssl = ssl.create_default_context(cafile=str(ca_file))

    def close(self) -> None:
        pass  # one connection per query: nothing held

    def __repr__(self) -> str:
        return f"InfluxQLReader({self.url!r}, {self.database!r})"

    def text(self, q: Query, w: Window) -> str:
        return render_influxql(q, start=w.start, stop=w.stop, hosts=w.hosts, lookback=w.lookback)

    def rows(self, q: Query, w: Window) -> list[dict]:
        influxql = self.text(q, w)
        body = urllib.parse.urlencode({"db": self.database, "q": influxql, "epoch": "ns"}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = "Token " + self._token
        req = urllib.request.Request(self.url + "/query", data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s, context=self._ssl) as r:
                answer = json.load(r)
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")[:300]
            raise ReadError(f"{self.url}/query ({q.name}): HTTP {e.code}: {detail.strip()}") from None
        except (OSError, ValueError) as e:
            raise ReadError(f"{self.url}/query ({q.name}): {e}") from None
        rows: list[dict] = []
        for result in answer.get("results", []):
            if "error" in result:
                raise ReadError(f"{q.name}: {result['error']}")
            for series in result.get("series", []):
                tags, cols = series.get("tags", {}), series["columns"]
                for values in series.get("values", []):
                    row = {**tags, **{c: v for c, v in zip(cols, values, strict=True) if v is not None}}
                    if "time" in row:
                        row["time_ns"] = row.pop("time")
                    rows.append(row)
        if "error" in answer:
            raise ReadError(f"{q.name}: {answer['error']}")
        return rows


class FluxReader:
    """Flux through influxdb-client's query API (InfluxDB 2.x/3.x, 1.8+ with ``flux-enabled``)."""

    language = "flux"

    def __init__(self, url: str, org: str, bucket: str, token: str, *, timeout_s: float = 30.0,
                 verify_ssl: bool = True, client=None, ca_file=None) -> None:
        self.url, self.org, self.bucket = url.rstrip("/"), org, bucket
        if client is None:
            from influxdb_client import InfluxDBClient

            client = InfluxDBClient(url=self.url, token=token, org=org, timeout=int(timeout_s * 1000),
                                    verify_ssl=verify_ssl, **({"ssl_ca_cert": str(ca_file)} if ca_file else {}))
        self.client = client

    def __repr__(self) -> str:
        return f"FluxReader({self.url!r}, org={self.org!r}, bucket={self.bucket!r})"

    def text(self, q: Query, w: Window) -> str:
        return render_flux(q, bucket=self.bucket, start=w.start, stop=w.stop, hosts=w.hosts, lookback=w.lookback)

    def rows(self, q: Query, w: Window) -> list[dict]:
        flux = self.text(q, w)
        try:
            tables = self.client.query_api().query(flux, org=self.org)
        except Exception as e:  # ApiException, urllib3 errors: keep the message, never the headers
            status = getattr(e, "status", None)
            reason = getattr(e, "reason", None) or type(e).__name__
            body = (getattr(e, "body", None) or "")
            body = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
            where = f"HTTP {status} {reason}" if status else str(reason)
            raise ReadError(f"{self.url} ({q.name}): {where} {body[:300]}".strip()) from None
        rows: list[dict] = []
        for table in tables:
            for rec in table.records:
                row = {k: v for k, v in rec.values.items()
                       if v is not None and k not in ("result", "table", "_start", "_stop", "_measurement")}
                row["time_ns"] = _as_ns(row.pop("_time"))
                rows.append(row)
        return rows

    def close(self) -> None:
        self.client.close()
