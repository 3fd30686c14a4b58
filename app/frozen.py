"""What differs when the app runs from a PyInstaller bundle instead of a Python environment.

The bootloader puts the bundle's own library folder first on the dynamic loader's search path
(LD_LIBRARY_PATH on Linux, DYLD_LIBRARY_PATH on macOS) and keeps the user's value in `<NAME>_ORIG`.
Every program we start (docker, mmdebstrap, a browser via xdg-open, a system Python for the
process sandbox) would load the bundle's libssl or libstdc++ instead of its own and may crash.
The loader reads the variable once when a process starts, so restoring it in `os.environ` right
after start-up is safe for the running app and cleans it for every child at once.

A windowed build (Windows without a console, macOS .app started from Finder) has no stdout or
stderr: `sys.stdout` is None and a `print` or a logging handler writing to it would raise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

# The variables the bootloader may change, per OS; the originals are kept as `<name>_ORIG`.
LIBRARY_PATH_VARIABLES = ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "LIBPATH")


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_root() -> Path | None:
    """The folder holding the bundled files (`_internal` of a onedir build), or None."""
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass) if meipass else None


def restore_library_path(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Put back the user's library search path the bootloader replaced; returns the names
    changed. Without a saved original the variable did not exist before, so it is removed."""
    env = os.environ if environ is None else environ
    changed = []
    for name in LIBRARY_PATH_VARIABLES:
        original = env.pop(name + "_ORIG", None)
        if original is not None:
            if env.get(name) != original:
                changed.append(name)
            env[name] = original
        elif name in env and _points_into_bundle(env[name]):
            del env[name]
            changed.append(name)
    return changed


def _points_into_bundle(value: str) -> bool:
    root = bundle_root()
    if root is None:
        return False
    entries = [p for p in value.split(os.pathsep) if p]
    return bool(entries) and all(Path(p).resolve() == root.resolve() for p in entries)


class _NullStream:
    """Stands in for a missing stdout/stderr: accepts text, writes nowhere."""

    encoding = "utf-8"
    errors = "replace"

    def write(self, text: str) -> int:
        return len(text)

    def writelines(self, lines) -> None:
        pass

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("no console: this is a windowed app")


def ensure_standard_streams() -> list[str]:
    """Give a windowed app harmless stdout/stderr so `print` and logging cannot raise;
    returns the names replaced."""
    replaced = []
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, _NullStream())
            replaced.append(name)
    return replaced


def prepare_frozen_process() -> None:
    """Everything a frozen app does first, before importing anything that starts processes."""
    import multiprocessing

    ensure_standard_streams()
    # A frozen binary started by multiprocessing runs its child's code here and exits.
    multiprocessing.freeze_support()
    if is_frozen():
        restore_library_path()
