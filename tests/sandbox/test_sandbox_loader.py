"""Python graders never see the batch's signing key (issue 10): they are imported by the
runner's loader, a fresh interpreter that never receives the key or the host's channel, and
every grading is a child of that loader. These tests run real graders in the real backends:
one that hunts for the key everywhere it can reach and forges results with whatever it finds,
one that reads the config it was given, and ones that kill or confuse the loader."""

from __future__ import annotations

import json
import secrets
import shutil
import types
from pathlib import Path

import pytest
from support.sandbox_packages import load, write_pack
from support.services import docker_available, need, sandbox_image_available

from app.sandbox.base import GradingItem

KEY_HUNTER = (Path(__file__).parent / "key_hunter.py.txt").read_text(encoding="utf-8")
TASK = {"id": "t1", "prompt": "Say 4.", "answer": "4"}


def _backend(kind: str):
    if kind == "docker":
        need("docker", docker_available(), "no Docker engine reachable (start dockerd)")
        need("sandbox image", sandbox_image_available(), "gauntlet sandbox image --from-debian")
        from app.sandbox.backends import get_backend

        return get_backend("docker")
    from app.sandbox.judge import JudgeGrader
    from app.sandbox.process_backend import ProcessBackend

    if kind == "bubblewrap":
        need("bubblewrap", bool(shutil.which("bwrap")), "bubblewrap (bwrap) is not installed")
        return ProcessBackend(judge=JudgeGrader(), use_bwrap=True)
    return ProcessBackend(judge=JudgeGrader(), use_bwrap=False)


def _pack(tmp_path: Path, grader_py: str, *, timeout_s: float = 20, extra=None) -> Path:
    return write_pack(
        tmp_path / "pack",
        grader=f'type = "python"\nentry = "grader.py:grade"\ntimeout_s = {timeout_s}',
        tasks=[TASK],
        solutions=[{"task_id": "t1", "response": "4"}],
        grader_py=grader_py,
        sandbox="memory_mb = 512\ncpus = 1.0",
        extra_files=extra,
    )


@pytest.mark.parametrize("kind", ["docker", "bubblewrap", "plain"])
def test_python_grader_cannot_find_or_use_the_batch_key(
    kind, tmp_path, private_tempdir, monkeypatch
):
    backend = _backend(kind)
    key = secrets.token_bytes(32)
    control = secrets.token_bytes(8)
    # The batch's key is this one (the host draws it with secrets.token_bytes(32)).
    monkeypatch.setattr(
        "app.sandbox.batch_run.secrets", types.SimpleNamespace(token_bytes=lambda n: key)
    )
    needle = {"a": key[:4].hex(), "b": key[4:8].hex(), "ca": control[:4].hex()}
    needle["cb"] = control[4:].hex()
    root = _pack(tmp_path, KEY_HUNTER, extra={"needle.json": json.dumps(needle)})
    items = [GradingItem(name, TASK, name) for name in ("spy", "forger", "victim")]
    spy, forger, victim = backend.grade_batch(load(root), items, jobs=1)

    assert victim.error is None and victim.reward == 0.0, f"a forged result was accepted: {victim}"
    assert forger.reward != 1.0, forger
    assert spy.error is None, spy
    report = spy.metrics
    assert report["candidates"] == 0, report
    for phase in ("import", "grading"):
        memory, objects = report[phase]["memory"], report[phase]["objects"]
        processes = report[phase]["processes"]
        # The hunt works: it finds the control secret planted in its own memory...
        assert memory["bytes"] > 4 << 20 and memory["ctrl"] > 0 and memory["ctrl_hex"] > 0
        assert objects["objects"] > 1000 and objects["ctrl"] > 0, objects
        # ...and nothing of the key, in memory, reachable objects or other processes.
        assert memory["key"] == memory["key_hex"] == 0, (phase, memory)
        assert objects["key"] == 0, (phase, objects)
        assert processes["proc_key_hits"] == 0, (phase, processes)
        assert processes["server_seen"] > 0, processes
        assert processes["server_mem"] == processes["server_environ"] == 0, (phase, processes)
        assert objects["config_dicts"] > 0 and objects["config_token"] == 0, (phase, objects)


CONFIG_READER = """
import gc, sys

def grade(task, response):
    configs = [o for o in gc.get_objects() if type(o) is dict and "grader" in o and "limits" in o]
    frame = sys._getframe()
    while frame is not None:
        configs += [v for v in frame.f_locals.values() if type(v) is dict and "grader" in v]
        frame = frame.f_back
    keys = sorted({key for config in configs for key in config})
    return {"reward": 1.0, "metrics": {"found": len(configs), "keys": keys}}
"""


def test_the_config_a_grader_can_see_holds_no_token(tmp_path, private_tempdir):
    backend = _backend("bubblewrap" if shutil.which("bwrap") else "plain")
    root = _pack(tmp_path, CONFIG_READER)
    (result,) = backend.grade_batch(load(root), [GradingItem("r", TASK, "4")])
    assert result.error is None, result
    assert result.metrics["found"] > 0, "the grader found no config at all: nothing was checked"
    assert "token" not in result.metrics["keys"]
    assert set(result.metrics["keys"]) <= {"op", "grader", "kind", "pack", "limits"}


KILLS_ITS_LOADER = """
import os, signal, time

def grade(task, response):
    if response == "kill":
        os.kill(os.getppid(), signal.SIGKILL)  # the loader that forked this grading
        time.sleep(0.3)
    return 1.0 if response.strip() in ("4", "kill") else 0.0
"""


@pytest.mark.parametrize("kind", ["docker", "bubblewrap", "plain"])
def test_a_grading_that_kills_the_loader_still_finishes_and_the_batch_goes_on(
    kind, tmp_path, private_tempdir
):
    backend = _backend(kind)
    root = _pack(tmp_path, KILLS_ITS_LOADER)
    responses = ["4", "kill", "4", "kill", "5", "4"]
    items = [GradingItem(f"i{n}", TASK, r) for n, r in enumerate(responses)]
    results = backend.grade_batch(load(root), items, jobs=2)
    assert [(r.error, r.reward) for r in results] == [
        (None, 1.0),
        (None, 1.0),
        (None, 1.0),
        (None, 1.0),
        (None, 0.0),
        (None, 1.0),
    ], [(r.key, r.error, r.detail) for r in results]


def test_a_grader_that_kills_the_loader_while_imported_fails_every_item_clearly(
    tmp_path, private_tempdir
):
    backend = _backend("bubblewrap" if shutil.which("bwrap") else "plain")
    root = _pack(tmp_path, "import os\nos._exit(7)\n\ndef grade(task, response):\n    return 1.0\n")
    items = [GradingItem(f"i{n}", TASK, "4") for n in range(3)]
    results = backend.grade_batch(load(root), items, jobs=2)
    for result in results:
        assert result.error == "sandbox", result
        assert "before the grader was loaded (exit status 7)" in result.detail, result.detail


# Every loader this grader is imported into dies 0.5 s later; the first grading, adopted by
# the fork server when its loader died, still finishes.
LOADER_DIES_SOON = """
import os, threading, time

threading.Timer(0.5, os._exit, (9,)).start()

def grade(task, response):
    time.sleep(float(task.get("sleep", 0)))
    return 1.0
"""


def test_a_loader_that_keeps_dying_ends_the_rest_as_sandbox_errors(tmp_path, private_tempdir):
    backend = _backend("bubblewrap" if shutil.which("bwrap") else "plain")
    root = _pack(tmp_path, LOADER_DIES_SOON)
    items = [GradingItem("slow", {**TASK, "sleep": 4}, "4")]
    items += [GradingItem(f"i{n}", TASK, "4") for n in range(3)]
    slow, *rest = backend.grade_batch(load(root), items, jobs=1)
    assert slow.error is None and slow.reward == 1.0, slow
    for result in rest:
        assert result.error == "sandbox", result
        assert "lost 3 times" in result.detail, result.detail


# While imported, a thread in the loader sends the fork server messages no loader would:
# malformed reports of the first gradings' exits, and garbage.
CONFUSES_THE_SERVER = """
import os, threading, time

def _confuse():
    time.sleep(0.5)
    lines = [b"not json", b"[1, 2]", b'{"op": "exited", "seq": true, "status": 0}']
    lines += [b'{"op": "exited", "seq": %d, "status": "boom"}' % seq for seq in (1, 2)]
    lines += [b'{"op": "failed", "seq": 3, "detail": 5}', b'{"op": "ready", "grader_error": 7}']
    os.write(3, b"\\n".join(lines) + b"\\n")

threading.Thread(target=_confuse, daemon=True).start()

def grade(task, response):
    if task.get("sleep"):
        time.sleep(2)
    return 1.0
"""


def test_malformed_loader_messages_become_invalid_rewards(tmp_path, private_tempdir):
    backend = _backend("bubblewrap" if shutil.which("bwrap") else "plain")
    root = _pack(tmp_path, CONFUSES_THE_SERVER)
    items = [GradingItem(f"slow{n}", {**TASK, "sleep": 1}, "4") for n in range(3)]
    items += [GradingItem(f"i{n}", TASK, "4") for n in range(2)]
    results = backend.grade_batch(load(root), items, jobs=3)
    for result in results[:3]:
        assert result.error == "invalid-reward" and "malformed" in result.detail, result
    assert [(r.error, r.reward) for r in results[3:]] == [(None, 1.0), (None, 1.0)], results


# A grading writes its own "result" to its result pipe: only the fields a grading reports are
# accepted, each of the right type; anything else is the grading's invalid-reward.
FORGES_ITS_RESULT = """
import os

def grade(task, response):
    if response == "other-key":
        os.write(3, b'{"raw": 1.0, "key": "victim", "op": "result", "duration_s": "x"}')
    elif response == "server-error":
        os.write(3, b'{"error": "timeout", "detail": "fake"}')
    elif response == "bad-detail":
        os.write(3, b'{"error": "exception", "detail": 5}')
    elif response == "bad-timing":
        os.write(3, b'{"raw": 1.0, "grader_s": "slow"}')
    else:
        return 0.0
    os._exit(0)
"""


def test_a_grading_forging_its_result_pipe_gets_an_invalid_reward(tmp_path, private_tempdir):
    backend = _backend("bubblewrap" if shutil.which("bwrap") else "plain")
    root = _pack(tmp_path, FORGES_ITS_RESULT)
    names = ["other-key", "server-error", "bad-detail", "bad-timing", "victim"]
    results = {
        r.key: r
        for r in backend.grade_batch(load(root), [GradingItem(n, TASK, n) for n in names], jobs=1)
    }
    for name in ("other-key", "server-error", "bad-detail", "bad-timing"):
        assert results[name].error == "invalid-reward", results[name]
    assert results["victim"].error is None and results["victim"].reward == 0.0


# A second after it was imported, a thread takes the interpreter's lock for good
# (catastrophic regex backtracking never lets go): the loader starts nothing more.
STUCK_LOADER = """
import os, re, threading, time

threading.Timer(1.0, re.match, (r"(a*)*b", "a" * 64)).start()

def grade(task, response):
    time.sleep(0.3)
    return {"reward": 1.0, "metrics": {"loader": os.getppid()}}
"""


def test_a_stuck_loader_is_replaced(tmp_path, private_tempdir):
    import time

    backend = _backend("bubblewrap" if shutil.which("bwrap") else "plain")
    root = _pack(tmp_path, STUCK_LOADER, timeout_s=2)
    items = [GradingItem(f"i{n}", TASK, "4") for n in range(8)]
    started = time.monotonic()
    results = backend.grade_batch(load(root), items, jobs=1)
    assert time.monotonic() - started < 60
    # The grading being forked when the grader's own thread seizes the loader may inherit a lock
    # that thread held (fork with threads) and time out: that one is the grader's doing. Every
    # other grading runs, in a fresh loader.
    outcomes = [(r.error, r.reward) for r in results]
    assert outcomes.count(("timeout", None)) <= 1, results
    assert outcomes.count((None, 1.0)) >= len(items) - 1, results
    loaders = {r.metrics["loader"] for r in results if r.metrics}
    assert len(loaders) > 1, "the stuck loader was never replaced"
