"""The query sidecar parser: JSON Lines or plain text, with file:line errors for bad lines."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio.uoisc.io.queries import assign_queries, parse_jsonl_queries, parse_text_queries, read_sidecar

names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(names, texts, max_size=6), st.lists(st.integers(0, 2), max_size=6))
def test_jsonl_round_trip(entries, blanks):
    """Any mapping written as JSON lines (with blank lines in between) parses back to itself."""
    lines = [json.dumps({"image": k, "query": v}) for k, v in entries.items()]
    for i, n in enumerate(blanks[:len(lines)]):
        lines[i] = "\n" * n + lines[i]
    assert parse_jsonl_queries("\n".join(lines)) == entries


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=20),
                max_size=8))
def test_text_round_trip(queries):
    """Queries without line breaks, one per line, parse back in order (blank line = empty query)."""
    assert parse_text_queries("".join(q + "\n" for q in queries)) == queries


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.integers(0, 3),
       st.sampled_from(["{", "[1]", '"s"', '{"image": 3, "query": ""}', '{"image": "", "query": ""}',
                        '{"image": "b.png"}', '{"image": "b.png", "query": 1}',
                        '{"image": "b.png", "query": "", "x": 1}']))
def test_bad_jsonl_line_is_named(valid_first, n_blank, bad):
    """A bad line after an optional valid line and blank lines raises ValueError naming the
    source and the bad line's 1-based number."""
    lines = (['{"image": "a.png", "query": "q"}'] if valid_first else []) + [""] * n_blank + [bad]
    with pytest.raises(ValueError, match=rf"^side\.jsonl:{len(lines)}: "):
        parse_jsonl_queries("\n".join(lines), source="side.jsonl")


def test_duplicate_image_is_refused():
    """A second line for the same image raises ValueError with that line number."""
    text = '{"image": "a.png", "query": "x"}\n{"image": "a.png", "query": "y"}\n'
    with pytest.raises(ValueError, match=r"s:2: image 'a.png' already"):
        parse_jsonl_queries(text, source="s")


def test_read_sidecar_chooses_format_by_suffix(tmp_path):
    """A .jsonl file gives a dict, any other file a list of lines; non-UTF-8 is a ValueError."""
    (tmp_path / "q.jsonl").write_text('{"image": "a.png", "query": "What?"}\n')
    (tmp_path / "q.txt").write_text('{"image": "a.png", "query": "What?"}\n')
    assert read_sidecar(tmp_path / "q.jsonl") == {"a.png": "What?"}
    assert read_sidecar(tmp_path / "q.txt") == ['{"image": "a.png", "query": "What?"}']
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="bad.txt"):
        read_sidecar(tmp_path / "bad.txt")


def test_assign_queries():
    """JSONL: named images get their query, the others ""; unknown names and a text line count
    that differs from the image count are ValueErrors."""
    assert assign_queries(["a.png", "b.png"], {"b.png": "q"}) == ["", "q"]
    with pytest.raises(ValueError, match="c.png"):
        assign_queries(["a.png"], {"c.png": "q"})
    assert assign_queries(["a.png", "b.png"], ["x", "y"]) == ["x", "y"]
    with pytest.raises(ValueError, match="1 query lines for 2 images"):
        assign_queries(["a.png", "b.png"], ["x"])
