"""The folder an importer reads: someone else's files, so a symbolic link in it is refused.

Following a link would copy whatever it points at (`instruction.md -> ~/.aws/credentials`)
into a package that is then submitted and read by others. Importers check the whole tree they
read before reading anything, so no later `read_text` can go through a link.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.errors import UserError

# Folders no importer reads (tool caches, dependencies): links in them are harmless.
SKIP_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", "build", "dist", "node_modules"})


def refuse_symlinks(root: Path, *, skip_dirs: frozenset[str] = SKIP_DIRS) -> None:
    """A UserError naming the first symbolic link under `root` (outside `skip_dirs`)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs)
        for name in [*dirnames, *sorted(filenames)]:
            path = Path(dirpath) / name
            if path.is_symlink():
                raise UserError(
                    f"{path.relative_to(root).as_posix()} in {root} is a symbolic link "
                    f"(to {os.readlink(path)}); importers never follow links.",
                    "Replace the link with a copy of the file it should hold, or remove it, "
                    "then import again.",
                    where=str(path),
                )
