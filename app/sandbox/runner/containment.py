"""Keeping gradings in their box (stdlib only): rlimits, making a process untouchable by its
children, killing process groups, and removing whatever a grading leaves behind (stray
processes, files in a private /tmp)."""

from __future__ import annotations

import os
import signal
import stat
import time

try:  # imported here, once: in a grading it would search sys.path (the package) every time
    import resource
except ImportError:  # not on Windows
    resource = None

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def harden_self() -> dict:
    """Make this process untouchable by its children (same user id): not dumpable means no
    /proc/<pid>/fd, /proc/<pid>/mem, /proc/<pid>/environ or ptrace access. As a subreaper (or
    PID 1) every orphaned daemon below us is re-parented to us, so the stray sweep finds it."""
    report = {"pid1": os.getpid() == 1, "dumpable": True, "subreaper": os.getpid() == 1}
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0:
            report["dumpable"] = False
        if os.getpid() != 1 and libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0:
            report["subreaper"] = True
    except (OSError, AttributeError, ImportError):  # not Linux
        pass
    return report


def apply_rlimits(limits: dict, *, per_item: bool) -> None:
    """Limits shared by every grading are set once on the fork server (the loader and every
    grading inherit them); only the per-process budgets (CPU seconds, address space) are set in
    each grading."""
    if resource is None:
        return
    if per_item:
        wanted = {"RLIMIT_CPU": limits.get("cpu_s"), "RLIMIT_AS": limits.get("address_space_bytes")}
    else:
        wanted = {
            "RLIMIT_FSIZE": limits.get("file_bytes"),
            "RLIMIT_NOFILE": limits.get("open_files"),
            "RLIMIT_NPROC": limits.get("processes"),
            "RLIMIT_CORE": 0,
        }
    for name, value in wanted.items():
        if value is None or not hasattr(resource, name):
            continue
        which = getattr(resource, name)
        try:
            _soft, hard = resource.getrlimit(which)
            value = int(value)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, TypeError, OSError):
            pass


def kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError, OSError):
            pass


def exited_child() -> int | None:
    """The pid of a child that has exited, still a zombie: None when none has. Peek without
    reaping: while the child is a zombie its pid (and process group id) cannot be reused, so
    killing its group before reaping it can never hit an unrelated process."""
    try:
        info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return None
    if info is None or info.si_pid == 0:
        return None
    return info.si_pid


def parent_of(pid: int) -> int | None:
    """The parent of `pid` from /proc, or None when it does not exist (or there is no /proc).
    A process being released after it was reaped still shows for a moment, with parent 0."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
        return int(data[data.rfind(b")") + 2 :].split()[1]) or None
    except (OSError, ValueError, IndexError):
        return None


def process_state(pid: int) -> str | None:
    """The state letter of `pid` from /proc ("Z" once it has exited and its children were
    re-parented), or None when it is gone or there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
        return data[data.rfind(b")") + 2 :].split()[0].decode("ascii")
    except (OSError, ValueError, IndexError):
        return None


def _direct_children(me: int) -> set[int] | None:
    try:
        with open(f"/proc/{me}/task/{me}/children", "rb") as handle:
            return {int(pid) for pid in handle.read().split()}
    except (OSError, ValueError):
        return None


def sweep_strays(me: int, keep: set[int]) -> list[int]:
    """SIGKILL every descendant of ours that is not (below) one of the children in `keep`.

    Cheap in the common case: any surviving descendant of a finished grading has an ancestor
    (or is one) that was re-parented to us, because we are PID 1 or a subreaper; so when our
    direct children are exactly those kept, there is nothing to sweep."""
    if not os.path.isdir("/proc"):
        return []
    children = _direct_children(me)
    if children is not None and children <= keep:
        return []
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            parent = parent_of(int(name))
            if parent is not None:
                parents[int(name)] = parent
    killed = []
    for pid in parents:
        if pid == me:
            continue
        node, top, hops = pid, None, 0
        while node in parents and hops < 4096:
            parent = parents[node]
            if parent == me:
                top = node
                break
            node, hops = parent, hops + 1
        if top is not None and top not in keep:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except (ProcessLookupError, PermissionError):
                pass
    return killed


def bury(pids: list[int], patience_s: float = 1.0) -> None:
    """Reap the strays just killed, so not even a zombie is left for the next grading to see.
    Those that were not our children yet are re-parented to us (PID 1 or subreaper) as they die."""
    pending = set(pids)
    deadline = time.monotonic() + patience_s
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    pending.discard(pid)
            except ChildProcessError:
                if not os.path.exists(f"/proc/{pid}"):
                    pending.discard(pid)
        if pending:
            time.sleep(0.002)


def remove_tree(path: str) -> None:
    """rm -rf that also copes with folders a grader made unreadable (chmod 000), changing
    permissions only inside `path` itself (shutil is not imported: the runner stays small)."""
    root = os.path.abspath(path)
    try:
        info = os.lstat(root)
    except OSError:
        return
    if not stat.S_ISDIR(info.st_mode):
        try:
            os.unlink(root)
        except OSError:
            pass
        return
    try:
        os.chmod(root, stat.S_IRWXU)
        names = os.listdir(root)
    except OSError:
        names = []
    for name in names:
        child = os.path.join(root, name)
        try:
            if stat.S_ISDIR(os.lstat(child).st_mode):
                remove_tree(child)
            else:
                os.unlink(child)
        except (OSError, RecursionError):
            pass
    try:
        os.rmdir(root)
    except OSError:
        pass


def sweep_tmp(scratch_root: str, keep: set[str]) -> None:
    """In a private /tmp (container, bubblewrap) nothing but live scratch folders may stay."""
    if os.getpid() != 1:  # belt and braces: only ever inside a private namespace
        return
    for root in ("/tmp", "/dev/shm"):
        _remove_entries(root, spare={scratch_root})
    _remove_entries(scratch_root, spare=keep)


def _remove_entries(folder: str, spare: set[str]) -> None:
    """Remove everything in `folder` but the paths in `spare` (nothing when it cannot be read)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        if path not in spare:
            remove_tree(path)
