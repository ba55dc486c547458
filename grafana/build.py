"""Build grafana/dashboards/*.json from the queries in ``ollama_ingest/report.py`` (the single source).

    python grafana/build.py           # rewrite the dashboards
    python grafana/build.py --check   # exit 1 if a committed dashboard differs from what this builds

The JSON is plain Grafana dashboard JSON (schemaVersion 39, Grafana 10.4+): the panels use the
InfluxDB data source in Flux mode through the ``datasource`` variable (the provisioned one by default).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from ollama_ingest import report  # noqa: E402

DS = {"type": "influxdb", "uid": "${datasource}"}
PROVISIONED_UID = "ollama-influxdb"
GANTT = "marcusolsson-gantt-panel"
LABEL_FIELDS = ["series", "endpoint", "status", "latency_ms", "attribution", "load_s", "kind", "message",
                "unload_reason", "evidence", "requests"]
STATE_COLORS = {"ollama_session": ("session", report.LAYER_COLORS["session"]),
                "ollama_load": ("load", report.LAYER_COLORS["load"]),
                "ollama_request": ("request", report.LAYER_COLORS["request"])}


def target(ref: str, q: report.Query) -> dict:
    return {"refId": ref, "datasource": DS, "query": q.flux}


def variables() -> dict:
    return {"list": [
        {"type": "datasource", "name": "datasource", "label": "Data source", "query": "influxdb",
         "current": {"text": "Ollama InfluxDB (Flux)", "value": PROVISIONED_UID}, "hide": 0, "refresh": 1,
         "regex": "", "options": []},
        {"type": "textbox", "name": "bucket", "label": "Bucket", "query": "ollama",
         "current": {"text": "ollama", "value": "ollama"}, "hide": 0,
         "description": "The bucket ollama-ingest writes to"},
        {"type": "query", "name": "host", "label": "Host", "datasource": DS,
         "query": report.HOSTS_VARIABLE.flux,
         "multi": True, "includeAll": True, "refresh": 2, "sort": 1, "regex": "",
         "current": {"text": ["All"], "value": ["$__all"]}, "options": [], "hide": 0},
        {"type": "constant", "name": "lookback", "query": report.DEFAULT_LOOKBACK, "hide": 2,
         "description": "How far before the window a session that is still loaded inside it may have begun"},
    ]}


def dashboard(uid: str, title: str, description: str, panels: list[dict], annotations: list[dict],
              links: list[dict]) -> dict:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["ollama", "ollama-ingest"],
        "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1, "timezone": "browser",
        "time": {"from": "now-24h", "to": "now"}, "refresh": "1m", "fiscalYearStartMonth": 0, "liveNow": False,
        "links": links, "templating": variables(),
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
            "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
        }, *annotations]},
        "panels": panels,
    }


def grid(x: int, y: int, w: int, h: int) -> dict:
    return {"x": x, "y": y, "w": w, "h": h}


def gantt_panel(pid: int, y: int) -> dict:
    layers = [report.SESSIONS, report.LOADS, report.REQUESTS, report.WARNINGS, report.UNLOADS]
    return {
        "id": pid, "type": GANTT, "title": "Model lifecycle (Gantt)", "datasource": DS, "gridPos": grid(0, y, 24, 12),
        "description": "Per model: grey session from load to unload, blue load, green requests, yellow warnings, "
                       "red unload. Needs the marcusolsson-gantt-panel plugin, which reads only the first frame: "
                       "every query ends in group() and the Merge transformation stacks the layers in this order.",
        "targets": [target(chr(ord("A") + i), q) for i, q in enumerate(layers)],
        "transformations": [{"id": "merge", "options": {}}],
        "options": {
            "textField": "model", "startField": "_time", "endField": "end", "colorByField": "layer",
            "labelFields": LABEL_FIELDS, "sortBy": "text", "sortOrder": "asc", "showYAxis": True,
            "colors": [{"text": k, "color": report.LAYER_COLORS[k]} for k in report.LAYERS],
            "experiments": {"enabled": False, "lockToExtents": False, "relativeXAxis": False},
        },
        "fieldConfig": {"defaults": {}, "overrides": []},
    }


def state_timeline_panel(pid: int, y: int) -> dict:
    return {
        "id": pid, "type": "state-timeline", "title": "Model lifecycle (State timeline, no plugin needed)",
        "datasource": DS, "gridPos": grid(0, y, 24, 12),
        "description": "The same layers on the core panel: one row per model and layer (a state timeline row "
                       "holds one state at a time), warnings (yellow) and unloads (red) as annotations. "
                       "Each span ends at its `end` (Grafana 10.4+ reads a second time field as the state end).",
        "targets": [target("A", report.SESSIONS), target("B", report.LOADS), target("C", report.REQUESTS)],
        "transformations": [
            {"id": "merge", "options": {}},
            {"id": "filterFieldsByName",
             "options": {"include": {"names": ["_time", "_measurement", "model", "end", "layer"]}}},
            {"id": "convertFieldType",
             "options": {"conversions": [{"targetField": "end", "destinationType": "time"}], "fields": {}}},
            {"id": "sortBy", "options": {"fields": {}, "sort": [{"field": "model"}]}},
            {"id": "partitionByValues",
             "options": {"fields": ["model", "layer"], "keepFields": False, "naming": {"asLabels": True}}},
        ],
        "options": {
            "mergeValues": False, "showValue": "never", "alignValue": "left", "rowHeight": 0.8,
            "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom", "calcs": []},
            "tooltip": {"mode": "single", "sort": "none"},
        },
        "fieldConfig": {
            "defaults": {
                "displayName": "${__field.labels.model} · ${__field.labels.layer}",
                "color": {"mode": "fixed", "fixedColor": "transparent"},
                "custom": {"fillOpacity": 80, "lineWidth": 0},
                "mappings": [{"type": "value", "options": {
                    m: {"text": text, "color": color, "index": i}
                    for i, (m, (text, color)) in enumerate(STATE_COLORS.items())}}],
            },
            "overrides": [],
        },
    }


def table_panel(pid: int, title: str, q: report.Query, pos: dict, overrides: list[dict],
                description: str = "") -> dict:
    return {
        "id": pid, "type": "table", "title": title, "description": description, "datasource": DS, "gridPos": pos,
        "targets": [target("A", q)],
        "options": {"showHeader": True, "cellHeight": "sm", "frameIndex": 0},
        "fieldConfig": {"defaults": {}, "overrides": overrides},
    }


def by_name(name: str, *props: tuple[str, object]) -> dict:
    return {"matcher": {"id": "byName", "options": name},
            "properties": [{"id": k, "value": v} for k, v in props]}


def timeseries_panel(pid: int, title: str, targets: list[dict], pos: dict, unit: str, *, draw: str = "line",
                     stacking: str = "none", display: str = "", overrides: list[dict] | None = None) -> dict:
    return {
        "id": pid, "type": "timeseries", "title": title, "datasource": DS, "gridPos": pos, "targets": targets,
        "options": {"legend": {"showLegend": True, "displayMode": "list", "placement": "bottom", "calcs": []},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "fieldConfig": {
            "defaults": {
                "unit": unit, **({"displayName": display} if display else {}),
                "custom": {"drawStyle": draw, "lineWidth": 1, "fillOpacity": 60 if draw == "bars" else 10,
                           "pointSize": 6, "showPoints": "always" if draw == "points" else "auto",
                           "spanNulls": False, "stacking": {"mode": stacking, "group": "A"}},
            },
            "overrides": overrides or [],
        },
    }


LINKS = [{"title": "Ollama", "type": "dashboards", "tags": ["ollama-ingest"], "asDropdown": False,
          "includeVars": True, "keepTime": True, "icon": "external link", "targetBlank": False, "tooltip": "",
          "url": ""}]


def timeline_dashboard() -> dict:
    ms_time = ("unit", "dateTimeAsIso")
    panels = [
        gantt_panel(1, 0),
        state_timeline_panel(2, 12),
        table_panel(3, "Sessions", report.SESSIONS_TABLE, grid(0, 24, 14, 10), [
            by_name("_time", ("displayName", "start")), by_name("end", ms_time), by_name("series", ("displayName", "model")),
            by_name("unload_reason", ("displayName", "reason")),
        ], "One row per runner lifetime that overlaps the window; open = still loaded"),
        table_panel(4, "Warnings", report.WARNINGS_TABLE, grid(14, 24, 10, 10), []),
    ]
    annotations = [
        {"name": "Warnings", "enable": True, "hide": False, "iconColor": "yellow", "datasource": DS,
         "target": {"refId": "Anno", "query": report.WARNING_MARKS.flux}, "filter": {"exclude": False, "ids": [2]}},
        {"name": "Unloads", "enable": True, "hide": False, "iconColor": "red", "datasource": DS,
         "target": {"refId": "Anno", "query": report.UNLOAD_MARKS.flux}, "filter": {"exclude": False, "ids": [2]}},
    ]
    return dashboard("ollama-timeline", "Ollama timeline",
                     "Model lifecycle per model: sessions, loads, requests, warnings and unloads (ollama-ingest)",
                     panels, annotations, LINKS)


def activity_dashboard() -> dict:
    def tgt(ref, q):
        return target(ref, q)

    panels = [
        timeseries_panel(1, "Requests per interval by model and endpoint", [tgt("A", report.REQUEST_RATE)],
                         grid(0, 0, 12, 8), "short", draw="bars", stacking="normal"),
        timeseries_panel(2, "Latency p50 / p95 by model and endpoint", [tgt("A", report.LATENCY_P50),
                                                                        tgt("B", report.LATENCY_P95)],
                         grid(12, 0, 12, 8), "ms", draw="points", overrides=[
                             {"matcher": {"id": "byFrameRefID", "options": ref},
                              "properties": [{"id": "displayName", "value": f"{name} "
                                              "${__field.labels.model} ${__field.labels.endpoint}"}]}
                             for ref, name in (("A", "p50"), ("B", "p95"))]),
        timeseries_panel(3, "Responses by status class", [tgt("A", report.STATUS_CLASSES)], grid(0, 8, 12, 8),
                         "short", draw="bars", stacking="normal", display="${__field.labels.class}"),
        {
            "id": 4, "type": "bargauge", "title": "Loads per model", "datasource": DS, "gridPos": grid(12, 8, 6, 8),
            "targets": [tgt("A", report.LOAD_COUNT)],
            "options": {"orientation": "horizontal", "displayMode": "basic", "showUnfilled": True,
                        "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom", "calcs": []},
                        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "valueMode": "color", "namePlacement": "auto", "sizing": "auto", "minVizHeight": 16,
                        "minVizWidth": 8, "maxVizHeight": 300},
            "fieldConfig": {"defaults": {"unit": "short", "displayName": "${__field.labels.model}"},
                            "overrides": []},
        },
        timeseries_panel(5, "Load time per model", [tgt("A", report.LOAD_TIME)], grid(18, 8, 6, 8), "s",
                         draw="points", display="${__field.labels.model}"),
        timeseries_panel(6, "VRAM available", [tgt("A", report.VRAM)], grid(0, 16, 24, 8), "bytes",
                         display="${__field.labels.host} ${__field.labels.gpu}"),
    ]
    return dashboard("ollama-activity", "Ollama requests and models",
                     "Request rate, latency, status classes, loads and VRAM (ollama-ingest)", panels, [], LINKS)


DASHBOARDS = {"ollama-timeline.json": timeline_dashboard, "ollama-activity.json": activity_dashboard}


def render(build) -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    out = HERE / "dashboards"
    stale = []
    for name, build in DASHBOARDS.items():
        text, path = render(build), out / name
        if "--check" in argv:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(path)
    if stale:
        print("stale (run python grafana/build.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
