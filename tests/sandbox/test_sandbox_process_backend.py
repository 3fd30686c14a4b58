"""The process backend's own defences (issue 10): a process-count limit that stops a fork bomb,
and, under bubblewrap, no view of the interpreter's prefix or the home folder and no new user
namespaces. Each runs a real grader in the real backend."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest
from support.sandbox_packages import load, write_pack

from app.sandbox.base import GradingItem

PY = 'type = "python"\nentry = "grader.py:grade"\ntimeout_s = 20'
TASK = {"id": "t1", "prompt": "Say 4.", "answer": "4"}

# Forks up to task["tries"] children that wait on a pipe, counts them, then lets them all go.
FORKER = """
import os

def grade(task, response):
    read_end, write_end = os.pipe()
    children = []
    for _ in range(task["tries"]):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            os.close(write_end)
            os.read(read_end, 1)
            os._exit(0)
        children.append(pid)
    os.close(write_end)
    for pid in children:
        os.waitpid(pid, 0)
    return len(children) / task["tries"]
"""


def _backend(kind: str):
    from support.services import need

    from app.sandbox.judge import JudgeGrader
    from app.sandbox.process_backend import ProcessBackend

    if kind == "bubblewrap":
        need("bubblewrap", bool(shutil.which("bwrap")), "bubblewrap (bwrap) is not installed")
        return ProcessBackend(judge=JudgeGrader(), use_bwrap=True)
    return ProcessBackend(judge=JudgeGrader(), use_bwrap=False)


def _grade(backend, tmp_path: Path, grader_py: str, task: dict):
    root = write_pack(
        tmp_path / "pack",
        grader=PY,
        tasks=[task],
        solutions=[{"task_id": task["id"], "response": "4"}],
        grader_py=grader_py,
    )
    (result,) = backend.grade_batch(load(root), [GradingItem("probe", task, "4")], jobs=1)
    return result


@pytest.mark.parametrize("kind", ["bubblewrap", "plain"])
def test_fork_bomb_is_contained_by_the_process_count_limit(kind, tmp_path, monkeypatch):
    import app.sandbox.process_count as process_count

    monkeypatch.setattr(process_count, "PROCESS_BUDGET", 48)  # keep the shared machine calm
    backend = _backend(kind)
    assert backend.process_limit() is not None
    tries = 300
    result = _grade(backend, tmp_path, FORKER, {**TASK, "tries": tries})
    assert result.error is None, result
    forked = round(result.reward * tries)
    assert 0 < forked < 48, f"{kind}: the grader started {forked} processes"


def test_weak_notice_no_longer_claims_a_missing_process_limit():
    backend = _backend("plain")
    assert "process-count" not in backend.notice


INTERPRETER_SNOOP = """
import os

def grade(task, response):
    # (an empty folder shows nothing: site-packages is covered by an empty mount)
    visible = [
        p for p in task["private"] if os.path.exists(p) and (not os.path.isdir(p) or os.listdir(p))
    ]
    bin_dir = task["bin_dir"]
    extra = sorted(set(os.listdir(bin_dir)) - {task["exe"]}) if os.path.isdir(bin_dir) else []
    if visible or extra:
        raise RuntimeError(f"VISIBLE: {visible} {extra}")
    return 1.0
"""


def test_grader_cannot_see_the_interpreter_prefix_or_home_on_bubblewrap(tmp_path):
    backend = _backend("bubblewrap")
    python = Path(backend.python)
    found = __import__("subprocess").run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    site_packages = found.stdout.strip()
    home = Path.home()
    private = [str(home / ".local"), str(home / ".ssh"), str(home / ".config")]
    system = site_packages.startswith("/usr/")  # /usr is the system's, visible by design
    if not system:
        private.append(site_packages)
    task = {
        **TASK,
        "private": private,
        "bin_dir": "/nonexistent" if system else str(python.parent),
        "exe": python.name,
    }
    result = _grade(backend, tmp_path, INTERPRETER_SNOOP, task)
    assert result.error is None and result.reward == 1.0, result
    assert sysconfig.get_paths()["stdlib"]  # the grader itself ran: the stdlib was there


def test_bubblewrap_mounts_the_interpreter_stdlib_not_its_prefix():
    """Checked on the interpreter running the tests (a pyenv, uv or venv base is typical): the
    mounts name its executable, standard library and shared libraries, never its prefix, and
    site-packages is covered by an empty folder."""
    import sys

    from app.sandbox.interpreter_layout import interpreter_layout

    python = str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
    layout = interpreter_layout(python)
    args = layout.bwrap_args()
    mounted = [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]
    prefix = str(Path(python).parent.parent)
    assert prefix not in mounted and str(Path.home()) not in mounted
    stdlib = str(Path(sysconfig.get_paths()["stdlib"]).resolve())
    if prefix.startswith("/usr"):
        assert mounted == []
        return
    assert python in mounted and stdlib in mounted
    assert all(m == python or m.startswith(prefix + "/lib") for m in mounted), mounted
    (site,) = layout.hidden
    assert site.startswith(stdlib + "/") and site.endswith("site-packages")
    assert ["--tmpfs", site, "--remount-ro", site] == args[args.index("--tmpfs") :][:4]


USERNS = """
import ctypes, os

CLONE_NEWUSER = 0x10000000

def grade(task, response):
    pid = os.fork()
    if pid == 0:  # a fresh single-threaded child tries it
        libc = ctypes.CDLL(None, use_errno=True)
        os._exit(0 if libc.unshare(CLONE_NEWUSER) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        raise RuntimeError("CREATED a user namespace")
    return 1.0
"""


def test_grader_cannot_create_a_user_namespace_on_bubblewrap(tmp_path):
    from app.sandbox.process_backend import bwrap_supports

    backend = _backend("bubblewrap")
    if not bwrap_supports(backend.bwrap, "--disable-userns"):
        pytest.skip("this bubblewrap is too old for --disable-userns")
    result = _grade(backend, tmp_path, USERNS, TASK)
    assert result.error is None and result.reward == 1.0, result


def test_runner_under_a_private_folder_is_copied_for_the_unprivileged_runner(tmp_path, monkeypatch):
    """Started as root, the runner runs as nobody; an installation nobody can reach (under
    /root, mode 0700) is copied to a readable folder instead of failing to start."""
    import os

    import app.sandbox.process_backend as process_backend

    backend = _backend("bubblewrap")
    if backend.run_as_uid is None:
        pytest.skip("only when started as root (the runner then runs as nobody)")
    private = tmp_path / "private"
    shutil.copytree(process_backend.RUNNER_DIR, private / "runner")
    os.chmod(private, 0o700)
    monkeypatch.setattr(process_backend, "RUNNER_DIR", private / "runner")
    runner = backend.runner_dir()
    assert runner != private / "runner" and (runner / "server.py").is_file()
    result = _grade(backend, tmp_path, "def grade(task, response):\n    return 1.0\n", TASK)
    assert result.error is None and result.reward == 1.0, result


# Each call is one a grader never needs; under the seccomp filter each fails with EPERM while
# ordinary calls still work. Without the filter, inside bubblewrap, all three succeed.
SECCOMP_PROBE = """
import ctypes, errno, os, platform

KEYCTL = {"x86_64": 250, "aarch64": 219}[platform.machine()]

def grade(task, response):
    libc = ctypes.CDLL(None, use_errno=True)
    outcomes = {}
    pid = os.fork()
    if pid == 0:  # PTRACE_TRACEME in a child, so the grader itself is never traced
        os._exit(0 if libc.ptrace(0, 0, None, None) == 0 else ctypes.get_errno())
    outcomes["ptrace"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    libc.unshare(0)
    outcomes["unshare"] = ctypes.get_errno()
    libc.syscall(KEYCTL, 0, -3, 0)  # KEYCTL_GET_KEYRING_ID of the session keyring
    outcomes["keyctl"] = ctypes.get_errno()
    refused = {name: code == errno.EPERM for name, code in outcomes.items()}
    if not all(refused.values()) or os.getpid() <= 0:
        raise RuntimeError(f"allowed: {outcomes}")
    return 1.0
"""


def test_grader_is_refused_tracing_namespaces_and_the_keyring_on_bubblewrap(tmp_path):
    import platform

    if platform.machine() not in ("x86_64", "aarch64"):
        pytest.skip("the filter has syscall tables for x86_64 and aarch64 only")
    result = _grade(_backend("bubblewrap"), tmp_path, SECCOMP_PROBE, TASK)
    assert result.error is None and result.reward == 1.0, result


def _run_filter(program: bytes, arch: int, number: int) -> int:
    """A tiny classic-BPF interpreter for the instructions the filter uses."""
    import struct

    code = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    data = {0: number, 4: arch}
    accumulator, pc = 0, 0
    while True:
        op, jump_true, jump_false, k = code[pc]
        if op == 0x20:
            accumulator = data[k]
        elif op in (0x15, 0x35):
            hit = accumulator == k if op == 0x15 else accumulator >= k
            pc += jump_true if hit else jump_false
        elif op == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected instruction {op:#x}")
        pc += 1


@pytest.mark.parametrize(
    ("machine", "arch", "ptrace", "read"),
    [("x86_64", 0xC000003E, 101, 0), ("aarch64", 0xC00000B7, 117, 63)],
)
def test_seccomp_filter_refuses_exactly_the_listed_calls(machine, arch, ptrace, read):
    from app.sandbox.seccomp_filter import REFUSED_SYSCALLS, filter_program

    allow, refuse = 0x7FFF0000, 0x00050001
    program = filter_program(machine)
    assert program is not None and "ptrace" in REFUSED_SYSCALLS
    assert _run_filter(program, arch, ptrace) == refuse
    assert _run_filter(program, arch, read) == allow
    assert _run_filter(program, arch, 425) == refuse  # io_uring_setup: one number everywhere
    assert _run_filter(program, 0x40000003, read) == refuse  # i386 calls on a 64-bit kernel
    if machine == "x86_64":
        assert _run_filter(program, arch, 0x40000000 | read) == refuse  # the x32 ABI
    refused = sum(_run_filter(program, arch, n) == refuse for n in range(0, 460))
    assert refused == len(REFUSED_SYSCALLS)
    assert filter_program("riscv64") is None
