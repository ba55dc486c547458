"""What each input gave, for the summary: its format, host, assumptions and what could not be read; and
the rule that an input without a single Ollama line is an error that says what was seen (never a silent
zero)."""

from __future__ import annotations

from collections import Counter

from ..entry import Source
from . import InputError

TOP = 10


class NothingFromOllama(InputError):
    """One or more inputs held no Ollama line; the message says what was seen in each."""


def input_report(src: Source, *, entries: int, ollama: int, other_unit: Counter[str], unit: str | None,
                 first: list[str]) -> dict:
    """The summary's record of one input. ``entries``: what the reader gave (noise it counted unbuilt
    included, other units included); ``ollama``: how many of them were Ollama's (not noise)."""
    rep = {
        "input": src.name,
        "format": src.format,
        "entries": entries,
        "ollama_lines": ollama,
        "skipped": sum(src.skipped.values()),
        "skip_reasons": dict(src.skipped.most_common(TOP)),
        "assumptions": list(src.assumptions),
        "unrecognised": [[text, n] for text, n in src.unrecognised.most_common(TOP)],
    }
    if other_unit:
        rep["other_units"] = dict(other_unit.most_common(TOP))
    if not ollama and not src.unit_entries:  # neither a line of Ollama's nor an entry of the unit
        rep["first_lines"] = first
        rep["error"] = _what_was_seen(src, rep, unit)
    return rep


def _what_was_seen(src: Source, rep: dict, unit: str | None) -> str:
    name, fmt, n, skipped = rep["input"], rep["format"], rep["entries"], rep["skipped"]
    other = sum(rep.get("other_units", {}).values())
    if fmt == "journal":
        hint = src.nothing_found_hint()
        if n == 0:
            return f"no entries of {unit or 'any unit'} in {name}{_window(src)}{hint}"
        if other:
            return f"{n} entries in {name}{_window(src)}, none of {unit} (--unit){hint}"
    if other:
        units = ", ".join(rep["other_units"])
        return f"{name}: {n} entries{_window(src)}, none of {unit} (units seen: {units}; --unit)"
    if n == 0 and skipped:
        reasons = "; ".join(f"{r} ×{c}" for r, c in list(rep["skip_reasons"].items())[:3])
        sample = f"; it starts: {rep['unrecognised'][0][0]!r}" if rep["unrecognised"] else ""
        return (f"{name}: none of its {skipped} records could be read as {fmt} ({reasons}){sample}; the format "
                "was forced or detected wrongly? (--input-format)")
    if n == 0:
        return f"{name}: no entries{_window(src)}" if _window(src) else f"{name}: nothing read as {fmt}"
    if fmt in ("export", "json", "text") and unit:
        first = "; ".join(repr(x) for x in rep["first_lines"][:2])
        return f"{name}: {n} entries, none of {unit} nor Ollama's{'; first: ' + first if first else ''}"
    first = "; ".join(repr(x) for x in rep["first_lines"][:2])
    return (f"{name}: {n} lines read as {fmt}, none of them Ollama's (no slog time=…, [GIN], Go-log or systemd "
            f"line about the unit){'; first: ' + first if first else ''}")


def _window(src: Source) -> str:
    lo, hi = src.since_us, src.until_us
    if lo is None and hi is None:
        return ""
    from datetime import datetime

    def at(us: int) -> str:
        return datetime.fromtimestamp(us / 1e6).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")

    return f" between {at(lo) if lo else 'its start'} and {at(hi) if hi else 'its end'}"


def check_inputs(reports: list[dict]) -> None:
    """Raise if any input gave no Ollama line (after everything else was read and written)."""
    bad = [r["error"] for r in reports if r.get("error")]
    if bad:
        raise NothingFromOllama("\n".join(bad) if len(bad) == 1 else
                                "inputs without any Ollama line:\n  " + "\n  ".join(bad))


def input_warnings(reports: list[dict], unknown_msgs: Counter[str], verbose: int = 0) -> list[str]:
    """Lines to tell the user: inputs where many records were not recognised, and with ``verbose`` the
    most frequent of them and of the slog messages no parser knows."""
    out = []
    for r in reports:
        seen = r["entries"] + r["skipped"]
        if r["skipped"] and r["skipped"] * 10 >= seen and not r.get("error"):
            out.append(f"{r['input']}: {r['skipped']} of {seen} records not recognised as {r['format']} "
                       "(the format detected; --input-format forces another)")
        if verbose and r["unrecognised"]:
            out.append(f"{r['input']}: most frequent records not recognised:")
            out += [f"  {n:>7} × {text!r}" for text, n in r["unrecognised"]]
    if verbose and unknown_msgs:
        out.append("slog messages without a parser (most frequent):")
        out += [f"  {n:>7} × {msg!r}" for msg, n in unknown_msgs.most_common(TOP)]
    return out
