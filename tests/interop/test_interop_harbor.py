"""Harbor / Terminal-Bench export and import: real files, the real verifier script run as a
process the way Harbor runs it, real structural checks on what comes back."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from support.interop_checks import assert_reimport_is_someone_elses, errors_of
from support.interop_templates import BAD_GRADER_LINES, HARBOR_TEMPLATES

from app.envpack.interop import export_harbor, import_harbor
from app.envpack.interop.harbor_export import solve_script
from app.envpack.interop.pack_io import PackHasErrors
from app.envpack.loader import load_envpack
from app.errors import UserError
from app.sandbox.runner.match import grade_match


def verify(task_folder: Path, response: str | None, tmp_path: Path) -> dict:
    """Run the task's tests/verify.py as Harbor would (with the answer file and log folder
    moved under tmp_path) and return what it wrote to reward.json."""
    answer = tmp_path / "answer.txt"
    if answer.exists():
        answer.unlink()
    if response is not None:
        answer.write_text(response, encoding="utf-8")
    logs = tmp_path / "logs"
    done = subprocess.run(
        [
            sys.executable,
            str(task_folder / "tests" / "verify.py"),
            "--answer",
            str(answer),
            "--logs",
            str(logs),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    reward = json.loads((logs / "reward.json").read_text())
    assert float((logs / "reward.txt").read_text()) == reward["reward"]
    return reward


@pytest.mark.parametrize("name", HARBOR_TEMPLATES)
def test_export_writes_one_harbor_task_folder_per_task(name, template, runtime, tmp_path):
    pack = load_envpack(template(name)).pack
    out = tmp_path / "harbor"
    names = export_harbor(pack.root, out, runtime)
    assert names == [t.id for t in pack.tasks]
    for task in pack.tasks:
        folder = out / task.id
        config = tomllib.loads((folder / "task.toml").read_text())
        assert config["schema_version"] == "1.1"
        assert config["task"]["name"].startswith(pack.name + ".")
        assert config["metadata"]["gauntlet_task_id"] == task.id
        assert config["verifier"]["timeout_sec"] >= pack.grader.timeout_s
        assert config["agent"]["timeout_sec"] > 0
        assert config["environment"]["memory_mb"] >= pack.manifest.sandbox.memory_mb
        assert task.prompt in (folder / "instruction.md").read_text()
        assert (folder / "environment" / "Dockerfile").read_text().startswith("#")
        for script in ("solution/solve.sh", "tests/test.sh"):
            assert (folder / script).stat().st_mode & stat.S_IXUSR
        assert "/tests/verify.py" in (folder / "tests" / "test.sh").read_text()
    assert (out / "README.md").is_file()


@pytest.mark.parametrize("name", HARBOR_TEMPLATES)
def test_exported_verifier_gives_references_full_reward_and_negatives_the_floor(
    name, template, runtime, tmp_path
):
    pack = load_envpack(template(name)).pack
    out = tmp_path / "harbor"
    export_harbor(pack.root, out, runtime)
    for ref in pack.solutions:
        assert verify(out / ref.task_id, ref.response, tmp_path)["reward"] == 1.0, ref
    for neg in pack.negatives:
        assert verify(out / neg.task_id, neg.response, tmp_path)["reward"] == 0.0, neg
    first = pack.tasks[0].id
    assert verify(out / first, None, tmp_path)["reward"] == 0.0  # no answer file at all


def test_code_verifier_reports_tests_passed(template, runtime, tmp_path):
    out = tmp_path / "harbor"
    export_harbor(template("code-tests"), out, runtime)
    half = "def hamming(a, b):\n    return 2\n"
    reward = verify(out / "hamming", half, tmp_path)
    assert reward == {"reward": 0.25, "passed": 1, "total": 4}
    hostile = "import sys\nsys.exit(0)\n"
    assert verify(out / "hamming", hostile, tmp_path)["reward"] == 0.0


@pytest.mark.parametrize(
    "response",
    [
        "50",
        "50.0",
        " 50 ",
        "5e1",
        "50\n",
        "49.99",
        "50 or 51",
        "NaN",
        "ｆｉｆｔｙ",
        "50\u200b",
        "",
        "50 µM/min",
    ],
)
def test_exported_match_verifier_agrees_with_the_sandbox_grader(
    response, template, runtime, tmp_path
):
    pack = load_envpack(template("qa-numeric")).pack
    out = tmp_path / "harbor"
    export_harbor(pack.root, out, runtime)
    task = pack.task("mm-rate-1")
    expected = grade_match(task.record, response.removesuffix("\n"), pack.grader.to_dict())[
        "reward"
    ]
    assert verify(out / task.id, response, tmp_path)["reward"] == expected


@pytest.mark.parametrize(
    "response", ["42", "héllo \"$HOME\" `ls` 'q'\n\nEOF\n", "no newline at end", "\\n literal\ttab"]
)
def test_solve_script_writes_the_reference_byte_for_byte(response, tmp_path):
    answer = tmp_path / "out" / "answer.txt"
    script = tmp_path / "solve.sh"
    script.write_text(solve_script(response, str(answer)))
    subprocess.run(["bash", str(script)], check=True, timeout=60)
    assert answer.read_bytes() == response.encode("utf-8")


@pytest.mark.parametrize("name", HARBOR_TEMPLATES)
def test_round_trip_gives_back_an_equal_package_that_passes_check(
    name, template, runtime, tmp_path
):
    original = load_envpack(template(name)).pack
    export_harbor(original.root, tmp_path / "harbor", runtime)
    back = tmp_path / "back"
    import_harbor(tmp_path / "harbor", back)
    assert errors_of(back) == []
    again = load_envpack(back).pack
    assert [t.record for t in again.tasks] == [t.record for t in original.tasks]
    assert [(t.id, t.answer) for t in again.tasks] == [(t.id, t.answer) for t in original.tasks]
    assert sorted((r.task_id, r.response) for r in again.solutions) == sorted(
        (r.task_id, r.response) for r in original.solutions
    )
    assert sorted((n.task_id, n.response, n.note) for n in again.negatives) == sorted(
        (n.task_id, n.response, n.note) for n in original.negatives
    )
    assert again.grader.to_dict() == original.grader.to_dict()
    assert again.manifest.package == original.manifest.package
    if original.grader.type == "python":
        assert (back / "grader.py").read_text() == (original.root / "grader.py").read_text()


def test_judge_packages_are_refused_with_a_pointer_to_verifiers(template, runtime, tmp_path):
    with pytest.raises(UserError, match="LLM judge") as caught:
        export_harbor(template("qa-judge"), tmp_path / "out", runtime)
    assert "verifiers" in caught.value.hint
    assert not (tmp_path / "out").exists()


def test_a_package_with_errors_is_not_exported(template, runtime, tmp_path):
    pack = template("qa-exact")
    (pack / "tasks.jsonl").write_text('{"id": "x", "prompt": "Name it."}\n')  # no answer
    with pytest.raises(PackHasErrors) as caught:
        export_harbor(pack, tmp_path / "out", runtime)
    assert caught.value.exit_code == 1 and "gauntlet check" in caught.value.hint
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_non_empty_destination(template, runtime, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        export_harbor(template("qa-exact"), out, runtime)
    assert os.listdir(out) == ["keep.txt"]


# -- tasks from elsewhere ------------------------------------------------------------------


def make_task(
    root: Path, name: str, instruction: str, solve: str, tests: dict[str, str] | None = None
) -> Path:
    folder = root / name
    (folder / "solution").mkdir(parents=True)
    (folder / "tests").mkdir()
    (folder / "task.toml").write_text(
        'schema_version = "1.1"\n[task]\nname = "lab/'
        + name
        + '"\n[verifier]\ntimeout_sec = 60.0\n'
    )
    (folder / "instruction.md").write_text(instruction)
    (folder / "solution" / "solve.sh").write_text(solve)
    (folder / "tests" / "test.sh").write_text("#!/bin/bash\npython3 /tests/test_outputs.py\n")
    for file_name, text in (tests or {}).items():
        (folder / "tests" / file_name).write_text(text)
    return folder


def test_plain_answer_tasks_import_as_a_qa_package(tmp_path):
    src = tmp_path / "capitals"
    make_task(
        src,
        "france",
        "What is the capital of France?\n",
        '#!/bin/bash\nset -e\necho "Paris" > /app/answer.txt\n',
    )
    make_task(
        src,
        "peru",
        "What is the capital of Peru?\n",
        "#!/bin/bash\ncat > /app/answer.txt <<'EOF'\nLima\nEOF\n",
    )
    make_task(
        src,
        "chad",
        "What is the capital of Chad?\n",
        "#!/bin/bash\npython3 /solution/lookup.py\n",
        {
            "test_outputs.py": (
                'EXPECTED = "N\'Djamena"\n\ndef test_answer():\n'
                '    assert open("/app/answer.txt").read().strip() == EXPECTED\n'
            )
        },
    )
    back = tmp_path / "pack"
    imported = import_harbor(src, back)
    assert imported.manifest["package"]["name"] == "lab/capitals"
    assert errors_of(back) == []
    pack = load_envpack(back).pack
    assert [(t.id, t.prompt, t.answer) for t in pack.tasks] == [
        ("chad", "What is the capital of Chad?", "N'Djamena"),
        ("france", "What is the capital of France?", "Paris"),
        ("peru", "What is the capital of Peru?", "Lima"),
    ]
    assert pack.grader.mode == "exact"
    for ref in pack.solutions:
        assert (
            grade_match(pack.task(ref.task_id).record, ref.response, pack.grader.to_dict())[
                "reward"
            ]
            == 1.0
        )


def test_numeric_answers_import_with_the_numeric_mode(tmp_path):
    src = tmp_path / "sums"
    make_task(src, "one", "What is 2 + 2?", "echo 4 > /app/answer.txt\n")
    make_task(src, "two", "What is 1 / 4?", "printf '%s\\n' 0.25 > /app/answer.txt\n")
    back = tmp_path / "pack"
    import_harbor(src, back)
    pack = load_envpack(back).pack
    assert pack.grader.mode == "numeric"
    assert [t.answer for t in pack.tasks] == [4, 0.25]
    assert errors_of(back) == []


def test_a_task_graded_by_a_test_suite_is_refused_by_name_and_nothing_is_written(tmp_path):
    src = tmp_path / "mixed"
    make_task(src, "ok", "What is 2 + 2?", "echo 4 > /app/answer.txt\n")
    make_task(
        src,
        "server-fix",
        "Fix the web server.",
        "#!/bin/bash\nsed -i 's/80/8080/' /etc/nginx.conf\nnginx -s reload\n",
        {"test_outputs.py": "def test_port():\n    assert True\n"},
    )
    back = tmp_path / "pack"
    with pytest.raises(UserError, match='Task "server-fix" cannot be converted') as caught:
        import_harbor(src, back, kind="qa")
    assert "not a plain value" in caught.value.message
    assert not back.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left


def test_mixing_exported_and_foreign_tasks_is_refused(template, runtime, tmp_path):
    export_harbor(template("qa-numeric"), tmp_path / "set", runtime)
    make_task(tmp_path / "set", "extra", "What is 2 + 2?", "echo 4 > /app/answer.txt\n")
    with pytest.raises(UserError, match='Task "extra" was not exported'):
        import_harbor(tmp_path / "set", tmp_path / "pack")


def test_a_folder_without_tasks_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="No Harbor tasks"):
        import_harbor(tmp_path / "empty", tmp_path / "pack")


def test_a_single_task_folder_imports(template, runtime, tmp_path):
    export_harbor(template("qa-exact"), tmp_path / "set", runtime)
    import_harbor(tmp_path / "set" / "alcohol-1", tmp_path / "pack")
    pack = load_envpack(tmp_path / "pack").pack
    assert [t.id for t in pack.tasks] == ["alcohol-1"]
    assert errors_of(tmp_path / "pack") == []


def test_older_terminal_bench_tasks_get_a_pointer_to_the_harbor_layout(tmp_path):
    (tmp_path / "tb" / "hello").mkdir(parents=True)
    (tmp_path / "tb" / "hello" / "task.yaml").write_text("instruction: say hello\n")
    with pytest.raises(UserError, match="older Terminal-Bench layout"):
        import_harbor(tmp_path / "tb", tmp_path / "pack")


@pytest.mark.parametrize("response", ["boom", "too-much", "nan"])
def test_a_python_grader_that_misbehaves_scores_the_floor(response, template, runtime, tmp_path):
    root = template("qa-python")
    source = (
        (root / "grader.py")
        .read_text()
        .replace("def grade(task, response):", "def _grade(task, response):")
    )
    (root / "grader.py").write_text(source + BAD_GRADER_LINES)
    export_harbor(root, tmp_path / "harbor", runtime)
    assert verify(tmp_path / "harbor" / "water", "2, 1, 2", tmp_path)["reward"] == 1.0
    assert verify(tmp_path / "harbor" / "water", response, tmp_path)["reward"] == 0.0


def test_a_grader_in_a_sub_folder_travels_and_comes_back(template, runtime, tmp_path):
    root = template("qa-python")
    (root / "graders").mkdir()
    (root / "grader.py").rename(root / "graders" / "chem.py")
    toml = (
        (root / "env.toml")
        .read_text()
        .replace('entry = "grader.py:grade"', 'entry = "graders/chem.py:grade"')
    )
    (root / "env.toml").write_text(toml)
    assert errors_of(root) == []
    export_harbor(root, tmp_path / "harbor", runtime)
    assert verify(tmp_path / "harbor" / "water", "2, 1, 2", tmp_path)["reward"] == 1.0
    import_harbor(tmp_path / "harbor", tmp_path / "back")
    assert (tmp_path / "back" / "graders" / "chem.py").read_text() == (
        root / "graders" / "chem.py"
    ).read_text()
    assert errors_of(tmp_path / "back") == []


def test_a_symlinked_instruction_is_refused_naming_the_file(tmp_path):
    secrets = tmp_path / "home" / ".aws"
    secrets.mkdir(parents=True)
    (secrets / "credentials").write_text("aws_secret_access_key = AKIA-leaked\n")
    src = tmp_path / "tasks"
    task = make_task(src, "leak", "placeholder", "echo 4 > /app/answer.txt\n")
    (task / "instruction.md").unlink()
    (task / "instruction.md").symlink_to(secrets / "credentials")
    back = tmp_path / "pack"
    with pytest.raises(UserError) as caught:
        import_harbor(src, back)
    assert "leak/instruction.md" in caught.value.message
    assert "symbolic link" in caught.value.message
    assert caught.value.where == str(task / "instruction.md")
    assert not back.exists()


def test_a_symlinked_task_folder_is_refused(tmp_path):
    elsewhere = make_task(tmp_path / "elsewhere", "outside", "What is 2 + 2?", "echo 4\n")
    src = tmp_path / "tasks"
    make_task(src, "inside", "What is 3 + 3?", "echo 6 > /app/answer.txt\n")
    (src / "outside").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UserError, match="outside in .* is a symbolic link"):
        import_harbor(src, tmp_path / "pack")


def test_a_package_imported_from_harbor_is_someone_elses_and_takes_the_strict_path(
    runtime, tmp_path
):
    assert_reimport_is_someone_elses(
        tmp_path,
        lambda pack, out: export_harbor(pack, out, runtime),
        import_harbor,
    )
