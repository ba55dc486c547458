#!/usr/bin/env python3
"""Generate ``ollama_ingest/sources/months.py``: every abbreviated month name journalctl can print.

journalctl's short formats print the month with ``strftime("%b")`` in the viewer's LC_TIME, so the
names are glibc's own: ``abmon`` (what ``%b`` prints) and ``ab_alt_mon`` (the nominative forms,
``%Ob``, printed by some tools), from the locale sources in ``/usr/share/i18n/locales`` (Debian
package ``locales``). The sources write non-ASCII characters as ``<Uxxxx>``; ``copy "xx_YY"`` in
LC_TIME takes another locale's category.

    python scripts/gen_month_table.py                      # rewrites ollama_ingest/sources/months.py
    python scripts/gen_month_table.py --check              # exit 1 if the committed table is stale

Keys are the names stripped and lower-cased (``str.lower``), the values the months they can mean.
When locales disagree (``lis`` is November in Polish and Czech, October in Croatian) the month used
by the most locales comes first, ties broken by the lower month number; the reader then prefers
what the input's own dates say (see ``sources/journaltext.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

LOCALES = Path("/usr/share/i18n/locales")
OUT = Path(__file__).resolve().parent.parent / "ollama_ingest" / "sources" / "months.py"
KEYS = ("abmon", "ab_alt_mon")
_UCODE = re.compile(r"<U([0-9A-Fa-f]{4,8})>")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _tokens(text: str, comment: str, escape: str) -> list[list[str]]:
    """The logical lines of a locale source as lists of tokens: keywords (bare words) and quoted strings
    (decoded). A comment runs to the end of its physical line; an escape character before a newline
    continues the line, also inside a string."""
    lines: list[list[str]] = [[]]
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == escape and i + 1 < n and text[i + 1] == "\n":
            i += 2
        elif ch == "\n":
            lines.append([])
            i += 1
        elif ch == comment:
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif ch == '"':
            cur, i = [], i + 1
            while i < n and text[i] != '"':
                if text[i] == escape and i + 1 < n:
                    cur.append(text[i + 1] if text[i + 1] != "\n" else "")
                    i += 2
                else:
                    cur.append(text[i])
                    i += 1
            lines[-1].append('"' + _UCODE.sub(lambda m: chr(int(m.group(1), 16)), "".join(cur)))
            i += 1
        elif ch.isalpha() or ch == "_":
            m = _WORD.match(text, i)
            lines[-1].append(m.group(0))
            i = m.end()
        else:
            i += 1
    return [t for t in lines if t]


def lc_time(name: str, seen: frozenset = frozenset()) -> dict[str, list[str]]:
    """The LC_TIME keywords of one locale (only those in KEYS), following ``copy``."""
    path = LOCALES / name
    if name in seen or not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8", errors="replace")
    comment = (re.search(r"^comment_char\s+(\S)", text, re.M) or [None, "#"])[1]
    escape = (re.search(r"^escape_char\s+(\S)", text, re.M) or [None, "\\"])[1]
    m = re.search(r"^LC_TIME\s*$(.*?)^END LC_TIME", text, re.M | re.S)
    if not m:
        return {}
    got: dict[str, list[str]] = {}
    key = None
    for toks in _tokens(m.group(1), comment, escape):
        if not toks[0].startswith('"'):
            key = toks[0]
            values = [t[1:] for t in toks[1:] if t.startswith('"')]
            if key == "copy" and values:
                for k, v in lc_time(values[0], seen | {name}).items():
                    got.setdefault(k, v)
            elif key in KEYS:
                got[key] = values
        elif key in KEYS:  # a line of strings continues the keyword before it
            got[key] += [t[1:] for t in toks]
    return got


def table() -> tuple[dict[str, tuple[int, ...]], int]:
    votes: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    names = sorted(p.name for p in LOCALES.iterdir() if p.is_file() and not p.name.startswith("translit_"))
    used = 0
    for loc in names:
        t = lc_time(loc)
        months = [t[k] for k in KEYS if len(t.get(k, [])) == 12]
        if not months:
            continue
        used += 1
        for values in months:
            for n, value in enumerate(values, start=1):
                key = value.strip().lower()
                if key:
                    votes[key][n].add(loc)
    out = {}
    for key in sorted(votes):
        by = votes[key]
        out[key] = tuple(sorted(by, key=lambda n: (-len(by[n]), n)))
    return out, used


def render(months: dict[str, tuple[int, ...]], used: int) -> str:
    head = f'''"""Abbreviated month names of every glibc locale → the months they can mean (generated: do not edit).

Generated by ``python scripts/gen_month_table.py`` from glibc's locale sources
(``/usr/share/i18n/locales/*``, Debian package ``locales``): ``abmon`` and ``ab_alt_mon`` of {used} locales,
decoded from their ``<Uxxxx>`` notation, stripped and lower-cased. A name several locales use for
different months lists the month most locales mean first (ties: the lower month).
"""

MONTHS: dict[str, tuple[int, ...]] = {{
'''
    lines, cur = [], "   "
    for key, val in months.items():
        item = f" {key!r}: {val!r},"
        if len(cur) + len(item) > 116:
            lines.append(cur)
            cur = "   "
        cur += item
    lines.append(cur)
    return head + "\n".join(lines) + "\n}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only check that the committed table is current")
    a = ap.parse_args()
    if not LOCALES.is_dir():
        print(f"{LOCALES} is missing: install the Debian package 'locales'", file=sys.stderr)
        return 2
    text = render(*table())
    if a.check:
        same = OUT.is_file() and OUT.read_text(encoding="utf-8") == text
        print("months.py is current" if same else "months.py is stale: run scripts/gen_month_table.py")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
