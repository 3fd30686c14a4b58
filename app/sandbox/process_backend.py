"""The process backend, for machines without Docker: weaker, and it says so in every report.

The same fork server runs as a plain subprocess with an empty environment and per-item rlimits.
On Linux with bubblewrap (`bwrap`) installed it runs inside new namespaces: no network, its own
PID namespace (the runner is PID 1, so nothing outlives the batch), a private /tmp, only /usr
and the runner (and, for python graders, the package) visible, all read-only, an unprivileged
user id, and no new user namespaces inside. Only the interpreter's standard library is mounted,
not its whole prefix. A process-count limit (RLIMIT_NPROC) stops fork bombs. There is no memory
cgroup, so a determined grader can still hurt the machine for up to its time limit: that is why
it refuses other people's packages unless forced.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from app.envpack.model import EnvPack
from app.sandbox.base import BackendInfo, SandboxBase, SandboxUnavailable
from app.sandbox.batch_run import Channel, RunnerConfig
from app.sandbox.interpreter_layout import interpreter_layout
from app.sandbox.judge import JudgeGrader
from app.sandbox.limits import SandboxLimits
from app.sandbox.process_count import process_limit
from app.sandbox.seccomp_filter import filter_descriptor

log = logging.getLogger(__name__)

RUNNER_DIR = Path(__file__).resolve().parent / "runner"
NOBODY = 65534
WEAK_NOTICE = (
    "graded with the process backend: no container, no memory limit"
    "{extra}; a hostile grader could affect this computer. Use Docker for other people's packages."
)


def find_python() -> str | None:
    """A real Python 3 interpreter (not a frozen app, not a venv shim) for the runner."""
    candidates = []
    base = getattr(sys, "_base_executable", None)
    if base and not getattr(sys, "frozen", False):
        candidates.append(base)
    if not getattr(sys, "frozen", False):
        candidates.append(sys.executable)
    for name in ("python3", "python3.11", "python3.12", "python"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if os.path.isfile(real) and os.access(real, os.X_OK):
            return real
    return None


def _world_executable(path: str) -> bool:
    """Can a user who owns nothing run `path` (every folder on the way searchable by others)?"""
    real = Path(os.path.realpath(path))
    try:
        if not real.is_file() or not real.stat().st_mode & 0o001:
            return False
        return all(folder.stat().st_mode & 0o001 for folder in real.parents)
    except OSError:
        return False


def _world_readable(folder: Path) -> bool:
    """Can a user who owns nothing read the files in `folder` (every folder up to / searchable)?"""
    try:
        if not all(f.stat().st_mode & 0o001 for f in (folder, *folder.parents)):
            return False
        return all(p.stat().st_mode & 0o004 for p in folder.glob("*.py"))
    except OSError:
        return False


class ProcessBackend(SandboxBase):
    def __init__(
        self, *, judge: JudgeGrader, python: str | None = None, use_bwrap: bool | None = None
    ) -> None:
        super().__init__(judge)
        if not hasattr(os, "fork"):
            raise SandboxUnavailable(
                "the process backend needs Linux or macOS (it forks a fresh process per grading)",
                "install Docker Desktop and use the Docker backend",
            )
        self.python = python or find_python()
        if not self.python:
            raise SandboxUnavailable(
                "no Python 3 interpreter was found for the process backend",
                "install Python 3, or Docker",
            )
        bwrap = shutil.which("bwrap") if sys.platform.startswith("linux") else None
        self.bwrap = bwrap if use_bwrap in (None, True) else None
        if use_bwrap and not bwrap:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed", "`sudo apt-get install bubblewrap`"
            )
        # A runner started by root would be root (inside bubblewrap: root outside its user
        # namespace, which the kernel exempts from RLIMIT_NPROC). It runs as nobody instead, so
        # this (non-dumpable) process's memory and environment and the process limit hold.
        self.run_as_uid = NOBODY if os.geteuid() == 0 else None
        if self.run_as_uid is not None and not _world_executable(self.python):
            self.python = next(
                (p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if _world_executable(p)),
                None,
            )
            if not self.python:
                raise SandboxUnavailable(
                    "running as root, the process backend needs a Python 3 that an unprivileged "
                    "user can run (this one is in a private folder)",
                    "install python3 from the system's packages, or use Docker",
                )
        self._runner_copy: Path | None = None
        extra = "" if self.bwrap else ", no network isolation, the whole file system readable"
        self.notice = WEAK_NOTICE.format(extra=extra)
        self.info = BackendInfo(
            name="process",
            weak=True,
            description=("bubblewrap namespaces" if self.bwrap else "plain subprocess")
            + " with rlimits (weaker than Docker)",
        )

    @property
    def snapshot_reader_uid(self) -> int | None:
        return self.run_as_uid  # the runner reads the package's snapshot directly, as this user

    def _limits(self, pack: EnvPack, jobs: int | None) -> SandboxLimits:
        return dataclasses.replace(super()._limits(pack, jobs), processes=self.process_limit())

    def _start_channel(
        self, prepared: None, snapshot: Path | None, limits: SandboxLimits
    ) -> tuple[ProcessChannel, RunnerConfig]:
        return ProcessChannel.start(self, snapshot, limits)

    def runner_dir(self) -> Path:
        """The runner's folder, readable by the user the runner runs as. Started as root, the
        runner runs as nobody, who may not reach an installation under /root: then a copy."""
        if self.run_as_uid is None or _world_readable(RUNNER_DIR):
            return RUNNER_DIR
        if self._runner_copy is None:
            copy = Path(tempfile.mkdtemp(prefix="gauntlet-runner-"))
            os.chmod(copy, 0o755)
            for source in RUNNER_DIR.glob("*.py"):
                target = copy / source.name
                shutil.copyfile(source, target)
                os.chmod(target, 0o644)
            self._runner_copy = copy
            atexit.register(shutil.rmtree, copy, True)
        return self._runner_copy

    def process_limit(self) -> int | None:
        """RLIMIT_NPROC for the runner (see app.sandbox.process_count)."""
        uid = self.run_as_uid if self.run_as_uid is not None else os.getuid()
        return process_limit(uid, own_user_namespace=bool(self.bwrap))

    def command(self, pack_root: Path | None, scratch: str) -> tuple[list[str], RunnerConfig]:
        """The runner's command line, and what the runner is told about its surroundings."""
        if self.bwrap:
            return self._bwrap_command(pack_root)
        return self._plain_command(pack_root, scratch)

    def _bwrap_command(self, pack_root: Path | None) -> tuple[list[str], RunnerConfig]:
        launch = (
            "import sys; sys.path.insert(0, '/opt/gauntlet'); "
            "from runner.server import main; main()"
        )
        argv = [self.bwrap, *self._bwrap_isolation()]
        argv += _system_folders()
        argv += interpreter_layout(self.python).bwrap_args()
        pack_dir = None
        if pack_root is not None:
            argv += ["--ro-bind", str(Path(pack_root).resolve()), "/pack"]
            pack_dir = "/pack"
        argv += ["--remount-ro", "/", self.python, "-I", "-B", "-c", launch]
        return argv, RunnerConfig(pack_dir=pack_dir, scratch="/tmp/gx", private_tmp=True)

    def _bwrap_isolation(self) -> list[str]:
        """New namespaces, an unprivileged user without capabilities, read-only /usr, a private
        /tmp, the runner read-only, and an empty environment."""
        return [
            "--unshare-all",
            "--unshare-user",
            *(["--disable-userns"] if bwrap_supports(self.bwrap, "--disable-userns") else []),
            "--die-with-parent",
            "--new-session",
            "--as-pid-1",
            "--uid",
            "10001",
            "--gid",
            "10001",
            "--hostname",
            "sandbox",
            "--cap-drop",
            "ALL",
            "--ro-bind",
            "/usr",
            "/usr",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",
            "--ro-bind",
            str(self.runner_dir()),
            "/opt/gauntlet/runner",
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/local/bin:/usr/bin:/bin",
            "--setenv",
            "LANG",
            "C.UTF-8",
            "--chdir",
            "/tmp",
        ]

    def _plain_command(
        self, pack_root: Path | None, scratch: str
    ) -> tuple[list[str], RunnerConfig]:
        # Load the runner package by path: with app/sandbox on sys.path, the app's other modules
        # there could shadow one the runner imports (the standard library's, say).
        folder = str(self.runner_dir())
        launch = (
            "import importlib.util, sys; "
            f"spec = importlib.util.spec_from_file_location('runner', {folder + '/__init__.py'!r}, "
            f"submodule_search_locations=[{folder!r}]); "
            "module = importlib.util.module_from_spec(spec); sys.modules['runner'] = module; "
            "spec.loader.exec_module(module); from runner.server import main; main()"
        )
        argv = [self.python, "-I", "-B", "-c", launch]
        pack_dir = str(Path(pack_root).resolve()) if pack_root is not None else None
        return argv, RunnerConfig(
            pack_dir=pack_dir, scratch=os.path.join(scratch, "gx"), private_tmp=False
        )


def _system_folders() -> list[str]:
    """bubblewrap arguments for /bin, /lib... as the host has them (a link stays a link)."""
    args: list[str] = []
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


@functools.cache
def bwrap_supports(bwrap: str, flag: str) -> bool:
    """Whether this bubblewrap knows `flag` (older ones lack --disable-userns)."""
    try:
        done = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return flag in done.stdout + done.stderr


class ProcessChannel(Channel):
    def __init__(self, proc: subprocess.Popen, scratch: str) -> None:
        super().__init__()
        self.proc = proc
        self.scratch = scratch
        self.stderr_thread = threading.Thread(
            target=self._drain_stderr, daemon=True, name="runner-stderr"
        )
        self.stderr_thread.start()

    @classmethod
    def start(cls, backend: ProcessBackend, pack_root: Path | None, limits: SandboxLimits):
        scratch = tempfile.mkdtemp(prefix="gauntlet-sandbox-")
        user: dict = {}
        if backend.run_as_uid is not None:
            os.chown(scratch, backend.run_as_uid, backend.run_as_uid)
            user = {"user": backend.run_as_uid, "group": backend.run_as_uid, "extra_groups": []}
        argv, config = backend.command(pack_root, scratch)
        seccomp = filter_descriptor() if backend.bwrap else None
        if seccomp is not None:
            argv = [argv[0], "--seccomp", str(seccomp), *argv[1:]]
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": scratch,
            "TMPDIR": scratch,
        }
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=scratch,
                env=env,
                start_new_session=True,
                close_fds=True,
                pass_fds=() if seccomp is None else (seccomp,),
                **user,
            )
        except OSError as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            raise SandboxUnavailable(
                f"could not start the process sandbox: {exc}", "check that Python 3 is installed"
            ) from exc
        finally:
            if seccomp is not None:
                os.close(seccomp)  # bubblewrap holds its own copy
        os.set_blocking(proc.stdout.fileno(), False)
        return cls(proc, scratch), config

    def _drain_stderr(self) -> None:
        try:
            for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
                self._keep_stderr(chunk)
        except (OSError, ValueError):
            pass

    def send(self, data: bytes) -> None:
        if self.closed:
            raise OSError("the sandbox is closed")
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def recv(self, timeout: float) -> bytes | None:
        if self.closed:
            return b""
        fd = self.proc.stdout.fileno()
        try:
            ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
        except (OSError, ValueError):
            return b""
        if not ready:
            return None
        try:
            return os.read(fd, 1 << 16)
        except BlockingIOError:
            return None
        except OSError:
            return b""

    def kill(self) -> None:
        # SIGTERM first: the runner then kills every grading and stray it started (without a
        # PID namespace nothing else would); SIGKILL right after in case it does not answer.
        for sig in (signal.SIGTERM,):
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(1.0)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _remove_sandbox(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(2.0)
            except subprocess.TimeoutExpired:
                self.kill()
        self.kill() if self.proc.poll() is None else None
        try:
            self.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.stderr_thread.join(1.0)
        deadline = time.monotonic() + 2
        while os.path.exists(self.scratch) and time.monotonic() < deadline:
            shutil.rmtree(self.scratch, ignore_errors=True)
