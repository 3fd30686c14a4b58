"""The installed, frozen app, run the way a user runs it (.ci/installer-smoke runs this file with
GAUNTLET_INSTALLED_APP=/usr/bin/gauntlet after `apt-get install ./dist/gauntlet-studio_*.deb`).

Every command must succeed with no traceback anywhere and nothing on stderr that is not on the
short list of lines a user may see. Not collected by the normal test run (the name does not
start with test_): it needs the installed package.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer
from support.services import docker_available, need, sandbox_image_available

ROOT = Path(__file__).resolve().parents[2]
APP = os.environ.get("GAUNTLET_INSTALLED_APP", "")
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (ROOT / "app" / "__init__.py").read_text(), re.M
).group(1)
# stderr lines a user may legitimately see from these commands (progress, not problems).
ALLOWED_STDERR = (
    # Qt's offscreen platform (the smoke test's, no screen here) says what it cannot do.
    re.compile(r"^This plugin does not support propagateSizeHints\(\)$"),
)

pytestmark = pytest.mark.skipif(not APP, reason="GAUNTLET_INSTALLED_APP is not set")


def run(*args: str, env: dict | None = None, timeout: float = 600, stdin: str | None = None):
    environment = dict(os.environ)
    # The frozen app must find everything in its bundle: no help from this checkout.
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        environment.pop(name, None)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    started = time.perf_counter()
    completed = subprocess.run(
        [APP, *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        input=stdin,
        cwd=environment.get("GAUNTLET_HOME"),
    )
    completed.seconds = time.perf_counter() - started
    return completed


def assert_clean(completed, *, codes=(0,)) -> None:
    where = f"`gauntlet {' '.join(completed.args[1:])}`"
    output = completed.stdout + completed.stderr
    assert "Traceback (most recent call last)" not in output, (
        f"{where} printed a traceback:\n{output}"
    )
    unexpected = [
        line
        for line in completed.stderr.splitlines()
        if line.strip() and not any(p.search(line) for p in ALLOWED_STDERR)
    ]
    assert not unexpected, f"{where} wrote to stderr:\n" + "\n".join(unexpected)
    assert completed.returncode in codes, (
        f"{where} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
    )


def test_version_is_the_projects():
    completed = run("--version")
    assert_clean(completed)
    assert completed.stdout.strip() == f"gauntlet {VERSION}"


def test_the_window_builds_offscreen_with_demo_data(record_testsuite_property):
    completed = run("studio", "--smoke-test", env={"QT_QPA_PLATFORM": "offscreen"}, timeout=300)
    assert_clean(completed)
    assert completed.stdout.startswith("smoke test: ok"), completed.stdout
    # The same app from the virtual environment, in the same run: start-up side by side.
    started = time.perf_counter()
    venv = subprocess.run(
        [sys.executable, "-m", "app", "studio", "--smoke-test"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    venv_seconds = time.perf_counter() - started
    assert venv.returncode == 0, venv.stderr
    record_testsuite_property("start_frozen_s", f"{completed.seconds:.2f}")
    record_testsuite_property("start_venv_s", f"{venv_seconds:.2f}")
    record_testsuite_property("start_frozen_says", completed.stdout.strip())
    record_testsuite_property("start_venv_says", venv.stdout.strip())


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("installed") / "enzyme"
    completed = run("new", str(folder), "--template", "qa-numeric")
    assert_clean(completed)
    assert (folder / "env.toml").is_file()
    return folder


def test_new_then_check_a_template(package):
    completed = run("check", str(package))
    assert_clean(completed)


@pytest.mark.docker
def test_verify_in_the_docker_sandbox(package):
    need("docker", docker_available(), "no Docker engine")
    need("sandbox image", sandbox_image_available(), "the sandbox image is not built")
    completed = run("verify", str(package), "--backend", "docker", "--json")
    assert_clean(completed)
    report = json.loads(completed.stdout)
    assert report["verdict"] == "pass", report["findings"]
    verify = next(s for s in report["stages"] if s["name"] == "verify")
    assert verify["details"]["backend"] == "docker"


def _scripted_judge(root: Path):
    """Scores 1 for one of the package's reference responses, else 0 (as a judge would)."""
    references = {
        json.loads(line)["response"].strip()
        for line in (root / "solutions.jsonl").read_text().splitlines()
        if line.strip()
    }

    def reply(request: dict) -> str:
        text = request["messages"][-1]["content"]
        nonce = re.search(r"<<<RESPONSE-([0-9a-f]+)>>>", text).group(1)
        response = text.split(f"<<<RESPONSE-{nonce}>>>\n", 1)[1].split(f"\n<<<END-{nonce}>>>")[0]
        score = 1.0 if response.strip() in references else 0.0
        return json.dumps({"nonce": nonce, "score": score, "reason": "scripted"})

    return reply


@pytest.mark.docker
def test_a_judge_grader_reaches_its_model_through_the_bundled_litellm(tmp_path):
    need("docker", docker_available(), "no Docker engine")
    need("sandbox image", sandbox_image_available(), "the sandbox image is not built")
    root = tmp_path / "judged"
    assert_clean(run("new", str(root), "--template", "qa-judge"))
    with ScriptedLLMServer([], default=_scripted_judge(root)) as llm:
        completed = run(
            "verify",
            str(root),
            "--backend",
            "docker",
            "--json",
            "--llm-api-base",
            llm.url,
            env={"GAUNTLET_LLM_API_KEY": "test-key"},
        )
        assert llm.requests, "the judge was never asked"
    assert_clean(completed)
    assert json.loads(completed.stdout)["verdict"] == "pass"


def test_the_funnel_child_runs_from_the_bundle(package):
    """What the window does for every run: the frozen binary as its own worker process."""
    request = {
        "protocol": "gauntlet-funnel-child/1",
        "path": str(package),
        "stages": ["structure"],
        "options": {},
    }
    completed = run("--funnel-child", stdin=json.dumps(request) + "\n", timeout=300)
    messages = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    assert messages and messages[0]["type"] == "started"
    assert messages[-1]["type"] == "report", messages[-1]
    assert completed.returncode == 0
    assert "Traceback" not in completed.stderr


@pytest.mark.docker
def test_demo_against_the_embedded_platform(tmp_path):
    need("docker", docker_available(), "no Docker engine")
    need("sandbox image", sandbox_image_available(), "the sandbox image is not built")
    completed = run("demo", str(tmp_path / "demo-env"), env={"NO_COLOR": "1"}, timeout=900)
    assert_clean(completed)
    assert "Your demo environment is in" in completed.stdout


@pytest.mark.parametrize("users_path", ["/users/own/lib", None])
def test_programs_the_app_starts_get_the_users_library_path(tmp_path, users_path):
    """PyInstaller's bootloader puts the bundle's libraries first on LD_LIBRARY_PATH; a program
    the app starts (here mmdebstrap, for the sandbox image) must see the user's own value."""
    need("docker", docker_available(), "no Docker engine")
    fake = tmp_path / "bin" / "mmdebstrap"
    fake.parent.mkdir()
    dump = tmp_path / "environment"
    fake.write_text(
        "#!/bin/sh\n"
        f"env | grep '^LD_LIBRARY_PATH' > {dump}\n"
        "echo 'stopped by the test' >&2\n"
        "exit 3\n"
    )
    fake.chmod(0o755)
    env = {
        "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
        "GAUNTLET_SANDBOX_IMAGE": "gauntlet-smoke-environment:1",
    }
    env["LD_LIBRARY_PATH"] = users_path  # None: the user has none, so none may appear
    completed = run("sandbox", "image", "--from-debian", env=env)
    assert "Traceback" not in completed.stderr
    assert "stopped by the test" in completed.stderr, completed.stderr
    seen = dump.read_text().split()
    assert seen == ([f"LD_LIBRARY_PATH={users_path}"] if users_path else []), seen
