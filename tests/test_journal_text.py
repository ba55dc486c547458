"""journalctl text in every variant people paste: no host, an empty host, a host with spaces, markers, lines
the pager cut, month names of every glibc locale (and the names locales share), the year from Ollama's
dates or journalctl's header, short-full and short-unix, and --tz as typed on the command line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from calendar import timegm
from datetime import datetime
from pathlib import Path

import pytest

from ollama_ingest.sources import default_host
from ollama_ingest.sources.months import MONTHS
from ollama_ingest.sources.text import TextReader
from ollama_ingest.sources.textdates import default_year

ROOT = Path(__file__).resolve().parent.parent
GIN = '[GIN] 2024/09/24 - 08:27:49 | 200 |  1.234s |       127.0.0.1 | POST     "/api/chat"'
SLOG = 'time=2025-09-24T08:27:48.098+03:00 level=INFO source=images.go:477 msg="total blobs: 43"'


def utc(y, mo, d, h, mi, s, us=0):
    return timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1_000_000 + us


def reader(text: str, **kw) -> TextReader:
    kw.setdefault("fallback_host", "fallback")
    return TextReader(io.BytesIO(text.encode()), **kw)


def fields(e):
    return e.host, e.ident, e.pid, e.text


def test_host_missing_empty_or_with_spaces_never_shifts_the_fields():
    text = (f"Sep 24 08:27:48 systemd[1]: Started ollama.service - Ollama Service.\n"
            f"Sep 24 08:27:48 ollama[1940]: {SLOG}\n"
            f"Sep 24 08:27:48  ollama[1940]: {SLOG}\n"
            f"Sep 24 08:27:49 ollama server ollama[1940]: {GIN}\n"
            f"Sep 24 08:27:49 j-360 ollama[1940]: ollama[7]: a message that itself looks like a prefix\n")
    r = reader(text)
    got = [fields(e) for e in r]
    assert got == [("fallback", "systemd", 1, "Started ollama.service - Ollama Service."),
                   ("fallback", "ollama", 1940, SLOG), ("fallback", "ollama", 1940, SLOG),
                   ("ollama server", "ollama", 1940, GIN),
                   ("j-360", "ollama", 1940, "ollama[7]: a message that itself looks like a prefix")]
    assert "3 lines name no host: host tag = 'fallback'" in " ".join(r.assumptions)


def test_the_header_gives_the_zone_when_it_is_numeric():
    text = ("-- Logs begin at Fri 2025-04-25 23:59:59 +08, end at Sun 2025-06-01 15:19:55 +08. --\n"
            "Jun 01 13:52:28 i2r systemd[1]: ollama.service: Succeeded.\n")
    r = reader(text)
    (e,) = r
    assert e.ts_us == utc(2025, 6, 1, 5, 52, 28) and "UTC+08:00 from journalctl's header" in " ".join(r.assumptions)


def test_in_a_journalctl_u_paste_systemds_lines_are_about_the_unit():
    text = ("Nov 10 22:38:56 h systemd[1]: Started Server for local large language models.\n"
            f"Nov 10 22:38:57 h ollama[1667]: {SLOG}\n")
    assert [e.unit for e in reader(text, unit="ollama.service")] == ["ollama.service", ""]
    mixed = text + "Nov 10 22:38:58 h kernel[0]: usb 1-1: new device\n"
    assert [e.unit for e in reader(mixed, unit="ollama.service")] == ["", "", ""]  # a whole-system paste: unknown


def test_markers_are_not_lines_and_the_header_gives_the_year():
    text = ("-- Logs begin at Sat 2023-12-30 10:00:00 CET, end at Tue 2024-01-02 11:00:00 CET. --\n"
            "Dec 31 23:59:59 h ollama[1]: llama_model_loader: x\n"
            "-- Boot 5f3c2e0a9b8d4c7e --\n"
            "-- Reboot --\n"
            "Jan 01 00:00:01 h ollama[1]: llama_model_loader: y\n"
            "-- No entries --\n")
    r = reader(text, tz=datetime.now().astimezone().tzinfo)
    got = list(r)
    assert [datetime.fromtimestamp(e.ts_us / 1e6).year for e in got] == [2023, 2024]
    assert not r.skipped
    assert "2023 from journalctl's header line" in " ".join(r.assumptions)


def test_the_year_comes_from_go_log_dates_too():
    r = reader("Jan 09 00:19:56 h ollama[2]: 2024/01/09 00:19:56 images.go:834: total blobs: 0\n")
    (e,) = r
    assert datetime.fromtimestamp(e.ts_us / 1e6).year == 2024
    assert "inferred 2024 from Ollama's own dates" in " ".join(r.assumptions)


def test_without_any_date_the_year_is_never_in_the_future():
    now = datetime(2026, 3, 1)
    assert default_year(12, 24, now) == 2025 and default_year(2, 27, now) == 2026
    r = reader("Dec 31 23:59:59 h ollama[1]: x\n")
    list(r)
    assert f"assumed {default_year(12, 31)}" in " ".join(r.assumptions)


@pytest.mark.parametrize("token,month", [
    ("Haz", 6), ("Ara", 12), ("de des.", 12), ("d’abr.", 4), ("gen.", 1), ("juil.", 7), ("avril", 4),
    ("Mär", 3), ("Okt", 10), ("déc.", 12), ("мая", 5), ("июл", 7), ("січ", 1), (" 5月", 5), ("10월", 10),
    ("5月", 5), ("sty", 1), ("lut", 2), ("kwi", 4), ("paź", 10), ("Eyl", 9), ("Kas", 11), ("tammi", 1),
])
def test_month_names_of_glibc_locales(token, month):
    (e,) = reader(f"{token} 07 06:59:38 host ollama[1]: hello\n", year=2025, tz=datetime.now().astimezone().tzinfo)
    assert datetime.fromtimestamp(e.ts_us / 1e6).month == month
    assert fields(e) == ("host", "ollama", 1, "hello")


def test_a_name_locales_share_takes_the_month_the_inputs_dates_confirm():
    # "lis" is November in Polish and Czech, October in Croatian; "lip" July (pl) or June (hr)
    assert MONTHS["lis"][0] == 11 and 10 in MONTHS["lis"]
    hr = ("lis 14 10:00:00 h ollama[1]: time=2024-10-14T10:00:00.000+02:00 level=INFO msg=x\n"
          "lis 14 10:00:01 h ollama[1]: llama_model_loader: y\n")
    assert [datetime.fromtimestamp(e.ts_us / 1e6).month for e in reader(hr)] == [10, 10]
    pl = "lis 14 10:00:00 h ollama[1]: llama_model_loader: y\n"
    assert datetime.fromtimestamp(next(iter(reader(pl, year=2024))).ts_us / 1e6).month == 11  # most locales


def test_the_table_is_what_the_generator_makes_from_glibc():
    if not Path("/usr/share/i18n/locales/tr_TR").exists():
        pytest.skip("glibc locale sources (Debian package locales) not installed")
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_month_table.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_lines_the_pager_cut_are_read_and_said_never_misread():
    width = 100
    long_slog = ("Oct 06 13:41:53 CX600 ollama[1992]: time=2024-10-06T13:41:53.100+02:00 level=WARN "
                 "source=server.go:76 msg=\"requested context length is greater than the model's training context\"")
    cut = long_slog[:width - 1] + ">"
    gin_cut = ('Oct 06 13:41:53 CX600 ollama[1992]: [GIN] 2024/10/06 - 13:41:53 | 200 |     206.837µs |  '
               '     127.0.0.1 | GET      "/api/tags"')[:width - 1] + ">"
    whole = "Oct 06 13:41:54 CX600 ollama[1992]: [GIN] 2024/10/06 - 13:41:54 | 200 | 1s | ::1 | GET \"/\""
    joined = cut[:-1].replace("13:41:53", "13:41:52") + ">" + whole  # a cut line and the next one pasted on it
    r = reader("\n".join([cut, gin_cut, whole, joined]) + "\n")
    got = list(r)
    # every prefix is whole, so every line is an entry with the right fields; the cut messages end with the mark
    assert [fields(e)[:3] for e in got] == [("CX600", "ollama", 1992)] * 5
    assert [e.text for e in got] == [cut.split(": ", 1)[1], gin_cut.split(": ", 1)[1], whole.split(": ", 1)[1],
                                     joined[:joined.index(">Oct") + 1].split(": ", 1)[1], whole.split(": ", 1)[1]]
    assert [e.ts_us % 60_000_000 // 1_000_000 for e in got] == [53, 53, 54, 52, 54]
    assert not r.skipped and "3 lines were cut at the terminal width (100 columns)" in " ".join(r.assumptions)


def test_short_full_and_short_unix():
    text = (f"Tue 2025-09-24 08:27:48 UTC gpu ollama[1940]: {SLOG}\n"
            f"Tue 2025-09-24 08:27:49 +0300 gpu ollama[1940]: {SLOG}\n"
            f"Tue 2025-09-24 08:27:50 EEST gpu ollama[1940]: {SLOG}\n"
            f"1758691670.500000 gpu ollama[1940]: {SLOG}\n")
    got = list(reader(text))
    assert [e.ts_us for e in got] == [utc(2025, 9, 24, 8, 27, 48), utc(2025, 9, 24, 5, 27, 49),
                                      utc(2025, 9, 24, 5, 27, 50), 1758691670_500000]
    assert {fields(e) for e in got} == {("gpu", "ollama", 1940, SLOG)}


def test_non_utf8_bytes_are_kept_exactly():
    raw = b'Jul 22 23:26:23 gpu ollama[1617]: time=2025-07-22T23:26:23.639+03:00 level=INFO msg=x name="\xc0"\n'
    (e,) = TextReader(io.BytesIO(raw))
    assert e.message == raw[raw.index(b"time="):-1]


def _cli(*args: str, stdin: bytes) -> subprocess.CompletedProcess:
    env = {**os.environ, "OLLAMA_INGEST_CONFIG": os.devnull, "OLLAMA_HOST": "127.0.0.1:9", "TZ": "UTC"}
    return subprocess.run([sys.executable, "-m", "ollama_ingest.cli", *args], input=stdin, capture_output=True,
                          env=env, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("spelling", [["--tz", "-07:00"], ["--tz=-07:00"], ["--tz", "-0700"],
                                      ["--tz", "America/Phoenix"]])
def test_tz_west_of_utc_works_as_typed(spelling):
    line = ('Jun 01 13:52:46 h ollama[7]: [GIN] 2024/06/01 - 13:52:46 | 200 |  1.5s |       127.0.0.1 | '
            'POST     "/api/chat"\n')
    r = _cli("backfill", "-", "--dry-run", *spelling, "--since", "-200000h", stdin=line.encode())
    assert r.returncode == 0, r.stderr.decode()
    point = next(x for x in r.stdout.decode().splitlines() if x.startswith("ollama_request"))
    assert f"end={utc(2024, 6, 1, 20, 52, 46) // 1000}i" in point
    summary = json.loads(r.stderr.decode().strip().splitlines()[-1])
    assert summary["inputs"][0]["format"] == "text"


def test_the_host_option_tags_every_entry():
    line = f"Sep 24 08:27:49 ollama[1940]: {GIN}\n"
    r = _cli("backfill", "-", "--dry-run", "--host", "gpu-7", stdin=line.encode())
    assert r.returncode == 0, r.stderr.decode()
    assert "host=gpu-7" in r.stdout.decode() and default_host() not in r.stdout.decode().replace("gpu-7", "")
