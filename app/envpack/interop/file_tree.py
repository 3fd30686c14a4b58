"""Copying a task folder byte for byte, file modes included (the executable bit of solve.sh and
test.sh matters to Harbor), for the lossless agentic import and export."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from app.errors import UserError


def copy_tree(src: Path, dest: Path) -> None:
    """Copy every folder and regular file under `src` into `dest` (created), with its mode bits.
    Links and special files are refused (an importer checks for links first)."""
    dest.mkdir(parents=True, exist_ok=True)
    for folder, dirnames, filenames in os.walk(src, followlinks=False):
        base = Path(folder)
        target_base = dest / base.relative_to(src)
        dirnames.sort()
        for name in dirnames:
            (target_base / name).mkdir(exist_ok=True)
        for name in sorted(filenames):
            path = base / name
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                raise UserError(
                    f"{path} is not a regular file (a link, pipe or device).",
                    "Replace it with a copy of the file it stands for, or remove it.",
                    where=str(path),
                )
            target = target_base / name
            shutil.copyfile(path, target)
            os.chmod(target, stat.S_IMODE(info.st_mode))
