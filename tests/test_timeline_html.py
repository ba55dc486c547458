"""``ollama-ingest timeline --html``: one self-contained page with the Step 12 layers, checked in Chromium.

The page is rendered by Debian's headless Chromium: a screenshot must not be blank, and every bar and
marker must sit where its data says (the element boxes Chromium computes, read back with --dump-dom, against
the session/load/request/warning rows in the real InfluxDB 1.6). Chromium missing: skipped, unless CI is set.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ollama_ingest import report, timeline_html
from ollama_ingest.cli import main

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc
START, STOP = "2025-07-22T23:20:00+00:00", "2025-07-23T00:00:00+00:00"  # the seed's first session, host E
WIDE = ("2025-07-22T00:00:00+00:00", "2025-10-15T00:00:00+00:00")  # both fixtures' hosts (E: July, F: October)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1320,900"]

# measures every drawn element (getBoundingClientRect) into data-bbox, then drags across the first host's
# plot from 25 % to 50 % of its width and measures again into data-bbox2 (the zoom re-layout)
PROBE = """<script>
(function () {
  function box(el) { var r = el.getBoundingClientRect();
    return [r.left, r.top, r.width, r.height].map(function (v) { return v.toFixed(2); }).join(','); }
  document.querySelectorAll('rect.plot, rect.row, [data-kind], [data-legend]').forEach(function (el) {
    el.setAttribute('data-bbox', box(el)); });
  document.querySelectorAll('rect.plot').forEach(function (p) {
    p.setAttribute('data-home', p.getAttribute('data-t0-ms') + ',' + p.getAttribute('data-t1-ms')); });
  var svg = document.querySelector('svg.host'); if (!svg) return;
  var plot = svg.querySelector('rect.plot'), r = plot.getBoundingClientRect();
  function ev(type, x) { svg.dispatchEvent(new MouseEvent(type, {clientX: x, clientY: r.top + 5, bubbles: true})); }
  ev('mousedown', r.left + r.width * 0.25); ev('mousemove', r.left + r.width * 0.5); ev('mouseup', r.left + r.width * 0.5);
  plot.setAttribute('data-zoomed', plot.getAttribute('data-t0-ms') + ',' + plot.getAttribute('data-t1-ms'));
  svg.querySelectorAll('[data-kind]').forEach(function (el) {
    el.setAttribute('data-bbox2', el.style.display === 'none' ? 'hidden' : box(el)); });
})();
</script>"""


# -- helpers ---------------------------------------------------------------------------------------------------
def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        if os.environ.get("CI"):
            pytest.fail("chromium not installed (CI is set): apt-get install chromium", pytrace=False)
        pytest.skip("chromium not installed (apt-get install chromium)")
    return exe


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    profile.mkdir()
    r = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def png_pixels(path: Path) -> tuple[int, int, list[list[tuple[int, int, int]]]]:
    """A minimal PNG decoder (8-bit RGB/RGBA, not interlaced: what Chromium writes): width, height, rows."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[j * bpp:j * bpp + 3]) for j in range(width)])
        prev = line
    return width, height, rows


class Elements(HTMLParser):
    """Every element with data attributes, with the host of the <svg> it is in."""

    def __init__(self) -> None:
        super().__init__()
        self.host: str | None = None
        self.items: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "host" in (a.get("class") or ""):
            self.host = a.get("data-host")
        if any(k.startswith("data-") for k in a):
            self.items.append({"tag": tag, "svg_host": self.host, **a})


def bbox(el: dict, key: str = "data-bbox") -> tuple[float, float, float, float]:
    return tuple(float(v) for v in el[key].split(","))


@pytest.fixture
def era_e(influx_db):
    from ollama_ingest.correlate import inventory
    from ollama_ingest.correlate.timeline import Timeline
    from ollama_ingest.pipeline import Pipeline
    from ollama_ingest.sinks.influx import InfluxSink
    from ollama_ingest.sources import open_input

    influx, db = influx_db
    names = inventory.names_from(inventory.from_manifests(str(ROOT / "fixtures" / "models")))
    sink = InfluxSink(influx.v2_url, "org", db, "token")
    Pipeline(Timeline(names), sink).run([open_input(str(ROOT / "fixtures" / f"era-{x}.export")) for x in "ef"])
    sink.close()
    return influx, db


def timeline_cli(influx, db, out: Path, *extra: str, window: tuple[str, str] = (START, STOP)) -> int:
    return main(["timeline", "--influxql", "--url", influx.url, "--bucket", db, "--since", window[0],
                 "--until", window[1], "--html", str(out), *extra])


# -- unit ------------------------------------------------------------------------------------------------------
class FakeReader:
    language = "fake"

    def __init__(self, layers: dict[str, list[dict]]):
        self.layers, self.asked = layers, []

    def close(self) -> None:
        pass

    def rows(self, q, w):
        self.asked.append(q.name)
        return [dict(r) for r in self.layers.get(q.name, [])]


T0 = 1_753_226_783_639  # ms: gemma3:12b's load start in the seed


def fake_layers() -> dict[str, list[dict]]:
    s = "gemma3:12b (ctx: 2048)"
    return {
        "sessions": [{"time_ns": T0 * 10**6, "host": "h<1>", "model": "gemma3:12b", "series": s, "end": T0 + 50_735,
                      "open": False, "unload_reason": "evicted", "evidence": "vram_timeout", "requests": 2},
                     {"time_ns": (T0 + 60_000) * 10**6, "host": "h<1>", "model": "phi4", "series": "phi4 & co",
                      "end": T0 + 90_000, "open": True, "requests": 0}],
        "loads": [{"time_ns": T0 * 10**6, "host": "h<1>", "model": "gemma3:12b", "series": s, "end": T0 + 5_518,
                   "load_s": 5.52}],
        "requests": [{"time_ns": (T0 - 314) * 10**6, "host": "h<1>", "model": "gemma3:12b", "series": s,
                      "end": T0 + 8_790, "latency_ms": 9103.92, "endpoint": "/api/chat", "method": "POST",
                      "status": "200", "attribution": "triggered_load"}],
        "warnings": [{"time_ns": (T0 + 55_780) * 10**6, "host": "h<1>", "model": "gemma3:12b", "kind": "vram_timeout",
                      "message": "gpu VRAM usage didn't recover within timeout", "seconds": 5.04}],
    }


def test_collect_lays_out_the_layers_per_series():
    w = report.Window(datetime.fromtimestamp((T0 - 60_000) / 1000, UTC), datetime.fromtimestamp((T0 + 120_000) / 1000, UTC))
    reader = FakeReader(fake_layers())
    data = timeline_html.collect(reader, w)
    assert reader.asked == ["sessions", "loads", "requests", "warnings"]
    view = data.hosts["h<1>"]
    assert view.rows == ["gemma3:12b (ctx: 2048)", "phi4 & co"]
    kinds = [(it.kind, it.series) for it in view.items]
    assert kinds[:2] == [("session", "gemma3:12b (ctx: 2048)"), ("session", "phi4 & co")]  # bottom layer first
    assert ("unload", "gemma3:12b (ctx: 2048)") in kinds and ("unload", "phi4 & co") not in kinds  # phi4 still open
    warn = next(it for it in view.items if it.kind == "warning")
    assert warn.series == "gemma3:12b (ctx: 2048)"  # 5 s after the unload: the nearest session of that model
    req = next(it for it in view.items if it.kind == "request")
    assert req.end_ms - req.start_ms == pytest.approx(9103.92)  # exact latency, not the ms-rounded end
    assert data.count == {"session": 2, "load": 1, "request": 1, "warning": 1, "unload": 1}


def test_page_is_self_contained_and_escaped():
    w = report.Window(datetime.fromtimestamp((T0 - 60_000) / 1000, UTC), datetime.fromtimestamp((T0 + 120_000) / 1000, UTC))
    page = timeline_html.render_html(timeline_html.collect(FakeReader(fake_layers()), w), title="t <x>")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<title>t &lt;x&gt;</title>" in page
    assert not re.search(r"<(link|img|iframe)\b|<script[^>]+src=|url\(|@import", page)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    external = {m for m in re.findall(r"https?://[^\s\"'<>]+", page)}
    assert external <= {"http://www.w3.org/2000/svg"}, external
    assert 'data-host="h&lt;1&gt;"' in page and "phi4 &amp; co" in page and "h<1>" not in page
    for kind in report.LAYERS:
        assert f'data-kind="{kind}"' in page and f'data-legend="{kind}"' in page
    assert "data-tip=" in page and "<title>" in page


def test_empty_window_says_so():
    w = report.Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
    page = timeline_html.render_html(timeline_html.collect(FakeReader({}), w))
    assert 'id="empty"' in page and "No Ollama activity" in page


def test_flux_is_the_default_backend(monkeypatch, tmp_path):
    used = []

    class Fake(FakeReader):
        def __init__(self, url, org, bucket, token, **kw):
            used.append((url, org, bucket, token))
            super().__init__(fake_layers())

    monkeypatch.setattr(report, "FluxReader", Fake)
    monkeypatch.setenv("OLLAMA_INGEST_TOKEN", "s3cret-token")
    out = tmp_path / "t.html"
    assert main(["timeline", "--url", "http://influx.example:8086", "--org", "o", "--bucket", "b",
                 "--since", "2025-07-22T23:20:00+00:00", "--until", "2025-07-22T23:40:00+00:00",
                 "--html", str(out)]) == 0
    assert used == [("http://influx.example:8086", "o", "b", "s3cret-token")]
    assert "s3cret" not in out.read_text()


# -- against the real InfluxDB ----------------------------------------------------------------------------------
def test_timeline_command_reads_influxql_and_writes_the_page(era_e, tmp_path, capsys):
    influx, db = era_e
    out = tmp_path / "sub" / "t.html"
    # a directory that does not exist is an error, not a silent mkdir (a typo would hide the page)
    assert timeline_cli(influx, db, out, "--host", "gpu-host-e") == 2
    assert f"{out.parent} does not exist" in capsys.readouterr().err and not out.parent.exists()
    out.parent.mkdir()
    assert timeline_cli(influx, db, out, "--host", "gpu-host-e") == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "3 sessions" in printed
    page = out.read_text(encoding="utf-8")
    assert page.count('data-kind="session"') == 3 and 'data-host="gpu-host-f"' not in page
    # a window with nothing in it still writes a page, and says so
    assert main(["timeline", "--influxql", "--url", influx.url, "--bucket", db, "--since", "2020-01-01T00:00:00+00:00",
                 "--until", "2020-01-02T00:00:00+00:00", "--html", str(out)]) == 0
    assert 'id="empty"' in out.read_text(encoding="utf-8")
    assert "no Ollama activity" in capsys.readouterr().err
    # a database that is not there: a clear error, exit 1
    assert main(["timeline", "--influxql", "--url", influx.url, "--bucket", "nope", "--html", str(out)]) == 1


def test_chromium_draws_every_element_where_the_data_says(era_e, tmp_path):
    influx, db = era_e
    page = tmp_path / "timeline.html"
    assert timeline_cli(influx, db, page, "--fit", window=WIDE) == 0  # each host zoomed to its own data
    html = page.read_text(encoding="utf-8")

    # 1. the screenshot is not blank
    shot = tmp_path / "timeline.png"
    run_chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    width, height, rows = png_pixels(shot)
    colors = {px for row in rows[::4] for px in row[::4]}
    ink = sum(1 for row in rows[::4] for px in row[::4] if px != (255, 255, 255) and sum(px) < 720)
    assert len(colors) > 20 and ink > 0.02 * (width // 4) * (height // 4), (len(colors), ink)
    green = sum(1 for row in rows for px in row if px[1] > 140 and px[0] < 100 and px[2] < 120)
    assert green > 30  # request bars are drawn

    # 2. element boxes as Chromium lays them out
    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", probed.as_uri()).stdout
    parser = Elements()
    parser.feed(dom)
    els = [e for e in parser.items if "data-bbox" in e]
    plots = {e["svg_host"]: e for e in els if e.get("class") == "plot"}
    rows_by = {(e["svg_host"], e["data-series"]): bbox(e) for e in els if (e.get("class") or "").startswith("row")}
    items = [e for e in els if "data-kind" in e]
    assert set(plots) == {"gpu-host-e", "gpu-host-f"} and items

    # the data attributes are the database's rows
    lo = datetime.fromisoformat(WIDE[0]).timestamp() * 1000
    hi = datetime.fromisoformat(WIDE[1]).timestamp() * 1000
    sessions = [s for s in influx.query('SELECT * FROM "ollama_session"', db=db)
                if s["time"] / 1e6 <= hi and s["end"] >= lo]
    drawn = sorted((e["data-host"], e["data-series"], round(float(e["data-start-ms"])), round(float(e["data-end-ms"])))
                   for e in items if e["data-kind"] == "session")
    assert drawn == sorted((s["host"], s["series"], round(s["time"] / 1e6), s["end"]) for s in sessions)
    unloads = sorted((e["data-series"], round(float(e["data-start-ms"]))) for e in items if e["data-kind"] == "unload")
    assert unloads == sorted((s["series"], s["end"]) for s in sessions if not s["open"] and s["end"] <= hi)
    reqs = [r for r in influx.query('SELECT * FROM "ollama_request"', db=db)
            if lo <= r["time"] / 1e6 <= hi and r.get("model")]
    assert sorted(round(float(e["data-start-ms"]), 3) for e in items if e["data-kind"] == "request") == \
        sorted(round(r["time"] / 1e6, 3) for r in reqs)

    # every element sits where its data says: x from its times, y inside its series' row
    checked = 0
    for e in items:
        host = e["svg_host"]
        left, top, width, height = bbox(plots[host])
        t0, t1 = (float(v) for v in plots[host]["data-home"].split(","))
        s, t = float(e["data-start-ms"]), float(e["data-end-ms"])
        assert t0 <= s and t <= t1, e  # --fit: every element of the host is inside its plot

        def px(ms, left=left, width=width, t0=t0, t1=t1):
            return left + (min(max(ms, t0), t1) - t0) / (t1 - t0) * width

        x, y, w, h = bbox(e)
        kind = e["data-kind"]
        if kind in ("session", "load", "request"):
            assert x == pytest.approx(px(s), abs=1.0), e
            assert w == pytest.approx(max(px(t) - px(s), 1.5 if kind == "request" else 2), abs=1.5), e
        else:  # markers are centred on their instant
            assert x + w / 2 == pytest.approx(px(s), abs=1.0), e
        rx, ry, rw, rh = rows_by[(host, e["data-series"])]
        assert ry <= y + h / 2 <= ry + rh, e
        checked += 1
    assert checked == len(items)
    kinds = {e["data-kind"] for e in items}
    assert kinds == set(report.LAYERS)

    # in the seed's gemma3:12b row: the load begins where the session begins, the unload sits at its end
    g = [e for e in items if e["svg_host"] == "gpu-host-e" and e["data-series"] == "gemma3:12b (ctx: 2048)"]
    sess = next(e for e in g if e["data-kind"] == "session")
    load = next(e for e in g if e["data-kind"] == "load")
    unload = next(e for e in g if e["data-kind"] == "unload")
    assert bbox(load)[0] == pytest.approx(bbox(sess)[0], abs=0.5)
    assert bbox(unload)[0] + bbox(unload)[2] / 2 == pytest.approx(bbox(sess)[0] + bbox(sess)[2], abs=1.0)
    assert bbox(load)[1] > bbox(sess)[1] and bbox(load)[3] < bbox(sess)[3]  # drawn inside the grey session

    # 3. drag-to-zoom re-lays every element of that host with the same rule
    first = next(iter(plots.values()))
    z0, z1 = (float(v) for v in first["data-zoomed"].split(","))
    t0, t1 = (float(v) for v in first["data-home"].split(","))
    assert z0 == pytest.approx(t0 + 0.25 * (t1 - t0), rel=1e-3) and z1 == pytest.approx(t0 + 0.5 * (t1 - t0), rel=1e-3)
    left, _, width, _ = bbox(first)
    zoomed = [e for e in items if e["svg_host"] == first["svg_host"]]
    for e in zoomed:
        s, t = float(e["data-start-ms"]), float(e["data-end-ms"])
        if t < z0 or s > z1:
            assert e["data-bbox2"] == "hidden", e
            continue
        x, _, w, _ = bbox(e, "data-bbox2")
        want = left + (min(max(s, z0), z1) - z0) / (z1 - z0) * width
        assert (x if e["data-kind"] in ("session", "load", "request") else x + w / 2) == pytest.approx(want, abs=1.0)


def test_demo_helper_writes_the_timeline(era_e, tmp_path):
    from testbed.demo import write_demo_timeline

    influx, db = era_e
    path = write_demo_timeline(influx, db, tmp_path / "out" / "timeline.html")
    page = path.read_text(encoding="utf-8")
    assert path.is_file() and 'data-host="gpu-host-e"' in page and 'data-host="gpu-host-f"' in page
    counts = {k: page.count(f'data-kind="{k}"') for k in report.LAYERS}
    assert all(counts[k] > 0 for k in report.LAYERS), counts


def _plot_spans(page: str) -> dict[str, tuple[float, float]]:
    import re

    out = {}
    for m in re.finditer(r'<svg class="host"[^>]*data-host="([^"]+)"|<rect class="plot"[^>]*data-t0-ms="([\d.]+)" data-t1-ms="([\d.]+)"',
                         page):
        if m.group(1):
            host = m.group(1)
        elif m.group(2):
            out.setdefault(host, (float(m.group(2)), float(m.group(3))))
    return out


def test_a_window_much_longer_than_the_data_fits_to_it_by_default(era_e, tmp_path):
    """issue 12.10: a 3-month window around a few hours of data per host would draw slivers."""
    from datetime import datetime

    influx, db = era_e
    page = tmp_path / "t.html"
    w0, w1 = (datetime.fromisoformat(x).timestamp() * 1000 for x in WIDE)
    assert timeline_cli(influx, db, page, window=WIDE) == 0
    spans = _plot_spans(page.read_text(encoding="utf-8"))
    assert set(spans) == {"gpu-host-e", "gpu-host-f"}
    for t0, t1 in spans.values():
        assert t1 - t0 < 0.05 * (w1 - w0) and w0 <= t0 < t1 <= w1
    assert timeline_cli(influx, db, page, "--whole-window", window=WIDE) == 0
    assert set(_plot_spans(page.read_text(encoding="utf-8")).values()) == {(w0, w1)}
    # a window the data fills is drawn whole
    assert timeline_cli(influx, db, page, "--host", "gpu-host-e") == 0
    s0, s1 = (datetime.fromisoformat(x).timestamp() * 1000 for x in (START, STOP))
    assert _plot_spans(page.read_text(encoding="utf-8")) == {"gpu-host-e": (s0, s1)}


def test_flux_against_influxdb_1_says_to_use_influxql(era_e, tmp_path, capsys):
    influx, db = era_e
    out = tmp_path / "t.html"
    assert main(["timeline", "--url", influx.url, "--bucket", db, "--since", START, "--until", STOP,
                 "--html", str(out)]) == 1
    err = capsys.readouterr().err
    assert "404" in err and "--influxql" in err and not out.exists()
