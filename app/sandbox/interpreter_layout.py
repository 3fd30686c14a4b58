"""What of the runner's Python interpreter the bubblewrap sandbox may see.

Mounting the interpreter's whole prefix would show the sandbox whatever else lives there:
a prefix of `~/.local` exposes the user's tools and data, and every prefix has a
site-packages full of installed code. The sandbox gets the executable, the standard library
(with site-packages hidden) and the shared libraries next to libpython, nothing more.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from dataclasses import dataclass

from app.sandbox.base import SandboxUnavailable

# Already visible in the sandbox as a whole (read-only): nothing under them needs a mount.
SYSTEM_TREES = ("/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/")

_QUERY = """
import glob, json, os, sys, sysconfig
paths = sysconfig.get_paths()
libdir = sysconfig.get_config_var("LIBDIR") or ""
print(json.dumps({
    "stdlib": [paths["stdlib"], paths["platstdlib"], sysconfig.get_config_var("DESTSHARED")],
    "site": [paths["purelib"], paths["platlib"]],
    "libraries": sorted(glob.glob(os.path.join(libdir, "lib*.so*"))) if libdir else [],
}))
"""


@dataclass(frozen=True, slots=True)
class InterpreterLayout:
    executable: str
    stdlib: tuple[str, ...]  # folders to mount read-only
    hidden: tuple[str, ...]  # folders inside them to cover with an empty one (site-packages)
    libraries: tuple[str, ...]  # shared library files to mount (libpython and its kin)

    def bwrap_args(self) -> list[str]:
        args: list[str] = []
        for path in (self.executable, *self.stdlib, *self.libraries):
            if not path.startswith(SYSTEM_TREES):
                args += ["--ro-bind", path, path]
        for path in self.hidden:
            args += ["--tmpfs", path, "--remount-ro", path]
        return args


@functools.cache
def interpreter_layout(python: str) -> InterpreterLayout:
    """Ask `python` where its standard library and shared libraries are (once per path)."""
    try:
        done = subprocess.run(
            [python, "-I", "-S", "-c", _QUERY],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
        found = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise SandboxUnavailable(
            f"could not ask {python} where its standard library is ({exc})",
            "install Python 3 from the system's packages, or use Docker",
        ) from exc
    stdlib = _existing(found.get("stdlib"))
    hidden = tuple(
        site
        for site in _existing(found.get("site"))
        if any(site.startswith(folder + "/") for folder in stdlib)
    )
    return InterpreterLayout(
        executable=os.path.realpath(python),
        stdlib=_outermost(stdlib),
        hidden=hidden,
        libraries=_existing(found.get("libraries")),
    )


def _existing(paths: object) -> tuple[str, ...]:
    if not isinstance(paths, list):
        return ()
    real = (os.path.realpath(p) for p in paths if isinstance(p, str) and p)
    return tuple(dict.fromkeys(p for p in real if os.path.exists(p)))


def _outermost(folders: tuple[str, ...]) -> tuple[str, ...]:
    """Drop folders inside another one in the list (lib-dynload inside the stdlib)."""
    return tuple(f for f in folders if not any(f != o and f.startswith(o + "/") for o in folders))
