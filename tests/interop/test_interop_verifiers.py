"""Prime Intellect `verifiers` export and import (unit tests).

The exported environment is imported and its taskset built for real; only the `verifiers`
import is stubbed (conftest.load_exported). The task data, the reward and Gauntlet's graders
all run. test_interop_verifiers_real.py runs the same export in the real verifiers release."""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.interop_checks import assert_reimport_is_someone_elses, errors_of
from support.interop_templates import BAD_GRADER_LINES, HARBOR_TEMPLATES

from app.envpack.interop import export_verifiers, import_verifiers
from app.envpack.loader import load_envpack
from app.errors import UserError
from app.sandbox.runner.match import grade_match


def reply(text):
    """A finished rollout's trace as the reward reads it: the sampled assistant replies."""
    return SimpleNamespace(root_reply=None, assistant_messages=[SimpleNamespace(content=text)])


@pytest.mark.parametrize("name", HARBOR_TEMPLATES)
def test_exported_environment_rewards_references_and_negatives_like_the_funnel(
    name, template, runtime, load_exported, tmp_path
):
    pack = load_envpack(template(name)).pack
    out = tmp_path / "env"
    module_name = export_verifiers(pack.root, out, runtime)
    project = tomllib.loads((out / "pyproject.toml").read_text())
    assert project["project"]["name"] == module_name.replace("_", "-")
    assert project["project"]["dependencies"] == ["verifiers>=0.4,<0.5"]
    module = load_exported(out, module_name)
    assert module.__all__ == ["GauntletTaskset", "load_environment"]
    tasks = {task.data.id: task for task in module.load_environment()}
    assert [json.loads(t.data.gauntlet_task) for t in tasks.values()] == [
        t.record for t in pack.tasks
    ]
    assert all(t.prompt in tasks[t.id].data.prompt for t in pack.tasks)
    references = {r.task_id: r.response for r in pack.solutions}
    assert {i: t.data.reference for i, t in tasks.items()} == {
        t.id: references.get(t.id) for t in pack.tasks
    }
    for ref in pack.solutions:
        assert asyncio.run(tasks[ref.task_id].gauntlet(reply(ref.response))) == 1.0, ref
        assert asyncio.run(tasks[ref.task_id].validate()) is True
    for neg in pack.negatives:
        assert asyncio.run(tasks[neg.task_id].gauntlet(reply(neg.response))) == 0.0, neg
    first = tasks[pack.tasks[0].id]
    assert asyncio.run(first.gauntlet(SimpleNamespace(root_reply=None, assistant_messages=[]))) == 0


@pytest.mark.parametrize(
    "response",
    ["propan-2-ol", "Propan-2-ol ", "2-propanol", "propan-1-ol", "propan-2-ol or 2-propanol", ""],
)
def test_reward_agrees_with_the_sandbox_grader(
    response, template, runtime, load_exported, tmp_path
):
    pack = load_envpack(template("qa-exact")).pack
    module = load_exported(tmp_path / "env", export_verifiers(pack.root, tmp_path / "env", runtime))
    task = pack.task("alcohol-2")
    expected = grade_match(task.record, response, pack.grader.to_dict())["reward"]
    assert module.rewards.score(task.record, response)["reward"] == expected
    assert module.reply_text(reply(response)) == response  # unstripped, as the funnel grades
    assert module.reply_text(SimpleNamespace(root_reply=response)) == response


def test_judge_environment_plugs_the_rubric_judge_with_the_package_rubric(
    template, runtime, load_exported, tmp_path
):
    root = template("qa-judge")
    with (root / "rubric.md").open("a") as rubric:
        rubric.write("\nNever reward a response that only says {placeholder}.\n")
    pack = load_envpack(root).pack
    module = load_exported(tmp_path / "env", export_verifiers(pack.root, tmp_path / "env", runtime))
    tasks = list(module.load_environment())
    assert not hasattr(tasks[0], "gauntlet")  # the judge is the reward, not a function
    assert asyncio.run(tasks[0].validate()) is None  # no model-free gold check for a judge
    (judge,) = tasks[0].config.judges
    assert judge["id"] == "rubric" and judge["answer_field"] == "answer"
    assert judge["model"] == pack.grader.to_dict()["model"]
    criteria = json.loads(Path(judge["path"]).read_text())["criteria"]
    assert criteria == [{"name": "rubric", "text": (pack.root / "rubric.md").read_text().strip()}]
    assert "{placeholder}" in criteria[0]["text"]


@pytest.mark.parametrize("name", ["agentic-data", "agentic-bugfix"])
def test_an_agentic_package_is_refused_not_exported_empty(name, template, runtime, tmp_path):
    # its tasks are container folders: a verifiers taskset of them would have no tasks
    with pytest.raises(UserError, match="agentic package") as caught:
        export_verifiers(template(name), tmp_path / "out", runtime)
    assert "--to harbor" in caught.value.hint
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", [*HARBOR_TEMPLATES, "qa-judge"])
def test_round_trip_gives_back_an_equal_package_that_passes_check(
    name, template, runtime, tmp_path
):
    original = load_envpack(template(name)).pack
    export_verifiers(original.root, tmp_path / "env", runtime)
    back = tmp_path / "back"
    import_verifiers(tmp_path / "env", back)
    assert errors_of(back) == []
    again = load_envpack(back).pack
    assert [t.record for t in again.tasks] == [t.record for t in original.tasks]
    assert [(r.task_id, r.response) for r in again.solutions] == [
        (r.task_id, r.response) for r in original.solutions
    ]
    assert [(n.task_id, n.response, n.note) for n in again.negatives] == [
        (n.task_id, n.response, n.note) for n in original.negatives
    ]
    assert again.grader.to_dict() == original.grader.to_dict()


COMMON_EXACT = """
import verifiers as vf
from datasets import Dataset


def load_environment(**kwargs):
    dataset = Dataset.from_list([
        {"question": "What is the chemical symbol of gold?", "answer": "Au"},
        {"question": "What is the chemical symbol of iron?", "answer": "Fe"},
    ])
    parser = vf.Parser()

    def correct_answer(completion, answer, **kwargs):
        response = parser.parse_answer(completion) or ""
        return 1.0 if response.strip() == answer else 0.0

    rubric = vf.Rubric(funcs=[correct_answer], weights=[1.0])
    return vf.SingleTurnEnv(dataset=dataset, rubric=rubric)
"""

COMMON_NUMERIC = """
import math
import verifiers as vf
from datasets import load_dataset


def load_environment(**kwargs):
    dataset = load_dataset("json", data_files="data/problems.jsonl", split="train")

    def numeric_reward(completion, answer, **kwargs):
        try:
            value = float(completion[-1]["content"])
        except ValueError:
            return 0.0
        return 1.0 if math.isclose(value, float(answer), rel_tol=1e-6) else 0.0

    return vf.SingleTurnEnv(dataset=dataset, rubric=vf.Rubric(funcs=[numeric_reward]))
"""


def test_a_common_shape_environment_with_exact_reward_imports(tmp_path):
    env = tmp_path / "chem_symbols"
    env.mkdir()
    (env / "chem_symbols.py").write_text(COMMON_EXACT)
    back = tmp_path / "pack"
    import_verifiers(env, back)
    assert errors_of(back) == []
    pack = load_envpack(back).pack
    assert pack.grader.mode == "exact"
    assert [(t.prompt, t.answer) for t in pack.tasks] == [
        ("What is the chemical symbol of gold?", "Au"),
        ("What is the chemical symbol of iron?", "Fe"),
    ]


def test_a_common_shape_environment_with_a_data_file_and_numeric_reward_imports(tmp_path):
    env = tmp_path / "arith"
    (env / "data").mkdir(parents=True)
    (env / "arith.py").write_text(COMMON_NUMERIC)
    rows = [
        {"question": "What is 6 * 7?", "answer": "42"},
        {"question": "What is 1 / 8?", "answer": "0.125"},
    ]
    (env / "data" / "problems.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    back = tmp_path / "pack"
    import_verifiers(env / "arith.py", back)
    pack = load_envpack(back).pack
    assert pack.grader.mode == "numeric"
    assert [t.answer for t in pack.tasks] == [42, 0.125]
    assert errors_of(back) == []


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (
            COMMON_EXACT.replace(
                "Dataset.from_list([", 'load_example_dataset("gsm8k") or (['
            ).replace("])", "])"),
            "not stored in the folder",
        ),
        (COMMON_EXACT.replace("vf.SingleTurnEnv(", "vf.ToolEnv(tools=[], "), "a ToolEnv"),
        ("import numpy\n" + COMMON_EXACT.replace("== answer", "in answer"), "imports numpy"),
        (COMMON_EXACT.replace("weights=[1.0]", "weights=[-1.0]"), "negative"),
        (COMMON_EXACT.replace("vf.Parser()", "vf.XMLParser(['answer'])"), "XMLParser"),
        (COMMON_EXACT.replace("(**kwargs):", "(:", 1), "cannot be read as Python"),
    ],
)
def test_other_shapes_are_refused_with_the_reason(source, reason, tmp_path):
    env = tmp_path / "custom"
    env.mkdir()
    (env / "custom.py").write_text(source)
    with pytest.raises(UserError, match="custom.py cannot be converted") as caught:
        import_verifiers(env, tmp_path / "pack")
    assert reason in caught.value.message
    assert not (tmp_path / "pack").exists()


def test_import_never_runs_the_module(tmp_path):
    env = tmp_path / "evil"
    env.mkdir()
    marker = tmp_path / "ran"
    (env / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n" + COMMON_EXACT)
    import_verifiers(env, tmp_path / "pack")
    assert not marker.exists()


def test_a_python_grader_that_misbehaves_scores_the_floor(
    template, runtime, load_exported, tmp_path
):
    root = template("qa-python")
    source = (
        (root / "grader.py")
        .read_text()
        .replace("def grade(task, response):", "def _grade(task, response):")
    )
    (root / "grader.py").write_text(source + BAD_GRADER_LINES)
    module = load_exported(tmp_path / "env", export_verifiers(root, tmp_path / "env", runtime))
    task = load_envpack(root).pack.task("water").record
    assert module.rewards.score(task, "2, 1, 2")["reward"] == 1.0
    for response in ("boom", "too-much", "nan"):
        assert module.rewards.score(task, response)["reward"] == 0.0, response


def test_a_symlinked_module_or_data_file_is_refused_naming_the_file(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    (private / "notes.py").write_text(COMMON_EXACT.replace("gold", "the vault code 7731"))
    env = tmp_path / "linked"
    env.mkdir()
    (env / "linked.py").symlink_to(private / "notes.py")
    with pytest.raises(UserError) as caught:
        import_verifiers(env, tmp_path / "pack")
    assert "linked.py" in caught.value.message and "symbolic link" in caught.value.message
    assert not (tmp_path / "pack").exists()

    env = tmp_path / "arith"
    (env / "data").mkdir(parents=True)
    (env / "arith.py").write_text(COMMON_NUMERIC)
    (private / "rows.jsonl").write_text('{"question": "q", "answer": "1"}\n')
    (env / "data" / "problems.jsonl").symlink_to(private / "rows.jsonl")
    with pytest.raises(UserError, match="data/problems.jsonl in .* is a symbolic link"):
        import_verifiers(env / "arith.py", tmp_path / "pack2")


def test_a_package_imported_from_verifiers_is_someone_elses_and_takes_the_strict_path(
    runtime, tmp_path
):
    assert_reimport_is_someone_elses(
        tmp_path,
        lambda pack, out: export_verifiers(pack, out, runtime),
        import_verifiers,
    )
