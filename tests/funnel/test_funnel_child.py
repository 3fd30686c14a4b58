"""The funnel in a child process (app.funnel.child, child_protocol, child_worker): the JSON-lines
protocol, the same report as an in-process run, cancel (clean, and the hard kill after the grace
period), the child's exit when its parent dies, and the API key never showing in the child's
argv or environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.services import docker_available, need, sandbox_image_available

from app.envpack.templates import create_from_template
from app.errors import UserError
from app.findings import AttackRef, Finding, Severity, Stage
from app.funnel.child import CANCELLED_REASON, ChildFunnelRun, discard_spare, spawn_funnel_child
from app.funnel.child_protocol import (
    PROTOCOL,
    event_from_dict,
    event_to_dict,
    options_from_dict,
    options_to_dict,
)
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.funnel.report import StageStatus, Verdict
from app.progress import ProgressEvent

SECRET = "sk-test-do-not-leak-4f9c2e"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def package(tmp_path):
    return create_from_template(
        "qa-exact", tmp_path / "pkg", package_name="test/child", title="Child"
    )


@pytest.fixture
def slow_package(tmp_path):
    """A python grader that sleeps, so a run lasts long enough to cancel in the middle."""
    pkg = create_from_template(
        "qa-python", tmp_path / "slow", package_name="test/slow", title="Slow"
    )
    grader = pkg / "grader.py"
    grader.write_text(
        "import time\n"
        + grader.read_text(encoding="utf-8").replace("def grade(", "def _grade(", 1)
        + "\n\ndef grade(task, response):\n    time.sleep(2)\n    return _grade(task, response)\n",
        encoding="utf-8",
    )
    return pkg


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _comparable(report) -> dict:
    data = report.to_dict()
    for stage in data["stages"]:
        stage.pop("duration_s")
    return data


# -- the messages ---------------------------------------------------------------------------------


def test_events_and_options_survive_the_round_trip():
    finding = Finding(
        "GX301",
        Severity.ERROR,
        Stage.ATTACK,
        "fooled",
        hint="fix it",
        file="grader.py",
        line=3,
        task_id="t1",
        attack=AttackRef("nan", "answer-format"),
        evidence={"response": "NaN", "reward": 1.0},
    )
    event = ProgressEvent(
        Stage.ATTACK, "finding", done=3, total=9, message="m", finding=finding, data={"k": [1, 2]}
    )
    back = event_from_dict(json.loads(json.dumps(event_to_dict(event))))
    assert back == event
    options = FunnelOptions(
        backend="process",
        jobs=2,
        llm_model="openai/x",
        llm_api_key=SECRET,
        budget_usd=0.5,
        attack_categories=["judge"],
    )
    assert options_from_dict(json.loads(json.dumps(options_to_dict(options)))) == options
    assert SECRET not in repr(options)
    with pytest.raises(ValueError, match="unknown funnel option"):
        options_from_dict({"backend": "auto", "nonsense": 1})


# -- runs -----------------------------------------------------------------------------------------


def test_a_run_in_the_child_streams_events_and_gives_the_same_report_as_in_process(package):
    run = ChildFunnelRun(package, (Stage.STRUCTURE,), FunnelOptions(backend="process"))
    run.start()
    child_pid = run.pid
    assert child_pid is not None and child_pid != os.getpid()
    events = list(run.events())
    report = run.result()
    assert [(e.stage, e.kind) for e in events] == [
        (Stage.STRUCTURE, "stage-start"),
        (Stage.STRUCTURE, "stage-end"),
    ]
    assert report.verdict == Verdict.PASS
    assert _comparable(report) == _comparable(run_funnel(package, (Stage.STRUCTURE,)))
    assert _wait_gone(child_pid, 10), "the child did not exit after its report"


def test_findings_arrive_as_events_and_in_the_report(package):
    (package / "tasks.jsonl").write_text('{"id": "broken", "prompt": \n', encoding="utf-8")
    run = ChildFunnelRun(package, (Stage.STRUCTURE, Stage.VERIFY), FunnelOptions(backend="process"))
    run.start()
    events = list(run.events())
    report = run.result()
    streamed = [e.finding for e in events if e.kind == "finding"]
    assert streamed and streamed == report.findings
    assert any(f.file == "tasks.jsonl" and f.line == 1 for f in report.findings)
    assert report.verdict == Verdict.FAIL
    assert report.stage(Stage.VERIFY).status == StageStatus.SKIPPED


def test_sandbox_stage_progress_counts_come_through(package):
    run = ChildFunnelRun(package, (Stage.STRUCTURE, Stage.VERIFY), FunnelOptions(backend="process"))
    run.start()
    counts = [
        (e.done, e.total) for e in run.events() if e.kind == "progress" and e.stage == Stage.VERIFY
    ]
    report = run.result()
    assert report.stage(Stage.VERIFY).status in (StageStatus.PASS, StageStatus.WARN)
    assert counts and counts[-1][0] == counts[-1][1], (
        "the last count (all done) must not be coalesced away"
    )


def test_an_unusable_sandbox_is_explained_in_the_report_not_a_crash(package):
    run = ChildFunnelRun(
        package, (Stage.STRUCTURE, Stage.VERIFY), FunnelOptions(backend="no-such-backend")
    )
    run.start()
    list(run.events())
    report = run.result()
    assert report.verdict == Verdict.ERROR
    verify = report.stage(Stage.VERIFY)
    assert "no-such-backend" in verify.details["reason"] and verify.details.get("hint")


def test_errors_from_the_child_come_back_as_the_right_exceptions():
    from app.funnel.child import ChildFunnelError, _error_from_message
    from app.sandbox.base import SandboxUnavailable

    user = _error_from_message(
        {
            "type": "error",
            "kind": "user",
            "message": "Not a package",
            "hint": "Pick one",
            "where": "env.toml",
        }
    )
    assert isinstance(user, UserError) and (user.message, user.hint, user.where) == (
        "Not a package",
        "Pick one",
        "env.toml",
    )
    sandbox = _error_from_message(
        {"type": "error", "kind": "sandbox-unavailable", "message": "No Docker", "hint": "Start it"}
    )
    assert isinstance(sandbox, SandboxUnavailable) and sandbox.hint == "Start it"
    internal = _error_from_message(
        {"type": "error", "kind": "internal", "message": "KeyError: 'x'", "detail": "Traceback"}
    )
    assert isinstance(internal, ChildFunnelError) and internal.detail == "Traceback"


def test_a_spare_child_is_used_for_the_run_and_an_unused_one_exits_at_once(package):
    spare = spawn_funnel_child()
    run = ChildFunnelRun(package, (Stage.STRUCTURE,), spare=spare)
    run.start()
    assert run.pid == spare.pid
    assert run.result().verdict == Verdict.PASS
    unused = spawn_funnel_child()
    started = time.monotonic()
    discard_spare(unused)
    assert unused.returncode == 0 and time.monotonic() - started < 5


def test_a_bad_request_is_refused_with_a_message():
    proc = subprocess.run(
        [sys.executable, "-m", "app.funnel.child"],
        input=b'{"protocol": "something-else/9"}\n',
        capture_output=True,
        timeout=60,
        cwd=ROOT,
    )
    messages = [json.loads(line) for line in proc.stdout.splitlines()]
    assert messages[-1]["type"] == "error" and messages[-1]["kind"] == "request"
    assert PROTOCOL in messages[-1]["message"]
    assert proc.returncode == 2


def test_whatever_the_child_prints_goes_to_stderr_not_into_the_protocol():
    code = textwrap.dedent("""
        import os
        from app.funnel.child_worker import _protocol_streams
        _requests, out = _protocol_streams()
        print("a library chatting on stdout", flush=True)
        os.write(1, b"a C extension writing to fd 1\\n")
        out.write(b'{"type": "started"}\\n')
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, cwd=ROOT)
    assert proc.stdout == b'{"type": "started"}\n'
    assert b"a library chatting" in proc.stderr and b"a C extension" in proc.stderr


# -- cancel, secrets, parent death ----------------------------------------------------------------


def test_the_api_key_is_never_in_the_childs_argv_or_environment(slow_package):
    options = FunnelOptions(backend="process", llm_api_key=SECRET)
    run = ChildFunnelRun(slow_package, (Stage.STRUCTURE, Stage.VERIFY), options, grace_s=30)
    run.start()
    for event in run.events():
        if event.kind == "progress":
            break  # the run is under way: look at the child now
    pid = run.pid
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert SECRET.encode() not in cmdline and SECRET.encode() not in environ
    run.cancel()
    report = run.result()
    assert SECRET not in json.dumps(report.to_dict())


def test_cancel_stops_the_child_cleanly_and_reports_cancelled(slow_package):
    run = ChildFunnelRun(
        slow_package, (Stage.STRUCTURE, Stage.VERIFY), FunnelOptions(backend="process"), grace_s=30
    )
    run.start()
    for event in run.events():
        if event.kind == "progress" and event.stage == Stage.VERIFY:
            break
    started = time.monotonic()
    run.cancel()
    report = run.result()
    assert time.monotonic() - started < 25, "cancel took longer than the grace period"
    verify = report.stage(Stage.VERIFY)
    assert verify.status == StageStatus.ERROR and verify.details.get("reason") == CANCELLED_REASON
    assert report.stage(Stage.STRUCTURE).status in (StageStatus.PASS, StageStatus.WARN)
    assert not run._killed, "the child should have stopped by itself, not been killed"  # noqa: SLF001


def test_a_child_that_does_not_stop_in_time_is_killed_and_the_report_says_cancelled(slow_package):
    run = ChildFunnelRun(
        slow_package, (Stage.STRUCTURE, Stage.VERIFY), FunnelOptions(backend="process"), grace_s=0.0
    )
    run.start()
    pid = run.pid
    os.kill(pid, signal.SIGSTOP)  # a child that cannot react to the cancel at all
    run.cancel()
    report = run.result()
    assert _wait_gone(pid, 10)
    assert report.stage(Stage.VERIFY).details.get("reason") == CANCELLED_REASON
    assert report.stage(Stage.STRUCTURE) is not None


PARENT = """
import sys, time
from app.funnel.child import ChildFunnelRun
from app.funnel.pipeline import FunnelOptions
from app.findings import Stage
stages = (Stage.STRUCTURE, Stage.VERIFY)
run = ChildFunnelRun(sys.argv[1], stages, FunnelOptions(backend=sys.argv[2]))
run.start()
for event in run.events():
    if event.kind == "progress" and event.stage == Stage.VERIFY:
        print(run.pid, flush=True)
        time.sleep(600)
"""


def _run_parent_then_kill_it(package: Path, backend: str) -> int:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(package), backend],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        line = parent.stdout.readline()
        assert line.strip().isdigit(), "the parent never saw the run start"
        child_pid = int(line)
        assert _alive(child_pid)
    finally:
        parent.kill()  # SIGKILL: no goodbye, the child only sees its stdin close
        parent.wait()
    return child_pid


def test_the_child_exits_when_its_parent_dies(slow_package):
    child_pid = _run_parent_then_kill_it(slow_package, "process")
    assert _wait_gone(child_pid, 30), "the child outlived its parent"


@pytest.mark.docker
@pytest.mark.slow
def test_docker_cancel_and_parent_death_leave_no_container(slow_package):
    need("docker", docker_available(), "no Docker engine reachable")
    need("sandbox image", sandbox_image_available(), "the default sandbox image is not built")
    import docker

    from app.sandbox.containers import LABEL_PID

    client = docker.from_env()
    try:

        def containers_of(pid: int):
            return client.containers.list(all=True, filters={"label": f"{LABEL_PID}={pid}"})

        def wait_for_container(pid: int) -> None:
            deadline = time.monotonic() + 60
            while not containers_of(pid):
                assert time.monotonic() < deadline, "the child never started a sandbox container"
                time.sleep(0.2)

        # 1. A clean cancel: the child's sandbox removes its own container.
        run = ChildFunnelRun(
            slow_package,
            (Stage.STRUCTURE, Stage.VERIFY),
            FunnelOptions(backend="docker"),
            grace_s=30,
        )
        run.start()
        wait_for_container(run.pid)
        run.cancel()
        report = run.result()
        assert report.stage(Stage.VERIFY).details.get("reason") == CANCELLED_REASON
        assert not run._killed  # noqa: SLF001
        assert not containers_of(run.pid), "the container outlived a clean cancel"

        # 2. The hard kill (no grace at all): the parent sweeps the container the child left.
        run = ChildFunnelRun(
            slow_package,
            (Stage.STRUCTURE, Stage.VERIFY),
            FunnelOptions(backend="docker"),
            grace_s=0.0,
        )
        run.start()
        wait_for_container(run.pid)
        os.kill(run.pid, signal.SIGSTOP)
        run.cancel()
        run.result()
        assert run._killed  # noqa: SLF001
        assert not containers_of(run.pid), "the killed child's container was not swept"

        # 3. The parent dies: the child cancels and its container goes with it.
        child_pid = _run_parent_then_kill_it(slow_package, "docker")
        assert _wait_gone(child_pid, 40), "the child outlived its parent"
        assert not containers_of(child_pid), "the container outlived the child's parent"
    finally:
        client.close()
