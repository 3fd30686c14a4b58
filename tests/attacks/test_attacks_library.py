"""The attack library itself: enough attacks, well described, every category covered, and
never a response that might be right (no crying wolf). No sandbox needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.attack_corpus import CORPUS, corpus_names

from app.attacks.campaign import context_for, grader_source, is_hit
from app.attacks.correctness import assess, strictly_equal
from app.attacks.library import AttackLibrary, check_categories
from app.attacks.model import CATEGORIES
from app.envpack.loader import load_envpack
from app.envpack.model import EnvPack, Manifest, Reference, Task
from app.errors import UserError

LIBRARY = AttackLibrary.builtin()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "attacks.md"


def _pack(kind="qa", tasks=(), solutions=(), grader_type="match", mode="exact") -> EnvPack:
    manifest = Manifest(kind=kind)
    manifest.grader.type = grader_type
    manifest.grader.mode = mode
    return EnvPack(root=Path("."), manifest=manifest, tasks=list(tasks), solutions=list(solutions))


def test_library_has_at_least_35_attacks_with_unique_ids_and_words_for_experts():
    attacks = list(LIBRARY)
    assert len(attacks) >= 35
    assert len({a.id for a in attacks}) == len(attacks)
    for attack in attacks:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", attack.id), attack.id
        assert attack.category in CATEGORIES
        assert len(attack.explanation) > 40 and len(attack.fix_hint) > 30, attack.id
        assert attack.kinds and set(attack.kinds) <= {"qa", "code"}
        assert attack.graders and set(attack.graders) <= {"match", "python", "judge", "tests"}


def test_every_category_has_attacks():
    for category in CATEGORIES:
        assert LIBRARY.by_category(category), category


@pytest.mark.parametrize(
    "attack_id",
    [
        "empty",
        "whitespace",
        "all-options",
        "many-values",
        "several-finals",
        "format-only",
        "hedge",
        "keyword-stuffing",
        "length-stuffing",
        "nan-inf",
        "huge-number",
        "type-confusion",
        "parser-bomb",
        "unicode-lookalike",
        "zero-width",
        "eval-injection",
        "prompt-echo",
        "judge-master-key",
        "judge-prompt-injection",
        "eq-always-true",
        "sys-exit",
        "os-exit",
        "raise-skip",
        "raise-not-implemented",
        "monkeypatch-builtins",
        "monkeypatch-grader",
        "frame-peek",
        "gc-peek",
        "hardcode-visible",
        "magic-strings",
        "trusted-attributes",
        "huge-output",
        "sleep-past-timeout",
        "memory-bomb",
        "crash-signal",
        "write-grader-files",
        "mutation-off-by-one",
        "mutation-scaled",
        "mutation-sign-flip",
        "mutation-truncated",
        "mutation-swapped-option",
        "mutation-negated",
        "mutation-neighbour-answer",
    ],
)
def test_the_issue_list_is_covered(attack_id):
    assert LIBRARY.get(attack_id) is not None


def test_docs_describe_every_attack():
    """The GX3xx codes are checked against the catalogue in tests/test_finding_catalogue.py."""
    text = DOCS.read_text(encoding="utf-8")
    for attack in LIBRARY:
        assert f"`{attack.id}`" in text, attack.id
    assert "GX214" in text  # stage 3 stops with stage 2's code when the grader does not answer


@pytest.mark.parametrize("name", corpus_names())
def test_no_generated_attack_response_could_be_a_right_answer(name):
    """Wrong by construction: over every corpus package, each candidate the library would grade
    is rejected by the correctness guard (the guard drops the rest before grading)."""
    loaded = load_envpack(CORPUS / name)
    assert loaded.pack is not None, loaded.findings
    pack = loaded.pack
    source = grader_source(pack)
    for task in pack.tasks:
        ctx = context_for(pack, task, source)
        for attack in LIBRARY.applicable(pack):
            for _variant, response in attack.generate(ctx):
                assert isinstance(response, str)
                if (
                    pack.manifest.kind == "qa"
                    and isinstance(task.answer, str)
                    and attack.id != "prompt-echo"
                ):
                    # a committed answer is never exactly the expected one
                    assert (
                        response.strip() != task.answer.strip()
                        or assess(pack, task, response, ctx.references).possibly_correct
                    )


def test_every_option_needs_more_than_one_option():
    one = Task(
        "t1",
        "Pick the only option.",
        answer="A",
        record={"id": "t1", "choices": ["yes"], "answer": "A"},
    )
    two = Task(
        "t2", "Pick one.", answer="A", record={"id": "t2", "choices": ["yes", "no"], "answer": "A"}
    )
    pack = _pack(tasks=[one, two], grader_type="match", mode="choice")
    attack = LIBRARY.get("all-options")
    assert list(attack.generate(context_for(pack, one, ""))) == []
    assert [r for _, r in attack.generate(context_for(pack, two, ""))][0] == "A B"


def test_a_mutation_that_lands_on_the_answer_is_dropped():
    task = Task("t", "What is 0 times 5?", answer=0, record={"id": "t", "answer": 0})
    pack = _pack(tasks=[task], solutions=[Reference("t", "0")], mode="numeric")
    ctx = context_for(pack, task, "")
    assert list(LIBRARY.get("mutation-sign-flip").generate(ctx)) == []  # -0 is 0
    assert assess(pack, task, "-0", ctx.references).possibly_correct
    assert assess(pack, task, "The answer is 0.", ctx.references).possibly_correct
    assert not assess(pack, task, "0 or 1", ctx.references).possibly_correct
    assert not assess(pack, task, "not 0", ctx.references).possibly_correct


def test_correctness_guard_on_text_numbers_and_options():
    text = Task("a", "Which organelle?", answer="mitochondrion", record={})
    number = Task("b", "Rate?", answer=50, record={})
    choice = Task("c", "Start codon?", answer="A", record={"choices": ["AUG", "UAA"]})
    pack = _pack(tasks=[text, number, choice], mode="numeric")
    assert assess(pack, text, "  Mitochondrion. ", ()).possibly_correct
    assert assess(pack, text, "Answer: mitochondrion", ()).possibly_correct
    assert not assess(pack, text, "mitochondrion or chloroplast", ()).possibly_correct
    assert assess(pack, number, "50.0", ()).possibly_correct
    assert not assess(
        pack, number, "\u221250", ()
    ).possibly_correct  # a minus sign is not a positive number
    assert not assess(pack, number, "nan", ()).possibly_correct
    assert assess(pack, choice, "A", ()).possibly_correct
    assert assess(pack, choice, "(a)", ()).possibly_correct
    assert not assess(pack, choice, "A B", ()).possibly_correct


def test_code_attacks_are_wrong_unless_they_copy_a_reference():
    task = Task("t", "Write f.", record={"entry": "f", "tests": [{"args": [1], "expected": 2}]})
    pack = _pack(
        kind="code",
        tasks=[task],
        solutions=[Reference("t", "def f(x):\n    return 2 * x\n")],
        grader_type="tests",
    )
    assert assess(
        pack, task, "def f(x):\n    return 2 * x\n", ["def f(x):\n    return 2 * x\n"]
    ).possibly_correct
    assert not assess(
        pack, task, "def f(x):\n    return 0\n", ["def f(x):\n    return 2 * x\n"]
    ).possibly_correct


def test_strict_equality_tells_booleans_from_numbers():
    assert not strictly_equal(True, 1)
    assert not strictly_equal([1, True], [1, 1])
    assert strictly_equal({"a": [1, 2]}, {"a": [1, 2]})
    assert not strictly_equal("1", 1)


def test_hit_rule():
    assert is_hit(1.0, 0.0, 1.0, 0.01, full_reward_only=False)
    assert is_hit(0.5, 0.0, 1.0, 0.01, full_reward_only=False)  # above a plain wrong answer
    assert not is_hit(0.5, 0.0, 1.0, 0.01, full_reward_only=True)  # near misses: full reward only
    assert not is_hit(0.5, 0.5, 1.0, 0.01, full_reward_only=False)  # no better than plain wrong
    assert not is_hit(0.005, 0.0, 1.0, 0.01, full_reward_only=False)  # below the margin


def test_unknown_category_is_a_clear_user_error():
    with pytest.raises(UserError) as caught:
        check_categories(["parsers"])
    assert "parser" in caught.value.hint
    assert check_categories(["parser", " judge "]) == ["parser", "judge"]


def test_code_attacks_are_valid_python():
    for name in ("robust-tests", "code-strict-inprocess"):
        pack = load_envpack(CORPUS / name).pack
        source = grader_source(pack)
        for task in pack.tasks:
            ctx = context_for(pack, task, source)
            for attack in LIBRARY.applicable(pack):
                for variant, response in attack.generate(ctx):
                    if attack.id in ("empty", "whitespace") or variant == "empty-code-block":
                        continue  # not meant to be code
                    compile(response, f"{attack.id}:{variant}", "exec")
                    assert f"def {task.entry}(" in response, (attack.id, variant)
