"""The embedded platform's starter, as the entry points hand it to sync (see
app.sync.platform.use_local_platform). Kept apart from app.platform.embedded so that a copy
installed without the server extra still gets a clear message instead of an ImportError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.errors import UserError


def launch_embedded(folder: Path) -> Any:
    return _embedded().start_embedded(folder)


def run_local_checks() -> int:
    """Run the checks queued on the local platform here; how many ran (see run_queued_checks)."""
    return _embedded().run_queued_checks()


def _embedded():
    try:
        from app.platform import embedded
    except ImportError as exc:
        raise UserError(
            "The local platform is not installed with this copy of Gauntlet Studio.",
            "Install the server extra (pip install 'gauntlet-studio[server]') or log in to a "
            "platform with `gauntlet login --server URL`.",
        ) from exc
    return embedded
