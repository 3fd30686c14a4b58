"""The embedded platform's starter, as the entry points hand it to sync (see
app.sync.platform.use_local_platform). Kept apart from app.platform.embedded so that a copy
installed without the server extra still gets a clear message instead of an ImportError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.errors import UserError


def launch_embedded(folder: Path) -> Any:
    try:
        from app.platform.embedded import start_embedded
    except ImportError as exc:
        raise UserError(
            "The local platform is not installed with this copy of Gauntlet Studio.",
            "Install the server extra (pip install 'gauntlet-studio[server]') or log in to a "
            "platform with `gauntlet login --server URL`.",
        ) from exc
    return start_embedded(folder)
