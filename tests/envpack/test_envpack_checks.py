"""Every structural check code: a package that triggers it (code, file and line asserted) and
the fixed package that does not."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.agentic_packages import AGENTIC_CASES
from support.envpack_packages import (
    CHOICE_TASKS,
    NUMERIC_TASKS,
    REGEX_TASKS,
    base_files,
    code_variant,
    jsonl,
    judge_variant,
    mode_variant,
    python_variant,
    set_grader,
    write_files,
)
from support.multiturn_packages import MULTITURN_TRIGGERED
from support.rubric_packages import RUBRIC_CASES

from app.envpack.checks import CHECKS, LOADER_CODES
from app.envpack.rules import RULES
from app.findings import Finding
from app.funnel.structure import run_structure_stage

Files = dict


def sub(file: str, old: str, new: str, count: int = 1) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        assert old in files[file], f"{old!r} not in {file}"
        files[file] = files[file].replace(old, new, count)

    return apply


def put(file: str, content: str | bytes | None) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        files[file] = content

    return apply


def both(*steps: Callable[[Files], None]) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        for step in steps:
            step(files)

    return apply


OFFLINE_DOCKERFILE = (
    "ARG GAUNTLET_BASE\n"
    "FROM ${GAUNTLET_BASE}\n"
    "USER root\n"
    "COPY wheels/ /tmp/wheels/\n"
    "RUN python3 -m pip install --no-index --find-links /tmp/wheels sympy\n"
    "USER 10001:10001\n"
)


def no_change(files: Files) -> None:
    pass


def grader_py(source: str) -> Callable[[Files], None]:
    return put("grader.py", source)


GOOD_GRADER_HEAD = "def grade(task, response):\n"


@dataclass
class Case:
    code: str
    breaks: Callable[[Files], None]
    file: str | None
    marker: str | None  # a text on the expected line of `file`; None: the line is `line`
    variant: Callable[[Files], None] = (
        no_change  # the valid package this case starts from (= the fix)
    )
    post: Callable[[Path], None] | None = None  # file-system changes a dict cannot express
    id: str = ""
    line: int | None = (
        None  # the expected line when there is no marker (None: a whole-file finding)
    )


def _code_task(**overrides) -> dict:
    task = {
        "id": "add",
        "prompt": "Write add(a, b) returning the sum.",
        "entry": "add",
        "tests": [{"args": [1, 2], "expected": 3}, {"args": [-1, 1], "expected": 0}],
    }
    task.update(overrides)
    return {k: v for k, v in task.items() if v is not None}


def _code_tasks_line(**overrides) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        lines = files["tasks.jsonl"].splitlines(keepends=True)
        lines[0] = jsonl(_code_task(**overrides))
        files["tasks.jsonl"] = "".join(lines)

    return apply


def _symlink(path: Path) -> None:
    os.symlink("README.md", path / "extra.md")


def _big_file(path: Path) -> None:
    with open(path / "data.txt", "wb") as handle:
        handle.truncate(17 * 1024 * 1024)  # sparse: fast to write, 17 MB on paper


CASES = [
    Case("GX100", put("env.toml", None), "env.toml", None),
    Case(
        "GX101",
        sub("env.toml", 'name = "acme/capitals"', 'name = "acme/capitals'),
        "env.toml",
        "name =",
    ),
    Case(
        "GX102",
        sub("env.toml", 'schema = "gauntlet/1"', 'schema = "gauntlet/2"'),
        "env.toml",
        "schema =",
    ),
    Case("GX103", sub("env.toml", 'title = "Capital', 'titel = "Capital'), "env.toml", "titel"),
    Case("GX104", sub("env.toml", "timeout_s = 10", 'timeout_s = "10"'), "env.toml", "timeout_s"),
    Case("GX105", sub("env.toml", 'mode = "exact"', 'mode = "exactly"'), "env.toml", "mode ="),
    Case("GX106", sub("env.toml", 'version = "0.1.0"\n', ""), "env.toml", "[package]"),
    Case(
        "GX110",
        sub("env.toml", 'name = "acme/capitals"', 'name = "Capitals"'),
        "env.toml",
        "name =",
    ),
    Case("GX111", sub("env.toml", 'version = "0.1.0"', 'version = "1.0"'), "env.toml", "version ="),
    Case("GX112", sub("env.toml", 'license = "CC-BY-4.0"\n', ""), "env.toml", "[package]"),
    Case("GX113", put("README.md", None), "README.md", None),
    Case(
        "GX114",
        sub("env.toml", 'license = "CC-BY-4.0"', 'license = "Beerware"'),
        "env.toml",
        "license =",
    ),
    Case("GX115", sub("env.toml", 'title = "Capital cities"', 'title = ""'), "env.toml", "title ="),
    Case(
        "GX120",
        sub("env.toml", 'path = "solutions.jsonl"', 'path = "refs.jsonl"'),
        "env.toml",
        'path = "refs.jsonl"',
    ),
    Case(
        "GX121",
        sub("tasks.jsonl", "", ""),
        "tasks.jsonl",
        "capital of Japan",
        post=lambda p: (p / "tasks.jsonl").write_bytes(
            (p / "tasks.jsonl").read_bytes().replace(b"Japan", b"Jap\xe9n")
        ),
        id="GX121-tasks",
    ),
    Case(
        "GX121",
        put("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00"),
        "logo.png",
        None,
        id="GX121-binary",
        line=3,
    ),
    Case("GX122", no_change, "data.txt", None, post=_big_file),
    Case("GX123", no_change, "extra.md", None, post=_symlink),
    Case(
        "GX124",
        sub("env.toml", 'path = "tasks.jsonl"', 'path = "../tasks.jsonl"'),
        "env.toml",
        "../tasks.jsonl",
    ),
    Case("GX125", put("solutions.jsonl", ""), "solutions.jsonl", None, line=1),
    Case(
        "GX126",
        sub("environment/Dockerfile", "FROM ${GAUNTLET_BASE}", "FROM python:3.12-slim"),
        "environment/Dockerfile",
        "FROM python",
        variant=put("environment/Dockerfile", OFFLINE_DOCKERFILE),
    ),
    Case(
        "GX127",
        sub("environment/Dockerfile", "COPY wheels/", "COPY --from=busybox:latest /bin/"),
        "environment/Dockerfile",
        "busybox",
        variant=put("environment/Dockerfile", OFFLINE_DOCKERFILE),
    ),
    Case(
        "GX128",
        sub("environment/Dockerfile", "--no-index --find-links /tmp/wheels ", ""),
        "environment/Dockerfile",
        "pip install",
        variant=put("environment/Dockerfile", OFFLINE_DOCKERFILE),
    ),
    Case(
        "GX130",
        sub("tasks.jsonl", '"answer": "Tokyo"}', '"answer": "Tokyo"'),
        "tasks.jsonl",
        "Japan",
    ),
    Case(
        "GX131",
        put(
            "tasks.jsonl",
            jsonl(
                {
                    "id": "fr",
                    "prompt": "What is the capital of France? Reply with the city only.",
                    "answer": "Paris",
                }
            )
            + '["jp", "Tokyo"]\n',
        ),
        "tasks.jsonl",
        '["jp"',
    ),
    Case(
        "GX132",
        sub(
            "tasks.jsonl",
            '"prompt": "What is the capital of Japan? Reply with the city only.", ',
            "",
        ),
        "tasks.jsonl",
        '"jp"',
    ),
    Case(
        "GX133",
        sub(
            "tasks.jsonl",
            '"prompt": "What is the capital of Japan? Reply with the city only."',
            '"prompt": 5',
        ),
        "tasks.jsonl",
        '"jp"',
    ),
    Case(
        "GX134",
        both(
            sub("tasks.jsonl", '"id": "jp"', '"id": "fr"'),
            sub("solutions.jsonl", '"task_id": "jp"', '"task_id": "fr"'),
            sub("negatives.jsonl", '"task_id": "jp"', '"task_id": "fr"'),
        ),
        "tasks.jsonl",
        "Japan",
    ),
    Case(
        "GX135",
        sub("tasks.jsonl", "What is the capital of Japan? Reply with the city only.", "   "),
        "tasks.jsonl",
        '"jp"',
    ),
    Case(
        "GX136",
        sub("solutions.jsonl", '"response": "Tokyo"}', '"response": "Tokyo", "respnse": "x"}'),
        "solutions.jsonl",
        "respnse",
    ),
    Case(
        "GX137",
        both(
            sub("tasks.jsonl", '"id": "jp"', '"id": "j p"'),
            sub("solutions.jsonl", '"task_id": "jp"', '"task_id": "j p"'),
            sub("negatives.jsonl", '"task_id": "jp"', '"task_id": "j p"'),
        ),
        "tasks.jsonl",
        "j p",
    ),
    Case(
        "GX138",
        put("tasks.jsonl", '{"prompt": "What is the capital of Peru?"}\n'),
        "tasks.jsonl",
        "Peru",
    ),
    Case(
        "GX139",
        sub("tasks.jsonl", '"answer": "Tokyo"}', '"answer": "Kyoto", "answer": "Tokyo"}'),
        "tasks.jsonl",
        "Japan",
    ),
    Case(
        "GX140",
        sub(
            "solutions.jsonl",
            '"task_id": "jp", "response": "Tokyo"',
            '"task_id": "jpn", "response": "Tokyo"',
        ),
        "solutions.jsonl",
        "jpn",
    ),
    Case(
        "GX141",
        sub("solutions.jsonl", '{"task_id": "jp", "response": "Tokyo"}\n', ""),
        "tasks.jsonl",
        '"jp"',
    ),
    Case(
        "GX142",
        sub("negatives.jsonl", '"task_id": "jp"', '"task_id": "jpx"'),
        "negatives.jsonl",
        "jpx",
    ),
    Case(
        "GX143",
        sub("solutions.jsonl", '"response": "Tokyo"', '"response": "  "'),
        "solutions.jsonl",
        '"jp"',
    ),
    Case(
        "GX144",
        sub("negatives.jsonl", '"response": "Kyoto"', '"response": "Tokyo"'),
        "negatives.jsonl",
        '"jp"',
    ),
    Case(
        "GX145",
        both(
            put("negatives.jsonl", None),
            sub("env.toml", '\n[negatives]\npath = "negatives.jsonl"\n', ""),
        ),
        "env.toml",
        None,
    ),
    Case(
        "GX146",
        sub(
            "solutions.jsonl",
            '{"task_id": "jp", "response": "Tokyo"}\n',
            '{"task_id": "jp", "response": "Tokyo"}\n{"task_id": "jp", "response": "Tokyo"}\n',
        ),
        "solutions.jsonl",
        None,
        id="GX146",
        line=3,
    ),
    Case("GX150", sub("tasks.jsonl", ', "answer": "Tokyo"', ""), "tasks.jsonl", '"jp"'),
    Case(
        "GX151",
        sub("env.toml", "pass_threshold = 1.0", "pass_threshold = 0.0"),
        "env.toml",
        "pass_threshold",
    ),
    Case(
        "GX152",
        sub("env.toml", "reward_range = [0.0, 1.0]", "reward_range = [1.0, 0.0]"),
        "env.toml",
        "reward_range",
    ),
    Case(
        "GX153",
        sub("tasks.jsonl", '"(?i)tokyo"', '"(?i)tok(yo"'),
        "tasks.jsonl",
        "tok(yo",
        variant=mode_variant("regex", REGEX_TASKS),
    ),
    Case(
        "GX154",
        sub("env.toml", "tolerance = 0.001", "tolerance = -1"),
        "env.toml",
        "tolerance",
        variant=mode_variant("numeric", NUMERIC_TASKS, "tolerance = 0.001"),
    ),
    Case(
        "GX155",
        sub("tasks.jsonl", '"answer": "A"', '"answer": "E"'),
        "tasks.jsonl",
        "Japan",
        variant=mode_variant("choice", CHOICE_TASKS),
    ),
    Case(
        "GX156",
        sub("tasks.jsonl", '"answer": 7', '"answer": "seven"'),
        "tasks.jsonl",
        "Three",
        variant=mode_variant("numeric", NUMERIC_TASKS),
    ),
    Case("GX157", sub("env.toml", "timeout_s = 10", "timeout_s = 0"), "env.toml", "timeout_s"),
    Case(
        "GX158",
        sub("env.toml", 'model = "openai/gpt-4o-mini"', 'model = ""'),
        "env.toml",
        "model =",
        variant=judge_variant,
    ),
    Case("GX159", sub("env.toml", 'kind = "qa"', 'kind = "code"'), "env.toml", 'type = "match"'),
    Case(
        "GX160",
        sub("env.toml", "timeout_s = 10", 'timeout_s = 10\nmodel = "openai/gpt-4o"'),
        "env.toml",
        "model =",
    ),
    Case(
        "GX161",
        sub(
            "env.toml",
            'path = "negatives.jsonl"\n',
            'path = "negatives.jsonl"\n\n[sandbox]\nmemory_mb = 16\n',
        ),
        "env.toml",
        "memory_mb",
    ),
    Case(
        "GX170",
        grader_py("def grade(task, response):\n    x = (\n    return 1.0\n"),
        "grader.py",
        "x = (",
        variant=python_variant,
    ),
    Case(
        "GX171",
        grader_py("def score(task, response):\n    return 1.0\n"),
        "grader.py",
        "def score",
        variant=python_variant,
    ),
    Case(
        "GX172",
        grader_py("class grade:\n    pass\n"),
        "grader.py",
        "class grade",
        variant=python_variant,
    ),
    Case(
        "GX173",
        grader_py("def grade(task):\n    return 1.0\n"),
        "grader.py",
        "def grade",
        variant=python_variant,
    ),
    Case(
        "GX174",
        sub("env.toml", 'entry = "grader.py:grade"', 'entry = "grader"'),
        "env.toml",
        "entry =",
        variant=python_variant,
    ),
    Case(
        "GX175",
        grader_py("import urllib.request\n\n" + GOOD_GRADER_HEAD + "    return 1.0\n"),
        "grader.py",
        "import urllib",
        variant=python_variant,
    ),
    Case(
        "GX176",
        grader_py("import os\n\n" + GOOD_GRADER_HEAD + "    os.system('true')\n    return 1.0\n"),
        "grader.py",
        "os.system",
        variant=python_variant,
    ),
    Case(
        "GX177",
        grader_py("import random\n\n" + GOOD_GRADER_HEAD + "    return random.random()\n"),
        "grader.py",
        "random.random()",
        variant=python_variant,
    ),
    Case(
        "GX178",
        grader_py(
            "import time\n\n" + GOOD_GRADER_HEAD + "    return 1.0 if time.time() > 0 else 0.0\n"
        ),
        "grader.py",
        "time.time",
        variant=python_variant,
    ),
    Case(
        "GX179",
        grader_py(GOOD_GRADER_HEAD + "    return float(eval(response) == task['answer'])\n"),
        "grader.py",
        "eval(",
        variant=python_variant,
    ),
    Case("GX180", _code_tasks_line(entry=None), "tasks.jsonl", '"add"', variant=code_variant),
    Case("GX181", _code_tasks_line(tests=[]), "tasks.jsonl", '"add"', variant=code_variant),
    Case(
        "GX182",
        _code_tasks_line(tests=[{"args": [1, 2]}]),
        "tasks.jsonl",
        '"add"',
        variant=code_variant,
    ),
    Case(
        "GX190",
        sub(
            "tasks.jsonl",
            "What is the capital of Japan?",
            "Tokyo is the capital of which country? No: what is the capital of Japan?",
        ),
        "tasks.jsonl",
        "Tokyo is",
    ),
    Case(
        "GX191",
        _code_tasks_line(prompt="Write add(a, b). add(1, 2) == 3 and add(-1, 1) == 0."),
        "tasks.jsonl",
        '"add"',
        variant=code_variant,
    ),
]


def _line_of(text: str, marker: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} not found")


def _build(tmp_path: Path, case: Case, broken: bool) -> tuple[Path, Files]:
    files = base_files()
    case.variant(files)
    if broken:
        case.breaks(files)
    root = write_files(tmp_path / ("broken" if broken else "fixed"), files)
    if broken and case.post:
        case.post(root)
    return root, files


def _ids(case: Case) -> str:
    return case.id or case.code


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_check_triggers_and_fix_clears(tmp_path: Path, case: Case) -> None:
    root, files = _build(tmp_path, case, broken=True)
    _, findings = run_structure_stage(root)
    matching = [f for f in findings if f.code == case.code]
    assert matching, f"{case.code} not reported; got {[(f.code, f.message) for f in findings]}"
    assert any(f.file == case.file for f in matching), [(f.file, f.line) for f in matching]
    finding = next(f for f in matching if f.file == case.file)
    if case.marker is not None:
        text = (
            files[case.file]
            if isinstance(files.get(case.file), str)
            else (root / case.file).read_text("latin-1")
        )
        assert finding.line == _line_of(text, case.marker), (finding.line, finding.message)
    else:
        assert finding.line == case.line, (finding.line, finding.message)
    assert finding.message and finding.hint
    assert finding.severity == RULES[case.code].severity

    fixed_root, _ = _build(tmp_path, case, broken=False)
    _, fixed_findings = run_structure_stage(fixed_root)
    assert [f for f in fixed_findings if f.code == case.code] == []
    assert [f for f in fixed_findings if f.is_error] == [], [f.message for f in fixed_findings]


def test_every_rule_has_a_trigger_test() -> None:
    tested = {case.code for case in CASES} | {
        "GX199"
    }  # GX199: see test_a_crashing_check_becomes_a_finding
    tested |= {case.code for case in AGENTIC_CASES}  # test_envpack_agentic_checks.py
    tested |= {case.code for case in RUBRIC_CASES}  # test_envpack_rubric_checks.py
    tested |= set(MULTITURN_TRIGGERED)  # test_envpack_multiturn.py
    assert set(RULES) == tested, sorted(set(RULES) ^ tested)


def test_every_rule_is_owned_by_a_check_or_the_loader() -> None:
    owned = set(LOADER_CODES) | {code for check in CHECKS for code in check.codes} | {"GX199"}
    assert set(RULES) <= owned, sorted(set(RULES) - owned)
    assert len(RULES) >= 25
    names = [check.name for check in CHECKS]
    assert len(names) == len(set(names))


def test_a_crashing_check_becomes_a_finding(make_pack, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.envpack import checks

    def explode(ctx) -> None:
        raise RuntimeError("boom")

    broken = checks.Check("exploding", "always fails", (), explode)
    monkeypatch.setattr(checks, "CHECKS", (*checks.CHECKS, broken))
    _, findings = run_structure_stage(make_pack())
    assert [(f.code, f.severity.value) for f in findings] == [("GX199", "warning")]
    assert "exploding" in findings[0].message


def test_base_package_is_clean(make_pack) -> None:
    loaded, findings = run_structure_stage(make_pack())
    assert findings == []
    assert loaded.pack is not None and [t.id for t in loaded.pack.tasks] == ["fr", "jp"]


@pytest.mark.parametrize(
    "variant",
    [
        python_variant,
        judge_variant,
        code_variant,
        mode_variant("numeric", NUMERIC_TASKS),
        mode_variant("choice", CHOICE_TASKS),
        mode_variant("regex", REGEX_TASKS),
    ],
    ids=["python", "judge", "code", "numeric", "choice", "regex"],
)
def test_variants_are_clean(tmp_path: Path, variant) -> None:
    files = base_files()
    variant(files)
    _, findings = run_structure_stage(write_files(tmp_path / "p", files))
    assert findings == [], [(f.code, f.message) for f in findings]


def test_jsonl_findings_carry_columns(make_pack) -> None:
    files = base_files()
    files["tasks.jsonl"] = files["tasks.jsonl"].replace(
        '"prompt": "What is the capital of Japan? Reply with the city only."', '"prompt": 5'
    )
    _, findings = run_structure_stage(make_pack(files))
    finding: Finding = next(f for f in findings if f.code == "GX133")
    line = files["tasks.jsonl"].splitlines()[1]
    assert finding.column == line.index('"prompt"') + 1
    assert line[finding.column - 1 : finding.end_column - 1] == '"prompt": 5'


def test_json_syntax_error_has_column(make_pack) -> None:
    files = base_files()
    files["tasks.jsonl"] = '{"id": "fr", "prompt": "x", "answer": NaN}\n'
    _, findings = run_structure_stage(make_pack(files))
    finding = next(f for f in findings if f.code == "GX130")
    assert (finding.line, finding.column) == (1, files["tasks.jsonl"].index("NaN") + 1)


def test_grader_hazards_do_not_fire_on_seeded_randomness(tmp_path: Path) -> None:
    files = base_files()
    python_variant(files)
    files["grader.py"] = (
        "import random\n\nRNG = random.Random(1234)\n\n\n"
        "def grade(task, response):\n    jitter = RNG.random() * 0\n"
        "    return 1.0 + jitter if response else 0.0\n"
    )
    _, findings = run_structure_stage(write_files(tmp_path / "p", files))
    assert [f.code for f in findings] == []


def test_unknown_key_suggests_the_right_spelling(make_pack) -> None:
    files = base_files()
    files["env.toml"] = files["env.toml"].replace("pass_threshold", "pass_treshold")
    _, findings = run_structure_stage(make_pack(files))
    finding = next(f for f in findings if f.code == "GX103")
    assert 'Did you mean "pass_threshold"?' in finding.message
    assert finding.column == 1


def test_set_grader_helper_keeps_other_tables() -> None:
    files = base_files()
    set_grader(files, 'type = "python"')
    assert "[solutions]" in files["env.toml"] and 'type = "python"' in files["env.toml"]
