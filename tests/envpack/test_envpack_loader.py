"""The loader: typed model, exact locations, editor overrides, never raising."""

from __future__ import annotations

from pathlib import Path

from support.envpack_packages import base_files, jsonl

from app.envpack.loader import load_envpack
from app.envpack.model import Span
from app.envpack.toml_locations import key_spans
from app.funnel.structure import run_structure_stage


def test_loads_the_typed_model(make_pack) -> None:
    result = load_envpack(make_pack())
    assert result.findings == []
    pack = result.pack
    assert pack is not None
    assert pack.manifest.package.name == "acme/capitals"
    assert pack.manifest.package.authors == ["Ada Lovelace <ada@example.org>"]
    assert pack.grader.mode == "exact" and pack.grader.normalize == ["case", "whitespace"]
    assert pack.grader.reward_range == (0.0, 1.0) and isinstance(pack.grader.timeout_s, float)
    assert [(t.id, t.line, t.answer) for t in pack.tasks] == [
        ("fr", 1, "Paris"),
        ("jp", 2, "Tokyo"),
    ]
    assert [(r.task_id, r.line) for r in pack.solutions] == [("fr", 1), ("jp", 2)]
    assert [(n.task_id, n.note) for n in pack.negatives] == [
        ("fr", "largest other city"),
        ("jp", "former capital"),
    ]


def test_every_manifest_key_has_its_span(make_pack) -> None:
    pack = load_envpack(make_pack()).pack
    text = base_files()["env.toml"]
    lines = text.splitlines()
    for key in (
        "schema",
        "kind",
        "package.name",
        "package.license",
        "grader.mode",
        "grader.reward_range",
        "tasks.path",
        "solutions.path",
        "negatives.path",
    ):
        span = pack.locations[key]
        leaf = key.split(".")[-1]
        assert lines[span.line - 1].startswith(leaf + " ="), key
        assert span.column == 1 and span.file == "env.toml"
        assert span.end_column == len(lines[span.line - 1]) + 1
    assert pack.locations["grader"].line == lines.index("[grader]") + 1
    assert pack.where("grader.tolerance") == Span("env.toml")  # absent keys have no span


def test_key_spans_handle_multiline_values_comments_and_quoted_keys() -> None:
    text = (
        '# comment = "not a key"\n'
        'description = """\n'
        "line one\n"
        'fake = "still inside the string"\n'
        '"""\n'
        "tags = [\n"
        '  "a",  # comment\n'
        '  "b",\n'
        "]\n"
        "[grader]   # the grader\n"
        "reward_range = [0.0, 1.0] # range\n"
        '"quoted key" = 1\n'
        "package.name = 'x/y'\n"
    )
    spans = key_spans(text)
    assert "fake" not in spans and "comment" not in spans
    assert (spans["description"].line, spans["description"].end_line) == (2, 5)
    assert (spans["tags"].line, spans["tags"].end_line) == (6, 9)
    assert spans["grader.reward_range"].line == 11
    assert spans["grader.reward_range"].end_column == len("reward_range = [0.0, 1.0]") + 1
    assert spans["grader.quoted key"].line == 12
    assert spans["grader.package.name"].line == 13


def test_overrides_lint_unsaved_buffers(make_pack) -> None:
    root = make_pack()
    unsaved = base_files()["tasks.jsonl"] + '{"id": "de", "prompt": ""}\n'
    loaded, findings = run_structure_stage(root, overrides={"tasks.jsonl": unsaved})
    assert [t.id for t in loaded.pack.tasks] == ["fr", "jp", "de"]
    codes = {(f.code, f.file, f.line) for f in findings}
    assert ("GX135", "tasks.jsonl", 3) in codes
    assert ("GX141", "tasks.jsonl", 3) in codes
    assert (root / "tasks.jsonl").read_text() == base_files()["tasks.jsonl"]  # disk untouched


def test_override_can_supply_a_file_missing_on_disk(tmp_path: Path) -> None:
    root = tmp_path / "new"
    root.mkdir()
    files = base_files()
    loaded, findings = run_structure_stage(
        root, overrides={k: v for k, v in files.items() if isinstance(v, str)}
    )
    assert loaded.pack is not None
    assert findings == []


def test_broken_manifest_gives_no_pack_but_a_located_finding(make_pack) -> None:
    files = base_files()
    files["env.toml"] = files["env.toml"].replace("[grader]", "[grader")
    result = load_envpack(make_pack(files))
    assert result.pack is None
    [finding] = result.findings
    assert (
        finding.code == "GX101"
        and finding.line == files["env.toml"].splitlines().index("[grader") + 1
    )


def test_not_a_folder(tmp_path: Path) -> None:
    result = load_envpack(tmp_path / "missing")
    assert result.pack is None and [f.code for f in result.findings] == ["GX100"]
    loaded, findings = run_structure_stage(tmp_path / "missing")
    assert [f.code for f in findings] == ["GX100"]


def test_wrong_types_keep_defaults_and_report_every_problem(make_pack) -> None:
    """Every problem is reported, and types are named in the same words everywhere: "true/false",
    "a number", "text", "a list"; a mapping is "a table" in env.toml, "an object" in JSONL."""
    files = base_files()
    files["env.toml"] = (
        files["env.toml"]
        .replace("timeout_s = 10", "timeout_s = true")
        .replace('normalize = ["case", "whitespace"]', 'normalize = ["case", "colour"]')
        .replace("[negatives]", "negatives = 3\n[negatives_]")
        .replace('title = "Capital cities"', "title = {a = 1}")
        .replace('kind = "qa"', 'kind = "qa"\nsandbox = "big"')
    )
    files["tasks.jsonl"] += '{"id": "de", "prompt": [1], "answer": "Berlin"}\n[1, 2]\n'
    files["solutions.jsonl"] += '{"task_id": "fr", "response": "Paris", "note": false}\n'
    result = load_envpack(make_pack(files))
    codes = sorted(f.code for f in result.findings)
    assert "GX104" in codes and "GX105" in codes and "GX103" in codes
    assert result.pack.grader.timeout_s == 10.0  # the default, not True
    messages = {f.message for f in result.findings}
    assert '"grader.timeout_s" must be a number, e.g. 1.0, not true/false.' in messages
    assert '"package.title" must be text in quotes, e.g. "abc", not a table.' in messages
    assert '"sandbox" must be a table, e.g. [grader], not text.' in messages
    assert '"prompt" on line 3 must be text, not a list.' in messages
    assert "Line 4 is a list, not a JSON object." in messages
    assert '"note" on line 3 must be text, not true/false.' in messages


def test_nan_is_pointed_at_outside_strings(make_pack) -> None:
    files = base_files()
    files["tasks.jsonl"] = '{"id": "fr", "prompt": "Is NaN a number?", "answer": NaN}\n'
    _, findings = run_structure_stage(make_pack(files))
    finding = next(f for f in findings if f.code == "GX130")
    assert (
        finding.message == "Line 1 is not valid JSON: NaN is not valid JSON (use a number or null)."
    )
    assert finding.column == files["tasks.jsonl"].rindex("NaN") + 1


def test_integer_ids_are_reported_but_kept(make_pack) -> None:
    files = base_files()
    files["tasks.jsonl"] = jsonl({"id": 1, "prompt": "Capital of France?", "answer": "Paris"})
    files["solutions.jsonl"] = jsonl({"task_id": "1", "response": "Paris"})
    files["negatives.jsonl"] = jsonl({"task_id": "1", "response": "Lyon"})
    result = load_envpack(make_pack(files))
    assert [t.id for t in result.pack.tasks] == ["1"]
    assert [f.code for f in result.findings] == ["GX133"]
    assert 'write "1" in quotes' in result.findings[0].message


def test_utf8_bom_and_crlf_are_accepted(make_pack) -> None:
    files = base_files()
    files["tasks.jsonl"] = "\ufeff" + files["tasks.jsonl"].replace("\n", "\r\n")
    files["env.toml"] = "\ufeff" + files["env.toml"]
    loaded, findings = run_structure_stage(make_pack(files))
    assert findings == []
    assert [t.id for t in loaded.pack.tasks] == ["fr", "jp"]


def test_misspelt_fields_are_pointed_out(make_pack) -> None:
    files = base_files()
    files["tasks.jsonl"] = jsonl(
        {"id": "fr", "promt": "Capital of France?", "answer": "Paris"},
        {"id": "jp", "prompt": "Capital of Japan?", "anwser": "Tokyo"},
    )
    _, findings = run_structure_stage(make_pack(files))
    by_code = {f.code: f for f in findings}
    assert 'It has "promt": a misspelling?' in by_code["GX132"].message
    assert by_code["GX132"].column == files["tasks.jsonl"].splitlines()[0].index('"promt"') + 1
    assert 'It has "anwser": a misspelling?' in by_code["GX150"].message
    assert by_code["GX150"].line == 2


def test_a_misnamed_readme_is_named(make_pack) -> None:
    root = make_pack()
    (root / "README.md").rename(root / "readme.txt")
    _, findings = run_structure_stage(root)
    [finding] = findings
    assert (finding.code, finding.file) == ("GX113", "readme.txt")
    assert 'Rename "readme.txt" to "README.md"' in finding.hint
