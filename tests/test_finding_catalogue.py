"""The catalogue of finding codes (app/finding_codes.py) is the one place a code is defined: each
stage's document explains exactly that stage's codes, with the catalogue's title and severity;
every code is in its stage's range; and every code the app writes or the docs mention exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.finding_codes import CATALOGUE
from app.findings import Severity, Stage

ROOT = Path(__file__).resolve().parent.parent
DOCS = {
    Stage.STRUCTURE: "checks.md",
    Stage.VERIFY: "verification.md",
    Stage.ATTACK: "attacks.md",
    Stage.CALIBRATE: "calibrate.md",
}
RANGES = {Stage.STRUCTURE: "GX1", Stage.VERIFY: "GX2", Stage.ATTACK: "GX3", Stage.CALIBRATE: "GX4"}
HEADING = re.compile(r"^### (GX\d{3}) — (.+) \((error|warning|info)\)$", re.MULTILINE)
CODE = re.compile(r"\bGX\d{3}\b")


@pytest.mark.parametrize("stage", list(DOCS), ids=str)
def test_each_stages_doc_explains_exactly_its_codes(stage: Stage) -> None:
    text = (ROOT / "docs" / DOCS[stage]).read_text(encoding="utf-8")
    headings = HEADING.findall(text)
    # A heading that names a code but does not read `### GXnnn — title (severity)` is a typo.
    assert len(headings) == len(re.findall(r"^### GX", text, re.MULTILINE)), DOCS[stage]
    explained = {code: (title, severity) for code, title, severity in headings}
    assert len(explained) == len(headings), "a code is explained twice"
    expected = {
        code: (entry.title, entry.severity.value)
        for code, entry in CATALOGUE.items()
        if entry.stage == stage
    }
    missing = sorted(set(expected) - set(explained))
    unknown = sorted(set(explained) - set(expected))
    assert not missing, f"{DOCS[stage]} does not explain {missing}"
    assert not unknown, f"{DOCS[stage]} explains codes the catalogue lacks: {unknown}"
    assert explained == expected


def test_codes_are_in_their_stages_range_with_a_title_and_a_hint() -> None:
    assert {entry.stage for entry in CATALOGUE.values()} == set(Stage)
    for code, entry in CATALOGUE.items():
        assert entry.code == code and re.fullmatch(r"GX\d{3}", code), code
        assert code.startswith(RANGES[entry.stage]), (code, entry.stage)
        assert entry.title.strip() and entry.hint.strip(), code
        # Structural checks and verification speak of problems; only stage 3 has notes.
        if entry.stage != Stage.ATTACK:
            assert entry.severity in (Severity.ERROR, Severity.WARNING), code


def test_every_code_written_in_the_app_or_the_docs_is_in_the_catalogue() -> None:
    catalogue_file = ROOT / "app" / "finding_codes.py"
    unknown = []
    for path in sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("docs/*.md")]):
        if path == catalogue_file:
            continue
        for code in sorted(set(CODE.findall(path.read_text(encoding="utf-8")))):
            if code not in CATALOGUE:
                unknown.append(f"{path.relative_to(ROOT)}: {code}")
    assert not unknown, "codes missing from app/finding_codes.py:\n" + "\n".join(unknown)


def test_no_finding_gets_its_code_from_anywhere_but_the_catalogue() -> None:
    """A `Finding("GX...", ...)` elsewhere would bypass the catalogue's severity and title."""
    offenders = []
    for path in sorted(ROOT.glob("app/**/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Finding"):
                continue
            code = next((k.value for k in node.keywords if k.arg == "code"), None)
            code = code or (node.args[0] if node.args else None)
            if isinstance(code, ast.Constant):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {code.value}")
    assert not offenders, offenders
