"""A tokenizer for Go log/slog's text handler output (``key=value`` with Go quoting)."""

from __future__ import annotations

import re

# key: bare, or a Go-quoted string ("model layers"=33); value: quoted, bare, or absent.
_PAIR = re.compile(
    r'[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^\s="]+))'
    r'(?:=(?:"((?:[^"\\]|\\.)*)"?|([^\s]*)))?',
    re.S,
)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
           "\\": "\\", '"': '"', "'": "'"}


def _unescape_one(m: re.Match[str]) -> str:
    code = m.group(1)
    try:
        if len(code) > 1 and code[0] in "uU":
            return chr(int(code[1:], 16))
        if len(code) > 1 and code[0] == "x" or len(code) == 3:
            byte = int(code[1:], 16) if code[0] == "x" else int(code, 8)
            # \xNN and \NNN are BYTES in Go; strconv.Quote writes \x80-\xff only for bytes that are not UTF-8:
            # kept as written, so "\xc0" never turns into the character U+00C0 ("À")
            return chr(byte) if byte < 0x80 else "\\" + code
    except ValueError:  # beyond U+10FFFF: keep it as written
        return "\\" + code
    return _SIMPLE.get(code, "\\" + code)


def go_unquote(body: str) -> str:
    """The inside of a Go ``strconv.Quote`` string → its text (bad escapes are kept verbatim)."""
    return _ESCAPE.sub(_unescape_one, body) if "\\" in body else body


def parse_logfmt(line: str) -> dict[str, str]:
    """``time=… level=INFO msg="a b" "model layers"=33 x=`` → dict (later duplicates win).

    Never raises: a stray quote or a token without ``=`` becomes a key with an empty value.
    """
    out: dict[str, str] = {}
    pos = 0
    n = len(line)
    while pos < n:
        m = _PAIR.match(line, pos)
        if m is None or m.end() == pos:
            # A lone '"' or '=' that fits no token: skip one character and go on.
            pos += 1
            continue
        qkey, key, qval, val = m.groups()
        k = go_unquote(qkey) if qkey is not None else key
        if qval is not None:
            out[k] = go_unquote(qval)
        else:
            out[k] = val or ""
        pos = m.end()
    return out


def msg_of(line: str) -> str | None:
    """The ``msg`` value of a slog line, cheaply (no full tokenization). None if absent."""
    i = line.find(" msg=")
    if i < 0:
        return None
    i += 5
    if i < len(line) and line[i] == '"':
        j = line.find('"', i + 1)
        while j > 0 and line[j - 1] == "\\":
            # an escaped quote, or an escaped backslash before the closing quote
            k = j - 1
            while k > i and line[k] == "\\":
                k -= 1
            if (j - 1 - k) % 2 == 0:
                break
            j = line.find('"', j + 1)
        if j < 0:
            return go_unquote(line[i + 1 :])
        body = line[i + 1 : j]
        return go_unquote(body) if "\\" in body else body
    j = line.find(" ", i)
    return line[i:] if j < 0 else line[i:j]
