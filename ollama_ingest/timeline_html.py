"""``ollama-ingest timeline --html out.html``: the model lifecycle timeline as one self-contained HTML page.

The same layers as the Grafana dashboards (the journal's Step 12 picture), read with the same queries
(``report.py``): per host, one row per series (``model (ctx: N)``) holding a grey session from load to unload,
a blue load block, green request bars, yellow warning markers and a red unload marker; a time axis, a legend
and hover details. Inline SVG, a little inline CSS and JS (tooltips, drag to zoom, double-click to reset);
no external assets.

Every drawn element carries ``data-kind``, ``data-start-ms``, ``data-end-ms``, ``data-series`` and
``data-host``; each host's plot area is ``<rect class="plot" data-t0-ms data-t1-ms>``, so a test can check that
an element sits where its data says.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import report
from .timeline_assets import _CSS, _JS

WIDTH = 1280
LABEL_W = 300
PAD_R = 24
ROW_H = 26
AXIS_H = 30
HEAD_H = 30
PLOT_X = LABEL_W + 12
PLOT_W = WIDTH - PLOT_X - PAD_R

AUTO_FIT_SHARE = 0.1
LEGEND = (("session", "session: loaded, from load start to unload"), ("load", "model load"),
          ("request", "request (start → end)"), ("warning", "warning"), ("unload", "unload"))
_STEPS_MS = [s * 1000 for s in (1, 2, 5, 10, 15, 30)] + [m * 60_000 for m in (1, 2, 5, 10, 15, 30)] + \
    [h * 3_600_000 for h in (1, 2, 3, 6, 12)] + [d * 86_400_000 for d in (1, 2, 7, 14, 30, 90, 365)]


@dataclass
class Item:
    kind: str
    host: str
    series: str
    start_ms: float
    end_ms: float
    tip: list[str]
    model: str = ""


@dataclass
class HostView:
    host: str
    rows: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    t0_ms: float = 0.0
    t1_ms: float = 0.0


@dataclass
class TimelineData:
    window: report.Window
    hosts: dict[str, HostView]
    language: str = ""

    @property
    def count(self) -> dict[str, int]:
        out = {k: 0 for k in report.LAYERS}
        for hv in self.hosts.values():
            for it in hv.items:
                out[it.kind] += 1
        return out


def _ms(ns: int) -> float:
    return ns / 1e6


def _fmt_time(ms: float, with_ms: bool = True) -> str:
    t = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S") + (f".{int(ms % 1000):03d}" if with_ms else "") + " UTC"


def _fmt_dur(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms"
    s = ms / 1000
    if s < 120:
        return f"{s:.2f} s"
    m, s = divmod(int(round(s)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def _row_key(r: dict) -> str:
    return r.get("series") or r.get("model") or "(unknown model)"


def collect(reader, window: report.Window, *, fit: bool | None = False) -> TimelineData:
    """Read the layers through ``reader`` (``report.FluxReader`` or ``report.InfluxQLReader``) and lay them out.

    ``fit``: True zooms each host to its data, False draws the whole window, None (auto) zooms a host whose
    data covers less than ``AUTO_FIT_SHARE`` of the window (a week's window around ten minutes of data would
    draw slivers)."""
    sessions = reader.rows(report.SESSIONS, window)
    loads = reader.rows(report.LOADS, window)
    requests = reader.rows(report.REQUESTS, window)
    warnings = reader.rows(report.WARNINGS, window)
    w0, w1 = window.start.timestamp() * 1000, window.stop.timestamp() * 1000
    hosts: dict[str, HostView] = {}

    def hv(host: str) -> HostView:
        return hosts.setdefault(host, HostView(host))

    spans: dict[tuple[str, str], list[tuple[float, float, str]]] = {}  # (host, model) → session spans
    for s in sessions:
        start, end = _ms(s["time_ns"]), float(s.get("end", _ms(s["time_ns"])))
        host, series, model = s.get("host", ""), _row_key(s), s.get("model", "")
        spans.setdefault((host, model), []).append((start, end, series))
        state = "still loaded" if s.get("open") else f"unloaded: {s.get('unload_reason', 'unknown')}"
        tip = [f"session {series}", f"{_fmt_time(start)} → {_fmt_time(end)} ({_fmt_dur(end - start)})", state]
        if s.get("evidence"):
            tip.append(f"evidence: {s['evidence']}")
        tip.append(f"requests: {s.get('requests', 0)}")
        hv(host).items.append(Item("session", host, series, start, end, tip, model))
        if not s.get("open") and w0 <= end <= w1:
            hv(host).items.append(Item("unload", host, series, end, end, [
                f"unload {series}", _fmt_time(end), f"reason: {s.get('unload_reason', 'unknown')}",
                f"evidence: {s.get('evidence', '-') or '-'}"], model))
    for ld in loads:
        start = _ms(ld["time_ns"])
        end = float(ld.get("end", start + float(ld.get("load_s", 0)) * 1000))
        host, series = ld.get("host", ""), _row_key(ld)
        hv(host).items.append(Item("load", host, series, start, end, [
            f"load {series}", f"{_fmt_time(start)} → {_fmt_time(end)}", f"load time: {ld.get('load_s', '?')} s",
            *([f"gpu layers: {ld['gpu_layers']}"] if "gpu_layers" in ld else [])], ld.get("model", "")))
    for rq in requests:
        start = _ms(rq["time_ns"])
        # start is exact to the ns, end only to the ms: the exact end is start + latency
        end = start + float(rq["latency_ms"]) if "latency_ms" in rq else float(rq.get("end", start))
        host, series = rq.get("host", ""), _row_key(rq)
        hv(host).items.append(Item("request", host, series, start, end, [
            f"{rq.get('method', '')} {rq.get('endpoint', '')} → {rq.get('status', '?')}",
            f"{series}", f"{_fmt_time(start)} ({_fmt_dur(float(rq.get('latency_ms', end - start)))})",
            f"attribution: {rq.get('attribution', '-')}"], rq.get("model", "")))
    for ev in warnings:
        t = _ms(ev["time_ns"])
        host, model = ev.get("host", ""), ev.get("model", "")
        candidates = spans.get((host, model), [])
        series = min(candidates, key=lambda c: 0 if c[0] <= t <= c[1] else min(abs(t - c[0]), abs(t - c[1])))[2] \
            if candidates else (model or "(no model)")
        extra = [f"{k}: {ev[k]}" for k in ("seconds", "limit", "prompt", "error", "what") if k in ev]
        hv(host).items.append(Item("warning", host, series, t, t, [
            f"warning {ev.get('kind', '')}", f"{model}", _fmt_time(t), str(ev.get("message", ""))[:300], *extra],
            model))

    for view in hosts.values():
        view.rows = sorted({it.series for it in view.items})
        order = {k: i for i, k in enumerate(report.LAYERS)}
        view.items.sort(key=lambda it: (order[it.kind], it.start_ms))
        lo = min((it.start_ms for it in view.items), default=w0)
        hi = max((it.end_ms for it in view.items), default=w1)
        zoom = fit if fit is not None else (hi - lo) < AUTO_FIT_SHARE * (w1 - w0)
        if zoom and view.items:
            pad = max((hi - lo) * 0.02, 1000)
            view.t0_ms, view.t1_ms = max(lo - pad, 0), hi + pad
        else:
            view.t0_ms, view.t1_ms = w0, w1
    return TimelineData(window, dict(sorted(hosts.items())), getattr(reader, "language", ""))


def _ticks(t0: float, t1: float, target: int = 10) -> tuple[list[float], float]:
    span = max(t1 - t0, 1)
    step = next((s for s in _STEPS_MS if span / s <= target), _STEPS_MS[-1])
    first = math.ceil(t0 / step) * step
    return [first + i * step for i in range(int((t1 - first) // step) + 1)], step


def _tick_label(ms: float, step: float) -> str:
    t = datetime.fromtimestamp(ms / 1000, timezone.utc)
    if step >= 86_400_000:
        return t.strftime("%Y-%m-%d")
    if (t.hour, t.minute, t.second) == (0, 0, 0):  # midnight: say which day
        return t.strftime("%m-%d %H:%M")
    return t.strftime("%H:%M:%S" if step < 60_000 else "%H:%M")


def _a(v) -> str:
    return html.escape(str(v), quote=True)


def _x(ms: float, t0: float, t1: float) -> float:
    return PLOT_X + (min(max(ms, t0), t1) - t0) / (t1 - t0) * PLOT_W


def _host_svg(view: HostView) -> str:
    t0, t1 = view.t0_ms, view.t1_ms
    if t1 <= t0:
        t1 = t0 + 1000
    rows_h = max(len(view.rows), 1) * ROW_H
    height = HEAD_H + rows_h + AXIS_H
    out = [f'<svg class="host" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" data-host="{_a(view.host)}" role="img" '
           f'aria-label="timeline of {_a(view.host)}">',
           f'<text class="hosttitle" x="8" y="20">{_a(view.host or "(no host)")}</text>',
           f'<text class="range" x="{WIDTH - PAD_R}" y="20" text-anchor="end">{_a(_fmt_time(t0, False))} → '
           f'{_a(_fmt_time(t1, False))}</text>']
    top = HEAD_H
    out.append(f'<rect class="plot" x="{PLOT_X}" y="{top}" width="{PLOT_W}" height="{rows_h}" '
               f'data-t0-ms="{t0:.3f}" data-t1-ms="{t1:.3f}"/>')
    row_y = {}
    for i, name in enumerate(view.rows):
        y = top + i * ROW_H
        row_y[name] = y
        out.append(f'<rect class="row {"odd" if i % 2 else "even"}" x="0" y="{y}" width="{WIDTH}" height="{ROW_H}" '
                   f'data-series="{_a(name)}"/>')
        label = name if len(name) <= 44 else name[:41] + "…"
        out.append(f'<text class="rowlabel" x="{LABEL_W}" y="{y + ROW_H / 2 + 4}" text-anchor="end">'
                   f'<title>{_a(name)}</title>{_a(label)}</text>')
    ticks, step = _ticks(t0, t1)
    out.append('<g class="axis">')
    for tk in ticks:
        x = _x(tk, t0, t1)
        out.append(f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{top}" y2="{top + rows_h + 4}"/>'
                   f'<text x="{x:.2f}" y="{top + rows_h + 18}" text-anchor="middle">{_a(_tick_label(tk, step))}</text>')
    out.append("</g>")
    out.append('<g class="items">')
    for it in view.items:
        if it.end_ms < t0 or it.start_ms > t1 or it.series not in row_y:
            continue
        y = row_y[it.series]
        x0, x1 = _x(it.start_ms, t0, t1), _x(it.end_ms, t0, t1)
        attrs = (f'data-kind="{it.kind}" data-start-ms="{it.start_ms:.3f}" data-end-ms="{it.end_ms:.3f}" '
                 f'data-series="{_a(it.series)}" data-host="{_a(it.host)}" data-tip="{_a(chr(10).join(it.tip))}"')
        title = f"<title>{_a(chr(10).join(it.tip))}</title>"
        if it.kind in ("session", "load", "request"):
            inset = {"session": 2, "load": 5, "request": 8}[it.kind]
            w = max(x1 - x0, {"session": 2, "load": 2, "request": 1.5}[it.kind])
            out.append(f'<rect class="item {it.kind}" x="{x0:.2f}" y="{y + inset}" width="{w:.2f}" '
                       f'height="{ROW_H - 2 * inset}" rx="2" {attrs}>{title}</rect>')
        elif it.kind == "warning":
            cx, cy = x0, y + 7
            out.append(f'<path class="item warning" d="M{cx - 6:.2f},{cy - 5} L{cx + 6:.2f},{cy - 5} L{cx:.2f},{cy + 6} Z" '
                       f'data-cy="{cy}" {attrs}>{title}</path>')
        else:  # unload
            out.append(f'<rect class="item unload" x="{x0 - 1.5:.2f}" y="{y + 1}" width="3" height="{ROW_H - 2}" '
                       f'{attrs}>{title}</rect>')
    out.append("</g></svg>")
    return "\n".join(out)


def _legend() -> str:
    parts = []
    for kind, text in LEGEND:
        if kind == "warning":
            shape = '<path class="warning" d="M2,3 L14,3 L8,14 Z"/>'
        elif kind == "unload":
            shape = '<rect class="unload" x="6.5" y="1" width="3" height="16"/>'
        else:
            h = {"session": 14, "load": 10, "request": 6}[kind]
            shape = f'<rect class="{kind}" x="0" y="{(18 - h) / 2}" width="16" height="{h}" rx="2"/>'
        parts.append(f'<span data-legend="{kind}"><svg width="16" height="18" aria-hidden="true">{shape}</svg>'
                     f"{_a(text)}</span>")
    return '<div class="legend">' + "".join(parts) + "</div>"


def render_html(data: TimelineData, *, title: str = "Ollama model timeline", source: str = "") -> str:
    w = data.window
    counts = data.count
    meta = (f"window {_fmt_time(w.start.timestamp() * 1000, False)} → {_fmt_time(w.stop.timestamp() * 1000, False)}"
            f" · hosts: {', '.join(data.hosts) or 'none'} · {counts['session']} sessions, {counts['load']} loads, "
            f"{counts['request']} requests, {counts['warning']} warnings, {counts['unload']} unloads")
    if source:
        meta += f" · read from {source}"
    body = [f"<h1>{_a(title)}</h1>", f'<div class="meta">{_a(meta)}</div>', _legend(),
            '<div class="hint">Hover for details · drag across a host to zoom · double-click to reset · times in UTC'
            "</div>"]
    if not data.hosts:
        body.append('<div class="empty" id="empty">No Ollama activity in this window. Try a longer --since, or '
                    "check --host and the bucket.</div>")
    for view in data.hosts.values():
        body.append(_host_svg(view))
    js = _JS % {"plot_x": PLOT_X, "plot_w": PLOT_W, "steps": json.dumps(_STEPS_MS)}
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_a(title)}</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<style>{_CSS}</style>\n</head>\n<body>\n" + "\n".join(body) +
            f'\n<div id="tip"></div>\n<script>{js}</script>\n</body>\n</html>\n')


def write_timeline(reader, window: report.Window, path, *, fit: bool | None = False, title: str | None = None,
                   source: str = "") -> TimelineData:
    """Read, lay out and write the page; returns what was drawn."""
    from pathlib import Path

    data = collect(reader, window, fit=fit)
    Path(path).write_text(render_html(data, title=title or "Ollama model timeline", source=source),
                          encoding="utf-8")
    return data
