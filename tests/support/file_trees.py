"""Comparing folder trees byte for byte, with file modes (the round-trip tests of interop)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def tree_listing(root: Path) -> dict[str, tuple[str, bytes | None, int]]:
    """Every entry under `root`: relative path -> (kind, content for files, permission bits)."""
    listing: dict[str, tuple[str, bytes | None, int]] = {}
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in dirnames:
            rel = (base / name).relative_to(root).as_posix()
            listing[rel] = ("dir", None, 0)
        for name in filenames:
            path = base / name
            mode = stat.S_IMODE(path.lstat().st_mode)
            listing[path.relative_to(root).as_posix()] = ("file", path.read_bytes(), mode)
    return listing
