"""The server re-checks every revision itself (stages 1–2) and never trusts the client's report:
a package tampered with after the local run is caught; no sandbox is an error, not a verdict."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.platform_testkit import BACKENDS, package_files
from support.services import docker_available, need

from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def _need_sandbox() -> None:
    need("docker", docker_available(), "no Docker engine reachable")
    import docker

    from app.sandbox.images import default_image, image_present

    client = docker.from_env()
    try:
        present = image_present(client, default_image())
    finally:
        client.close()
    need(
        "docker",
        present,
        "the sandbox image is missing: run `gauntlet sandbox image --from-debian`",
    )


def _local_report(files: dict[str, bytes], tmp_path: Path, stages) -> dict:
    """What the author's app reports after running the funnel on its own copy."""
    folder = tmp_path / "local-copy"
    shutil.rmtree(folder, ignore_errors=True)
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    options = FunnelOptions(backend="docker") if Stage.VERIFY in stages else FunnelOptions()
    report = run_funnel(folder, stages=stages, options=options)
    assert report.to_dict()["verdict"] == "pass", report.to_json()
    return report.to_dict()


def _wait_for_check(live, sid: str, number: int) -> dict:
    live.run_jobs()
    return live.author.get(f"/v1/submissions/{sid}/revisions/{number}").json()


def test_tampered_package_is_caught_by_the_servers_structural_check(live, tmp_path):
    honest = package_files("qa-python")
    client_report = _local_report(honest, tmp_path, (Stage.STRUCTURE,))
    # After the local run, tasks.jsonl is edited: a task loses its id. The client still sends
    # the old, passing report.
    tampered = dict(honest)
    lines = honest["tasks.jsonl"].decode().splitlines()
    lines[1] = lines[1].replace('"id": "methane", ', "")
    tampered["tasks.jsonl"] = ("\n".join(lines) + "\n").encode()
    bounty = live.bounty()
    revision = live.author.submit(bounty["id"], tampered, client_report=client_report)
    sid = revision["submission_id"]
    assert revision["check"]["status"] == "queued"

    checked = _wait_for_check(live, sid, 1)
    assert checked["check"]["status"] == "failed" and checked["check"]["verdict"] == "fail"
    assert checked["check"]["digest_matches"] is False
    assert checked["client_report"]["verdict"] == "pass"  # kept and shown, never trusted
    assert live.author.submission(sid)["state"] == "check_failed"
    report = live.author.get(f"/v1/submissions/{sid}/revisions/1/report").json()
    assert report["schema"] == "gauntlet-report/1" and report["verdict"] == "fail"
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors and all(f["stage"] == "structure" for f in errors)
    assert any(f["file"] == "tasks.jsonl" and f["line"] == 2 for f in errors)
    assert report["package"]["path"] == f"{sid}@1"
    stage_names = [s["name"] for s in report["stages"]]
    assert stage_names == ["structure", "verify"] and report["stages"][1]["status"] == "skipped"


def test_no_sandbox_on_the_server_is_an_error_state_not_a_verdict(make_live):
    # The process backend is refused for packages that are not the operator's own.
    live = make_live(sandbox_backend="process", job_max_attempts=2)
    bounty = live.bounty()
    revision = live.author.submit(bounty["id"], package_files("qa-python"))
    sid = revision["submission_id"]
    assert live.run_jobs() == 1
    first = live.author.get(f"/v1/submissions/{sid}/revisions/1").json()["check"]
    assert first["status"] == "queued" and "will retry" in first["error"]
    assert "too weak" in first["error"]

    from app.platform.clock import utcnow
    from app.platform.models import Job

    with live.platform.write() as session:
        session.query(Job).update({"run_after": utcnow()})
    assert live.run_jobs() == 1
    final = live.author.get(f"/v1/submissions/{sid}/revisions/1").json()["check"]
    assert final["status"] == "error" and final["verdict"] is None
    assert "operator" in final["error"] and final["attempts"] == 2
    assert live.author.submission(sid)["state"] == "checking"  # not blamed on the author
    not_ready = live.author.get(f"/v1/submissions/{sid}/revisions/1/report")
    assert not_ready.status_code == 409 and not_ready.json()["check_status"] == "error"

    # The operator fixes the host and re-queues: the check runs again.
    assert live.author.post(f"/v1/submissions/{sid}/recheck").status_code == 403
    requeued = live.lab.post(f"/v1/submissions/{sid}/recheck")
    assert requeued.status_code == 202 and requeued.json()["check"]["status"] == "queued"


@pytest.mark.docker
def test_server_judge_is_off_without_the_operators_key_whatever_its_environment_holds(
    make_live, monkeypatch
):
    _need_sandbox()
    from support.fake_llm import ScriptedLLMServer

    with ScriptedLLMServer(['{"score": 1.0}']) as llm:
        # The server's own environment names a provider key: it must never be spent on a package.
        monkeypatch.setenv("OPENAI_API_KEY", "sk-the-servers-own")
        monkeypatch.setenv("OPENAI_API_BASE", llm.url)
        monkeypatch.setenv("OPENAI_BASE_URL", llm.url)
        live = make_live(sandbox_backend="docker")
        revision = live.author.submit(live.bounty()["id"], package_files("qa-judge"))
        sid = revision["submission_id"]
        checked = _wait_for_check(live, sid, 1)
        assert llm.requests == []
    assert checked["check"]["status"] == "failed", checked
    report = live.author.get(f"/v1/submissions/{sid}/revisions/1/report").json()
    gx212 = [f for f in report["findings"] if f["code"] == "GX212"]
    assert gx212 and "off on this platform" in gx212[0]["message"] + str(gx212[0].get("evidence"))


@pytest.mark.docker
def test_real_sandbox_recheck_passes_honest_and_catches_a_tampered_grader(make_live, tmp_path):
    _need_sandbox()
    live = make_live(sandbox_backend="docker")
    honest = package_files("qa-python")
    client_report = _local_report(honest, tmp_path, (Stage.STRUCTURE, Stage.VERIFY))
    bounty = live.bounty()
    revision = live.author.submit(bounty["id"], honest, client_report=client_report)
    sid = revision["submission_id"]
    checked = _wait_for_check(live, sid, 1)
    assert checked["check"]["status"] == "passed", checked
    assert checked["check"]["digest_matches"] is True
    assert live.author.submission(sid)["state"] == "in_review"
    report = live.author.get(f"/v1/submissions/{sid}/revisions/1/report").json()
    verify = next(s for s in report["stages"] if s["name"] == "verify")
    assert verify["status"] == "pass" and verify["details"]["backend"] == "docker"

    # Another author submits the same package with a grader that gives full marks to any
    # answer, together with the honest package's passing report.
    tampered = dict(honest)
    tampered["grader.py"] = (
        honest["grader.py"] + b"\n\ndef grade(task, response):\n    return 1.0\n"
    )
    bounty2 = live.bounty(title="Second bounty")
    revision = live.author2.submit(bounty2["id"], tampered, client_report=client_report)
    sid2 = revision["submission_id"]
    live.run_jobs()
    checked = live.author2.get(f"/v1/submissions/{sid2}/revisions/1").json()
    assert checked["check"]["status"] == "failed" and checked["check"]["digest_matches"] is False
    assert live.author2.submission(sid2)["state"] == "check_failed"
    report = live.author2.get(f"/v1/submissions/{sid2}/revisions/1/report").json()
    verify_errors = [
        f for f in report["findings"] if f["stage"] == "verify" and f["severity"] == "error"
    ]
    assert verify_errors, report


def _bounded_files(grader: str, *, timeout_s: float, **sandbox) -> dict[str, bytes]:
    import tempfile

    from support.bounded_packages import write_package

    with tempfile.TemporaryDirectory() as folder:
        root = write_package(Path(folder) / "pkg", grader, timeout_s=timeout_s, tasks=3)
        if sandbox:
            text = (root / "env.toml").read_text()
            for key, value in sandbox.items():
                text = text.replace(f"\n{key} = ", f"\n{key} = {value}\n# was: ", 1)
            (root / "env.toml").write_text(text)
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")}


@pytest.mark.docker
def test_a_check_over_its_time_cap_fails_for_its_author_and_the_worker_moves_on(make_live):
    from support.bounded_packages import NEVER_ANSWERS

    _need_sandbox()
    live = make_live(sandbox_backend="docker", recheck_max_s=4)
    stuck = live.author.submit(live.bounty()["id"], _bounded_files(NEVER_ANSWERS, timeout_s=10))[
        "submission_id"
    ]
    honest = live.author2.submit(
        live.bounty(title="Second bounty")["id"], package_files("qa-python")
    )["submission_id"]
    # One drain of the real worker: the stuck check is stopped at its cap, then the next
    # job runs to the end.
    assert live.run_jobs() == 2
    check = live.author.get(f"/v1/submissions/{stuck}/revisions/1").json()["check"]
    assert check["status"] == "failed" and check["verdict"] == "fail"
    assert "ran longer than this platform allows (4 s per check)" in check["error"]
    assert live.author.submission(stuck)["state"] == "check_failed"
    report = live.author.get(f"/v1/submissions/{stuck}/revisions/1/report").json()
    assert [s["name"] for s in report["stages"]] == ["structure", "verify"]
    assert (
        live.author2.get(f"/v1/submissions/{honest}/revisions/1").json()["check"]["status"]
        == "passed"
    )
    assert live.author2.submission(honest)["state"] == "in_review"


def test_a_package_asking_for_more_than_the_caps_is_not_run(make_live):
    from support.bounded_packages import ANSWERS

    live = make_live(sandbox_backend="docker", recheck_max_memory_mb=1024)
    files = _bounded_files(ANSWERS, timeout_s=1200, memory_mb=2048)
    sid = live.author.submit(live.bounty()["id"], files)["submission_id"]
    assert live.run_jobs() == 1
    check = live.author.get(f"/v1/submissions/{sid}/revisions/1").json()["check"]
    assert check["status"] == "failed" and live.author.submission(sid)["state"] == "check_failed"
    assert "[grader] timeout_s = 1200 is over this platform's cap of 600 s" in check["error"]
    assert "[sandbox] memory_mb = 2048 is over this platform's cap of 1024 MB" in check["error"]
    report = live.author.get(f"/v1/submissions/{sid}/revisions/1/report").json()
    assert [s["name"] for s in report["stages"]] == ["structure"]  # the sandbox never started


MALFORMED_REWARD = """def grade(task, response):
    return {"reward": {"$type": "x", "$repr": 5}}
"""


@pytest.mark.docker
def test_a_grader_returning_a_malformed_reward_gets_a_verdict_not_a_retried_job(make_live):
    """Such a reward once raised out of grade_batch, so the job was retried, then given up."""
    _need_sandbox()
    live = make_live(sandbox_backend="docker", job_max_attempts=2)
    files = _bounded_files(MALFORMED_REWARD, timeout_s=10)
    sid = live.author.submit(live.bounty()["id"], files)["submission_id"]
    assert live.run_jobs() == 1
    check = live.author.get(f"/v1/submissions/{sid}/revisions/1").json()["check"]
    assert check["status"] == "failed" and check["verdict"] == "fail", check
    assert check["attempts"] == 1, check
    assert live.author.submission(sid)["state"] == "check_failed"
    report = live.author.get(f"/v1/submissions/{sid}/revisions/1/report").json()
    assert report["verdict"] == "fail"
    graded = [f["evidence"] for f in report["findings"] if f["code"] == "GX204"]
    assert graded and all(e["error"] == "invalid-reward" for e in graded), report["findings"]
    assert {e["role"] for e in graded} >= {"reference"}


@pytest.mark.docker
def test_a_multi_turn_package_is_replayed_by_the_server_and_a_tampered_tool_is_caught(make_live):
    _need_sandbox()
    live = make_live(sandbox_backend="docker")
    honest = package_files("mt-analyst")
    sid = live.author.submit(live.bounty()["id"], honest)["submission_id"]
    checked = _wait_for_check(live, sid, 1)
    assert checked["check"]["status"] == "passed", checked
    report = live.author.get(f"/v1/submissions/{sid}/revisions/1/report").json()
    verify = next(s for s in report["stages"] if s["name"] == "verify")
    assert verify["details"]["replay"]["tool_calls"] == 16

    # the process criterion is tampered with: it passes a total given without the data
    tampered = dict(honest)
    tampered["grader.py"] = honest["grader.py"].replace(
        b'return 1.0 if task["region"] in queried else 0.0', b"return 1.0"
    )
    assert tampered["grader.py"] != honest["grader.py"]
    sid2 = live.author2.submit(live.bounty(title="Second bounty")["id"], tampered)["submission_id"]
    live.run_jobs()
    assert live.author2.submission(sid2)["state"] == "check_failed"
