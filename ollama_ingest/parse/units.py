"""Go's renderings of sizes and durations, turned into exact integers."""

from __future__ import annotations

import re

_SIZE_UNITS = {
    "B": 1,
    "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50,
    "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15,
}
_SIZE = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]+)?\s*")


def parse_bytes(text: str) -> int:
    """``"11.0 GiB"`` → 11811160064; ``"0 B"`` → 0; a bare integer is already bytes.

    Raises ValueError on anything else.
    """
    m = _SIZE.fullmatch(text)
    if not m:
        raise ValueError(f"not a byte size: {text!r}")
    number, unit = m.groups()
    mult = _SIZE_UNITS.get(unit or "B")
    if mult is None:
        raise ValueError(f"unknown size unit in {text!r}")
    if "." in number:
        whole, frac = number.split(".")
        neg = whole.startswith("-")
        value = (abs(int(whole)) * 10 ** len(frac) + int(frac)) * mult // 10 ** len(frac)
        return -value if neg else value
    return int(number) * mult


def parse_bytes_list(text: str) -> list[int]:
    """``"[10.9 GiB 3.0 GiB]"`` (a %v slice of sizes) → list of bytes."""
    inner = text.strip().removeprefix("[").removesuffix("]").strip()
    if not inner:
        return []
    parts = inner.split()
    out = []
    i = 0
    while i < len(parts):
        if i + 1 < len(parts) and not parts[i + 1][0].isdigit() and parts[i + 1][0] != "-":
            out.append(parse_bytes(parts[i] + " " + parts[i + 1]))
            i += 2
        else:
            out.append(parse_bytes(parts[i]))
            i += 1
    return out


# Go Duration.String(): "1h2m3.5s", "29m59s", "16.724µs" (U+00B5), "789ns", "0s".
# U+03BC, "us" and the Latin-1 mojibake "Âµs" are accepted too.
_DUR_UNIT_NS = {
    "ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "\u00c2\u00b5s": 1_000,
    "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
}
_DUR_PART = re.compile(r"(\d+)(?:\.(\d+))?(ns|us|\u00b5s|\u03bcs|\u00c2\u00b5s|ms|s|m|h)")
_DUR_FULL = re.compile(r"-?(?:\d+(?:\.\d+)?(?:ns|us|\u00b5s|\u03bcs|\u00c2\u00b5s|ms|s|m|h))+")


def _part_ns(whole: str, frac: str, unit: str) -> int:
    mult = _DUR_UNIT_NS[unit]
    if frac:
        return (int(whole) * 10 ** len(frac) + int(frac)) * mult // 10 ** len(frac)
    return int(whole) * mult


def parse_duration_ns(text: str) -> int:
    """Go duration text → exact nanoseconds. Raises ValueError if it is not one."""
    if text == "0":
        return 0
    one = _DUR_PART.fullmatch(text)  # one number and one unit, as [GIN] latencies below a minute are
    if one is not None:
        return _part_ns(*one.groups())
    if not _DUR_FULL.fullmatch(text):
        raise ValueError(f"not a Go duration: {text!r}")
    total = sum(_part_ns(*part) for part in _DUR_PART.findall(text))
    return -total if text.startswith("-") else total
