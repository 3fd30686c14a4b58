"""A read-only snapshot of a package for one batch.

The sandbox user (uid 10001) must be able to read the package whatever the author's file
permissions are (a folder made with mode 0700 is common), and every grading in a batch must see
the same files even if the author saves in the editor meanwhile. So the backends mount a
world-readable copy, made per batch and removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from app.envpack.walk import is_ignored_name
from app.sandbox.base import SandboxUnavailable

MAX_SNAPSHOT_BYTES = 512 << 20


def _skip(folder: str, names: list[str]) -> set[str]:
    """Never copied: what the package walk ignores (version control, caches, .venv,
    node_modules, editor folders), so the sandbox sees exactly the package."""
    return {
        name
        for name in names
        if is_ignored_name(name, is_dir=os.path.isdir(os.path.join(folder, name)))
    }


@contextlib.contextmanager
def package_snapshot(root: Path, *, reader_uid: int | None = None) -> Iterator[Path]:
    """A world-readable copy of `root` inside a private (0700) folder: the sandbox reaches it
    through a bind mount, other users of this machine cannot. `reader_uid` (when running as
    root): the unprivileged user that will read it directly, who then owns the private folder."""
    work = Path(tempfile.mkdtemp(prefix="gauntlet-pack-"))
    target = work / "pack"
    try:
        try:
            shutil.copytree(root, target, symlinks=True, ignore=_skip)
        except (OSError, shutil.Error) as exc:
            raise SandboxUnavailable(
                f"could not prepare the package for the sandbox: {exc}",
                "check that every file in the package is readable",
            ) from exc
        total = 0
        for folder, dirs, files in os.walk(target):
            os.chmod(folder, 0o755)
            for name in files:
                path = os.path.join(folder, name)
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    os.unlink(path)  # links could point outside the package (stage 1 flags them)
                    continue
                total += info.st_size
                os.chmod(path, 0o644)
            for name in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                os.unlink(os.path.join(folder, name))  # a linked folder could lead anywhere too
                dirs.remove(name)
        if total > MAX_SNAPSHOT_BYTES:
            raise SandboxUnavailable(
                f"the package is larger than {MAX_SNAPSHOT_BYTES >> 20} MiB",
                "keep large data out of the package folder",
            )
        os.chmod(work, 0o700)
        if reader_uid is not None and os.geteuid() == 0:
            os.chown(work, reader_uid, reader_uid)
        yield target
    finally:
        shutil.rmtree(work, ignore_errors=True)
