"""Loading the grader and grading one item (stdlib only; runs in the loader, never the server).

`load_grader` imports the author's grader (or picks a built-in one) once, in the loader. Each
item is graded in a fresh forked child of the loader: `grade_item` writes the child's pid on the
result pipe first (so the server knows whom to kill, before any grader code has run), starts a
session of its own, redirects stdin to /dev/null and stdout/stderr to the server's capped pipe,
closes every other descriptor, applies the per-item rlimits, moves to a fresh scratch folder and
calls the grader; the return value is copied to JSON without calling any of its methods.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import signal
import sys
import time

from . import wire
from .containment import apply_rlimits

RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
RESULT_FD = 3


def load_grader(config: dict):
    """(grade, None), or (a grader that always fails, the import error as a short traceback)."""
    try:
        grade = _load(config["grader"], config.get("pack"))
        if config.get("kind") == "multi-turn":
            grade = _episode_grader(grade, config.get("pack"))
        return grade, None
    except BaseException as exc:  # noqa: BLE001 - the author's grader failed to import
        return _broken_grader, excerpt(exc, config.get("pack"))


def _load(spec: dict, pack: str | None):
    kind = spec.get("type")
    if kind == "match":
        from .match import grade_match

        return lambda task, response, config, scratch: grade_match(task, response, config["grader"])
    if kind == "tests":
        from .code_tests import grade_tests

        def run_tests(task, response, config, scratch):
            budget = float(config["grader"].get("timeout_s", 10.0)) * 0.85 - 0.2
            return grade_tests(task, response, config["grader"], scratch, budget)

        return run_tests
    if kind == "python":
        return _load_python(spec, pack)
    if kind == "rubric":
        return _load_rubric(spec, pack)
    raise RuntimeError(f"grader type {kind!r} does not run in the sandbox")


def _load_python(spec: dict, pack: str | None):
    filename, _, function = str(spec.get("entry", "grader.py:grade")).partition(":")
    user_grade = getattr(_import(pack, filename), function or "grade")
    return lambda task, response, config, scratch: user_grade(task, response)


def _import(pack: str | None, filename: str):
    if not pack:
        raise RuntimeError("python graders need the package folder")
    path = os.path.join(pack, filename)
    module_name = os.path.splitext(os.path.basename(path))[0]
    loaded = sys.modules.get(module_name)
    if loaded is not None and getattr(loaded, "__file__", None) == path:
        return loaded  # a rubric's criteria share their grader module
    sys.path.insert(0, os.path.dirname(path))
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {filename}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    return module


def _load_rubric(spec: dict, pack: str | None):
    """A rubric's code criteria, called one after the other on each item. Each criterion's
    value or exception is kept apart under "$rubric", so one criterion that fails is reported
    as that criterion's; the host checks and combines the scores (judge criteria are asked on
    the host, never here)."""
    default_file = str(spec.get("entry", "grader.py:grade")).partition(":")[0]
    functions = []
    for criterion in spec.get("criteria") or []:
        if criterion.get("judge") and not criterion.get("function"):
            continue
        file, sep, name = str(criterion.get("function", "")).rpartition(":")
        module = _import(pack, file if sep else default_file)
        functions.append((str(criterion.get("name", "")), getattr(module, name)))

    def grade_rubric(task, response, config, scratch):
        scores = {}
        for name, function in functions:
            try:
                scores[name] = {"raw": function(task, response)}
            except BaseException as exc:  # noqa: BLE001 - this criterion's failure, reported
                scores[name] = {"error": "exception", "detail": excerpt(exc, config.get("pack"))}
        return {"$rubric": scores}

    return grade_rubric


def _episode_grader(grade, pack: str | None):
    """A multi-turn grading: the episode is replayed (app/sandbox/runner/episode.py), then the
    grader gets the trajectory in place of a response. The trajectory goes back with the value,
    even when the grader raises: it is what the author needs to see."""
    from .episode import run_episode

    tools = (
        _import(pack, "tools.py")
        if pack and os.path.isfile(os.path.join(pack, "tools.py"))
        else None
    )

    def grade_episode(task, response, config, scratch):
        episode = run_episode(task, response, tools)
        try:
            value = grade(task, episode["messages"], config, scratch)
        except BaseException as exc:  # noqa: BLE001 - the grader's failure, with its episode
            return {"$episode": episode, "$error": excerpt(exc, config.get("pack"))}
        return {"$episode": episode, "$value": value}

    return grade_episode


def _broken_grader(task, response, config, scratch):
    raise RuntimeError("the grader could not be loaded")


def grade_item(item: dict, grade, config: dict, out_w: int, res_w: int, grader_error) -> None:
    """The forked child: never returns."""
    os.dup2(res_w, RESULT_FD)
    os.set_inheritable(RESULT_FD, False)
    try:
        _write_all(RESULT_FD, b"%d\n" % os.getpid())
        _prepare(config, out_w, item["scratch"])
    except BaseException as exc:  # noqa: BLE001 - our fault, not the grader's: say so
        detail = f"could not prepare the grading: {type(exc).__name__}: {exc}"
        _report({"error": "sandbox", "detail": detail})
    started = time.monotonic()
    try:
        value = grade(item["task"], item["response"], config, item["scratch"])
        message = {"raw": wire.to_jsonable(value)}
    except BaseException as exc:  # noqa: BLE001 - whatever the grader does, we report it
        message = {"error": "exception", "detail": grader_error or excerpt(exc, config.get("pack"))}
    message["grader_s"] = round(time.monotonic() - started, 6)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001
        pass
    _report(message)


def _prepare(config: dict, out_w: int, scratch: str) -> None:
    os.setsid()
    gc.unfreeze()
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_w, 1)
    os.dup2(out_w, 2)
    os.closerange(RESULT_FD + 1, 65536)  # the loader's socket, other items' pipes: all gone
    apply_rlimits(config.get("limits", {}), per_item=True)
    try:  # the OOM killer's first choice, never the server (the loader set it already)
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        os.write(fd, b"1000")
        os.close(fd)
    except OSError:
        pass
    os.environ["HOME"] = os.environ["TMPDIR"] = scratch
    tempfile = sys.modules.get("tempfile")  # imported by the grader: make it use the scratch folder
    if tempfile is not None:
        tempfile.tempdir = scratch
    os.chdir(config.get("pack") or scratch)


def _report(message: dict) -> None:
    try:
        data = json.dumps(message, allow_nan=True).encode("utf-8")
    except (ValueError, TypeError, RecursionError):
        data = json.dumps(
            {
                "error": "invalid-reward",
                "detail": "the grader returned a value that cannot be recorded",
            }
        ).encode()
    try:
        _write_all(RESULT_FD, data)
    finally:
        os._exit(0)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def excerpt(exc: BaseException, pack: str | None) -> str:
    """A short traceback: the grader's own frames first, the runner's frames left out."""
    try:
        import traceback  # only when needed: the loader stays small

        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if not f.filename.startswith(RUNNER_DIR)
        ]
        lines = []
        for frame in frames[-6:]:
            filename = frame.filename
            if pack and filename.startswith(pack.rstrip("/") + "/"):
                filename = filename[len(pack.rstrip("/")) + 1 :]
            lines.append(f'  File "{filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line}")
        message = f"{type(exc).__name__}: {str(exc)[:500]}"
        return (
            "Traceback (most recent call last):\n" + "\n".join(lines) + "\n" if lines else ""
        ) + message
    except BaseException:  # noqa: BLE001
        return "an exception that could not be described"
