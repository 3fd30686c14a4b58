"""Every stage-2 code (GX2xx) with a package that triggers it, through the real funnel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.sandbox_packages import write_pack

from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.funnel.report import StageStatus

TASKS = [
    {"id": "t1", "prompt": "What is 6 times 7?", "answer": 42},
    {"id": "t2", "prompt": "What is 2 plus 2?", "answer": 4},
]
REFS = [{"task_id": "t1", "response": "42"}, {"task_id": "t2", "response": "4"}]
NEGS = [{"task_id": "t1", "response": "41", "note": "off by one"}]
PY_GRADER = (
    'type = "python"\nentry = "grader.py:grade"\n'
    "reward_range = [0.0, 1.0]\npass_threshold = 1.0\ntimeout_s = {timeout}"
)


def python_pack(
    tmp_path: Path, body: str, *, timeout: float = 3, tasks=TASKS, refs=REFS, negs=NEGS
) -> Path:
    return write_pack(
        tmp_path / "pack",
        grader=PY_GRADER.format(timeout=timeout),
        tasks=tasks,
        solutions=refs,
        negatives=negs,
        grader_py=body,
    )


def verify(root: Path, backend: str = "process"):
    report = run_funnel(
        root, stages=(Stage.STRUCTURE, Stage.VERIFY), options=FunnelOptions(backend=backend)
    )
    stage = report.stage(Stage.VERIFY)
    assert stage is not None
    return report, stage, {f.code for f in report.findings_for(Stage.VERIFY)}


def codes_of(report, code):
    return [f for f in report.findings_for(Stage.VERIFY) if f.code == code]


GOOD = (
    "def grade(task, response):\n"
    "    return 1.0 if response.strip() == str(task['answer']) else 0.0\n"
)


def test_a_good_package_passes_with_only_the_weak_backend_notice(tmp_path):
    report, stage, codes = verify(python_pack(tmp_path, GOOD))
    assert codes - {"GX210"} == {"GX211"}, [
        f.message for f in report.findings
    ]  # GX210: a very busy machine
    assert stage.status == StageStatus.WARN
    assert stage.details["references_passed"] == {"ok": 2, "total": 2}
    assert stage.details["runs"] == 2 and stage.details["weak_backend"] is True
    [notice] = codes_of(report, "GX211")
    assert "weaker" in notice.message or "process backend" in notice.message


@pytest.mark.docker
def test_a_good_package_passes_cleanly_in_docker(tmp_path, docker_backend):
    report, stage, codes = verify(python_pack(tmp_path, GOOD), backend="docker")
    assert codes <= {"GX210"} and not report.errors(), [f.message for f in report.findings]
    assert stage.details["backend"] == "docker"


def test_gx201_reference_below_threshold(tmp_path):
    body = (
        "def grade(task, response):\n    return 0.5 if task['id'] == "
        "'t2' else float(response.strip() == str(task['answer']))\n"
    )
    report, stage, codes = verify(python_pack(tmp_path, body))
    [finding] = codes_of(report, "GX201")
    assert finding.task_id == "t2" and finding.file == "solutions.jsonl" and finding.line == 2
    assert "0.5" in finding.message and finding.hint
    assert stage.status == StageStatus.FAIL


def test_gx202_negative_above_floor(tmp_path):
    body = "def grade(task, response):\n    return 1.0 if response.strip() else 0.0\n"
    report, _, _ = verify(python_pack(tmp_path, body))
    [finding] = codes_of(report, "GX202")
    assert (
        finding.file == "negatives.jsonl" and finding.line == 1 and "off by one" in finding.message
    )


def test_gx203_empty_response_above_floor(tmp_path):
    body = (
        "def grade(task, response):\n"
        "    return 1.0 if response.strip() in ('', str(task['answer'])) else 0.0\n"
    )
    report, _, _ = verify(python_pack(tmp_path, body))
    findings = codes_of(report, "GX203")
    assert {f.task_id for f in findings} == {"t1", "t2"}
    assert all(f.file == "tasks.jsonl" for f in findings)


@pytest.mark.parametrize(
    ("returned", "words"),
    [
        ("float('nan')", "nan"),
        ("float('inf')", "inf"),
        ("2.0", "outside reward_range"),
        ("True", "bool"),
        ("'1.0'", "str"),
        ("None", "None"),
        ("{'score': 1.0}", "reward"),
    ],
)
def test_gx204_invalid_rewards(tmp_path, returned, words):
    body = (
        "def grade(task, response):\n"
        f"    return {returned} if response.strip() == str(task['answer']) else 0.0\n"
    )
    report, _, _ = verify(python_pack(tmp_path, body))
    findings = codes_of(report, "GX204")
    assert findings, [f.message for f in report.findings]
    assert any(words.lower() in (f.message + str(f.evidence)).lower() for f in findings), findings[
        0
    ].message


def test_gx205_exception_with_task_id_and_traceback(tmp_path):
    body = (
        "def grade(task, response):\n    if task['id'] == 't2':\n"
        "        raise KeyError('units')\n"
        "    return 1.0 if response.strip() == str(task['answer']) else 0.0\n"
    )
    report, _, _ = verify(python_pack(tmp_path, body))
    findings = codes_of(report, "GX205")
    assert findings and all(f.task_id == "t2" for f in findings)
    finding = findings[0]
    assert finding.file == "grader.py" and finding.line == 3  # where it was raised
    assert "KeyError" in finding.message
    assert "Traceback" in finding.evidence["detail"] and "grader.py" in finding.evidence["detail"]


def test_gx205_grader_that_cannot_be_imported(tmp_path):
    body = "import numpy_that_does_not_exist\n\ndef grade(task, response):\n    return 1.0\n"
    report, _, _ = verify(python_pack(tmp_path, body))
    findings = codes_of(report, "GX205")
    assert findings and "ModuleNotFoundError" in findings[0].message


def test_gx206_timeout(tmp_path):
    body = (
        "import time\ndef grade(task, response):\n    if task['id'] == 't1':\n"
        "        time.sleep(30)\n"
        "    return 1.0 if response.strip() == str(task['answer']) else 0.0\n"
    )
    report, _, _ = verify(python_pack(tmp_path, body, timeout=1))
    findings = codes_of(report, "GX206")
    assert findings and {f.task_id for f in findings} == {"t1"}
    assert "timeout_s" in findings[0].message


def test_gx207_crash(tmp_path):
    # On one task: a grader that crashes on every call is GX214 (tests/funnel/test_funnel_bounded).
    body = (
        "import os\ndef grade(task, response):\n    if task['id'] == 't1':\n"
        "        os._exit(3)\n    return 1.0 if response.strip() == str(task['answer']) else 0.0\n"
    )
    report, _, _ = verify(python_pack(tmp_path, body))
    assert codes_of(report, "GX207") and {f.task_id for f in codes_of(report, "GX207")} == {"t1"}
    assert "status 3" in codes_of(report, "GX207")[0].message
    assert not codes_of(report, "GX214")


def test_gx214_on_the_process_backend_too(tmp_path):
    body = "import os\ndef grade(task, response):\n    os._exit(3)\n"
    report, stage, codes = verify(python_pack(tmp_path, body))
    assert codes == {"GX211", "GX214"}  # the weak-backend notice, and the one finding
    (finding,) = codes_of(report, "GX214")
    budget = stage.details["budget"]
    assert budget["stopped"] == "unanswered"
    # Gradings already under way when the stage decides to stop still count (parallel - 1).
    crashed = re.search(r"(\d+) gradings in a row crashed", finding.message)
    assert crashed, finding.message
    stop_after = budget["stop_after_unanswered"]
    assert stop_after <= int(crashed[1]) < stop_after + budget["parallel"]


def test_gx208_output_flood(tmp_path):
    body = "def grade(task, response):\n    print('x' * (4 << 20))\n    return 1.0\n"
    report, _, _ = verify(python_pack(tmp_path, body))
    assert codes_of(report, "GX208")


def test_gx209_flaky_grader(tmp_path):
    # set iteration order differs between fresh interpreters: a classic hidden flake
    body = (
        "import os\n"
        "def grade(task, response):\n"
        "    if task['id'] == 't2' and response.strip():\n"
        "        return float(int.from_bytes(os.urandom(1), 'big') % 2)\n"
        "    return 1.0 if response.strip() == str(task['answer']) else 0.0\n"
    )
    tasks = TASKS + [{"id": f"x{i}", "prompt": "p", "answer": 1} for i in range(6)]
    refs = REFS + [{"task_id": f"x{i}", "response": "1"} for i in range(6)]
    flaky_refs = refs + [{"task_id": "t2", "response": "4"} for _ in range(16)]
    report, _, _ = verify(python_pack(tmp_path, body, tasks=tasks, refs=flaky_refs))
    findings = codes_of(report, "GX209")
    assert findings and all(f.task_id == "t2" for f in findings)
    assert "one run" in findings[0].message


def test_gx210_slow_task_flagged_with_its_time(tmp_path):
    body = (
        "import time\ndef grade(task, response):\n    if task['id'] == 't2':\n"
        "        time.sleep(1.2)\n"
        "    return 1.0 if response.strip() == str(task['answer']) else 0.0\n"
    )
    report, stage, _ = verify(python_pack(tmp_path, body, timeout=2))
    [finding] = [f for f in codes_of(report, "GX210") if f.task_id == "t2"]
    assert (
        finding.evidence["seconds"] >= 1.2
        and f"{finding.evidence['seconds']:.2f}" in finding.message
    )
    assert stage.details["slowest"][0]["task_id"] == "t2"


def test_gx211_weak_backend_refused_for_someone_elses_package(tmp_path):
    root = python_pack(tmp_path, GOOD)
    report = run_funnel(
        root,
        stages=(Stage.STRUCTURE, Stage.VERIFY),
        options=FunnelOptions(backend="process", own_package=False),
    )
    stage = report.stage(Stage.VERIFY)
    assert stage.status == StageStatus.ERROR
    [finding] = codes_of(report, "GX200")
    assert "someone else" in finding.message and "force" in finding.hint
    forced = run_funnel(
        root,
        stages=(Stage.STRUCTURE, Stage.VERIFY),
        options=FunnelOptions(backend="process", own_package=False, force_weak_backend=True),
    )
    assert {f.code for f in forced.findings_for(Stage.VERIFY)} - {"GX210"} == {"GX211"}


def test_gx200_no_backend_gives_the_doctors_advice(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    report, stage, codes = verify(python_pack(tmp_path, GOOD), backend="docker")
    assert codes == {"GX200"} and stage.status == StageStatus.ERROR
    assert (
        "doctor" in codes_of(report, "GX200")[0].hint
        or "docker" in codes_of(report, "GX200")[0].hint.lower()
    )


def test_gx212_judge_without_model_key_is_a_finding_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    root = write_pack(
        tmp_path / "pack",
        grader=(
            'type = "judge"\nmodel = "openai/gpt-4o-mini"\n'
            'rubric = "rubric.md"\npass_threshold = 0.5\ntimeout_s = 5'
        ),
        tasks=TASKS,
        solutions=REFS,
        negatives=NEGS,
        extra_files={"rubric.md": "Score 1 if correct.\n"},
    )
    report, stage, codes = verify(root)
    [finding] = codes_of(report, "GX212")
    assert finding.file == "env.toml" and "key" in finding.message.lower()
    assert stage.details["empty_at_floor"]["ok"] == 2  # empty responses need no model call


def test_stage2_skipped_when_stage1_has_errors(tmp_path):
    root = python_pack(tmp_path, GOOD)
    (root / "tasks.jsonl").write_text('{"id": "t1", "prompt": \n', encoding="utf-8")
    report = run_funnel(
        root, stages=(Stage.STRUCTURE, Stage.VERIFY), options=FunnelOptions(backend="process")
    )
    assert report.stage(Stage.VERIFY).status == StageStatus.SKIPPED


def test_verify_cli_exit_codes_and_json(tmp_path):
    good = python_pack(tmp_path / "a", GOOD)
    bad = python_pack(tmp_path / "b", "def grade(task, response):\n    return 1.0\n")

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=240
        )

    ok = run("verify", str(good), "--backend", "process", "--json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["schema"] == "gauntlet-report/1" and data["verdict"] == "pass"
    assert [s["name"] for s in data["stages"]] == ["structure", "verify"]
    failing = run("verify", str(bad), "--backend", "process")
    assert failing.returncode == 1 and "GX202" in failing.stdout and "GX203" in failing.stdout
    missing = run("verify", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


@pytest.mark.docker
@pytest.mark.slow
def test_gx213_the_engine_keeps_killing_the_sandbox(tmp_path, docker_backend):
    """Something outside the grader (here: a thread playing an engine that kills containers,
    as an OOM killer or a restarting daemon would) keeps stopping the sandbox mid-batch. The
    gradings it could not finish are reported as the sandbox's failure, not the grader's."""
    import os
    import threading

    import docker

    from app.sandbox.containers import LABEL, LABEL_PID

    tasks = [{"id": f"t{i}", "prompt": f"What is {i} plus 1?", "answer": i + 1} for i in range(40)]
    refs = [{"task_id": t["id"], "response": str(t["answer"])} for t in tasks]
    body = (
        "import time\ndef grade(task, response):\n    time.sleep(0.2)\n"
        "    return 1.0 if response.strip() == str(task['answer']) else 0.0\n"
    )
    root = python_pack(tmp_path, body, tasks=tasks, refs=refs, negs=[])
    client = docker.from_env()
    selector = {"label": [f"{LABEL}=1", f"{LABEL_PID}={os.getpid()}"]}  # this test's sandboxes
    stop = threading.Event()
    killed: set[str] = set()

    def engine_that_kills() -> None:
        while not stop.is_set():
            for container in client.containers.list(filters=selector):
                if container.id in killed:
                    continue
                stop.wait(0.8)  # let it grade a few items first, so each start makes progress
                try:
                    container.kill()
                    killed.add(container.id)
                except docker.errors.APIError:
                    pass
            stop.wait(0.05)

    killer = threading.Thread(target=engine_that_kills, name="test-container-killer", daemon=True)
    killer.start()
    try:
        report, stage, codes = verify(root, backend="docker")
    finally:
        stop.set()
        killer.join(10)
    assert len(killed) >= 2
    assert "GX213" in codes, sorted(codes)
    assert stage.status in (StageStatus.ERROR, StageStatus.FAIL)
    finding = codes_of(report, "GX213")[0]
    assert "sandbox" in finding.message and "doctor" in finding.hint
    assert client.containers.list(all=True, filters=selector) == []  # nothing left behind
