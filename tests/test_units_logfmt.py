import pytest
from hypothesis import given
from hypothesis import strategies as st

from ollama_ingest.parse.logfmt import go_unquote, msg_of, parse_logfmt
from ollama_ingest.parse.units import parse_bytes, parse_bytes_list, parse_duration_ns


@pytest.mark.parametrize("text,ns", [
    ("16.608743461s", 16_608_743_461), ("16.724µs", 16_724), ("16.724μs", 16_724), ("16.724us", 16_724),
    ("16.724Âµs", 16_724), ("789ns", 789), ("704.668383ms", 704_668_383), ("4.709180529s", 4_709_180_529),
    ("29m59s", 1_799_000_000_000), ("30m0s", 1_800_000_000_000), ("3m47s", 227_000_000_000),
    ("1h2m3s", 3_723_000_000_000), ("0s", 0), ("5m0s", 300_000_000_000),
    ("2562047h47m16.854775807s", 9_223_372_036_854_775_807), ("1.5s", 1_500_000_000),
])
def test_go_durations_are_exact(text, ns):
    assert parse_duration_ns(text) == ns


@pytest.mark.parametrize("bad", ["", "s", "1x", "1.s", "abc", "1 s", "--1s"])
def test_bad_durations_raise(bad):
    with pytest.raises(ValueError):
        parse_duration_ns(bad)


@pytest.mark.parametrize("text,n", [
    ("11.0 GiB", 11 * 2**30), ("608.0 MiB", 608 * 2**20), ("0 B", 0), ("787.5 MiB", int(787.5 * 2**20)),
    ("10612637696", 10_612_637_696), ("4.7 GB", 4_700_000_000),
])
def test_sizes(text, n):
    assert parse_bytes(text) == n


def test_size_lists():
    assert parse_bytes_list("[10.9 GiB]") == [parse_bytes("10.9 GiB")]
    assert parse_bytes_list("[8.5 GiB 3.0 GiB]") == [parse_bytes("8.5 GiB"), 3 * 2**30]
    assert parse_bytes_list("[]") == []


def test_logfmt_go_quoting_quoted_keys_dotted_keys_and_empty_values():
    line = ('time=2025-08-08T23:02:37.187+01:00 level=INFO source=server.go:175 msg="loading model" '
            '"model layers"=33 requested=-1 layers.split="" memory.available="[10.9 GiB]" '
            'note="a \\"quoted\\" \\\\ path\\nnext" bare=x=y')
    d = parse_logfmt(line)
    assert d["msg"] == "loading model"
    assert d["model layers"] == "33"
    assert d["layers.split"] == ""
    assert d["memory.available"] == "[10.9 GiB]"
    assert d["note"] == 'a "quoted" \\ path\nnext'
    assert d["level"] == "INFO"


def test_msg_bare_quoted_empty_and_escaped():
    assert msg_of("time=x level=INFO source=a.go:1 msg=offload library=cuda") == "offload"
    assert msg_of('time=x level=INFO source=a.go:1 msg="" k=v') == ""
    assert msg_of('time=x level=INFO source=a.go:1 msg="say \\"hi\\" now" k=v') == 'say "hi" now'
    assert msg_of('time=x level=INFO source=a.go:1 msg="ends with \\\\" k=v') == "ends with \\"
    assert msg_of("time=x level=INFO") is None


def test_go_unquote_escapes():
    assert go_unquote(r"a\tb\x41\u00e9\\") == "a\tbAé\\"
    # broken escapes are kept as written (found by bench/fuzz_backfill.py)
    assert go_unquote(r"\xZZ \U7fffffff \q") == r"\xZZ \U7fffffff \q"


@given(st.text(alphabet="\\xuU0123456789abcdefZ\"n ", max_size=30))
def test_go_unquote_never_raises(s):
    go_unquote(s)
    msg_of('time=x level=INFO msg="' + s)


@given(st.text())
def test_logfmt_never_raises(s):
    parse_logfmt(s)
    msg_of(s)


@given(st.text())
def test_units_raise_only_valueerror(s):
    for fn in (parse_bytes, parse_duration_ns, parse_bytes_list):
        try:
            fn(s)
        except ValueError:
            pass


_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


@given(st.lists(st.tuples(st.integers(0, 10**6), st.one_of(st.none(), st.text("0123456789", min_size=1, max_size=9)),
                          st.sampled_from(sorted(_UNIT_NS))), min_size=1, max_size=4), st.booleans())
def test_durations_of_one_part_or_many_are_exact(parts, negative):
    """One part is read by a fast path, several by the general one: both give every part's exact
    nanoseconds (a fraction below 1 ns cut off per part, as Go's rendering never has one)."""
    text = ("-" if negative else "") + "".join(f"{w}.{f}{u}" if f else f"{w}{u}" for w, f, u in parts)
    want = sum((w * 10 ** len(f or "") + int(f or 0)) * _UNIT_NS[u] // 10 ** len(f or "") for w, f, u in parts)
    assert parse_duration_ns(text) == (-want if negative else want)
