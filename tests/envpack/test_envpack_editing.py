"""Comment-preserving manifest edits and row-wise JSONL edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.envpack.jsonl_edit import JsonlDocument
from app.envpack.loader import load_envpack
from app.envpack.manifest_edit import ManifestDocument
from app.errors import UserError

MANIFEST = """\
# My environment: keep this comment
schema = "gauntlet/1"   # the format
kind = "qa"

[package]
name = "acme/capitals"
version = "0.1.0"   # bump on every submission

# the grader decides everything
[grader]
type = "match"
mode = "exact"
reward_range = [0.0, 1.0]
"""


def test_manifest_round_trips_exactly(tmp_path: Path) -> None:
    path = tmp_path / "env.toml"
    path.write_text(MANIFEST)
    doc = ManifestDocument.load(path)
    assert doc.text() == MANIFEST
    doc.save()
    assert path.read_text() == MANIFEST


def test_manifest_edit_keeps_comments_and_order(tmp_path: Path) -> None:
    path = tmp_path / "env.toml"
    path.write_text(MANIFEST)
    doc = ManifestDocument.load(path)
    assert doc.get("grader.reward_range") == [0.0, 1.0] and doc.get("package.bounty") is None
    doc.set("package.version", "0.2.0")
    doc.set("grader.mode", "numeric")
    doc.set("grader.tolerance", 0.001)
    doc.set("package.tags", ["geo"])
    doc.set("sandbox.memory_mb", 256)
    assert doc.remove("kind") and not doc.remove("nothing.here")
    doc.save()
    text = path.read_text()
    assert "# My environment: keep this comment" in text
    assert 'version = "0.2.0"   # bump on every submission' in text
    assert "# the grader decides everything\n[grader]" in text
    assert 'schema = "gauntlet/1"   # the format' in text
    assert text.index("[package]") < text.index("[grader]") < text.index("[sandbox]")
    pack = load_envpack(tmp_path).pack
    assert (
        pack.grader.mode == "numeric"
        and pack.grader.tolerance == 0.001
        and pack.manifest.sandbox.memory_mb == 256
    )


def test_manifest_parse_errors_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not valid TOML"):
        ManifestDocument.parse("[grader\n")
    with pytest.raises(UserError, match="does not exist"):
        ManifestDocument.load(tmp_path / "missing.toml")
    doc = ManifestDocument.parse('grader = "x"\n')
    with pytest.raises(UserError, match="is text, not a table"):
        doc.set("grader.type", "match")


JSONL = (
    '{"id": "t1",   "prompt": "Caf\\u00e9?", "answer": "x"}\n'
    "\n"
    '{"id": "t2", "prompt": "broken"\n'
    '{"prompt": "ordre", "id": "t3", "answer": 1.50}\n'
)


def test_jsonl_round_trips_exactly(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(JSONL)
    doc = JsonlDocument.load(path)
    assert len(doc) == 3 and doc.text() == JSONL
    assert doc.invalid_rows() == [(1, 3, "Expecting ',' delimiter")]
    assert [doc.line_of(i) for i in range(3)] == [1, 3, 4] and doc.index_at_line(2) is None


def test_jsonl_edits_touch_only_edited_rows(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(JSONL)
    doc = JsonlDocument.load(path)
    doc.set_field(2, "answer", 2)
    copy_index = doc.duplicate(0)
    assert doc[copy_index].value["id"] == "t1-copy"
    assert doc[doc.duplicate(0)].value["id"] == "t1-copy-2"
    doc.append({"id": "t4", "prompt": "nouveau ✓", "answer": None})
    doc.move(len(doc) - 1, 0)
    doc.delete(doc.find("id", "t1-copy-2"))
    doc.save()
    lines = path.read_text().splitlines()
    assert lines[0] == '{"id": "t4", "prompt": "nouveau ✓", "answer": null}'
    assert (
        '{"id": "t1",   "prompt": "Caf\\u00e9?", "answer": "x"}' in lines
    )  # untouched: exact text
    assert '{"id": "t2", "prompt": "broken"' in lines  # invalid row kept verbatim
    assert '{"prompt": "ordre", "id": "t3", "answer": 2}' in lines  # key order kept
    assert [json.loads(line)["id"] for line in lines if line.strip() and "broken" not in line] == [
        "t4",
        "t1",
        "t1-copy",
        "t3",
    ]


def test_invalid_rows_are_flagged_and_fixable() -> None:
    doc = JsonlDocument.parse(JSONL)
    with pytest.raises(UserError, match="not a valid JSON object"):
        doc.set_field(1, "answer", 1)
    row = doc.set_text(1, '{"id": "t2", "prompt": "fixed"}')
    assert row.valid and doc.invalid_rows() == []
    with pytest.raises(UserError, match="single line"):
        doc.set_text(0, "{}\n{}")
    with pytest.raises(UserError, match="cannot be written as JSON"):
        doc.set(0, {"x": float("nan")})


def test_crlf_bom_and_missing_final_newline_survive() -> None:
    text = '\ufeff{"id": "a"}\r\n{"id": "b"}\r\n'
    doc = JsonlDocument.parse(text)
    assert doc.text() == text
    doc.set_field(1, "id", "c")
    assert doc.text() == '\ufeff{"id": "a"}\r\n{"id": "c"}\r\n'


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.dictionaries(
                st.text(max_size=5),
                st.one_of(st.integers(), st.text(max_size=10), st.none()),
                max_size=3,
            ).map(lambda d: json.dumps(d, ensure_ascii=False)),
            st.text(
                alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
                max_size=20,
            ),
        ),
        max_size=8,
    )
)
def test_any_file_round_trips(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    assert JsonlDocument.parse(text).text() == text


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(["{", "}", '"', "a", ":", " ", "\t", "\n", "\r", "\ufeff", "1"]),
        max_size=60,
    )
)
def test_any_text_round_trips_byte_for_byte(text: str) -> None:
    document = JsonlDocument.parse(text)
    assert document.text() == text
    if len(document):
        document.append({"id": "new"})
        assert JsonlDocument.parse(document.text()).rows[-1].value == {"id": "new"}


def test_mixed_line_endings_and_a_missing_final_newline_survive_edits() -> None:
    text = '{"id": "a"}\r\n  \n{"id": "b"}\n{"id": "c"}'
    document = JsonlDocument.parse(text)
    assert document.text() == text
    document.set_field(1, "id", "B")
    assert document.text() == '{"id": "a"}\r\n  \n{"id": "B"}\n{"id": "c"}'
    document.move(2, 0)
    assert document.text() == '{"id": "c"}\n{"id": "a"}\r\n  \n{"id": "B"}\n'
    assert [document.line_of(i) for i in range(3)] == [1, 2, 4]
