"""Where a package came from: created on this machine ("own") or anything else ("foreign").

A package is foreign unless `gauntlet new` or a template created it here. Creating one writes a
random 256-bit token to `.gauntlet/origin` inside the package and a record in the user's data
folder (`provenance/`), keyed by the folder's real path, holding the token's hash. A package is
own only when both agree. So a package cannot claim to be own: it cannot know the token; a
bundle never carries it (`.gauntlet/` is never bundled, snapshotted or mounted); and a folder
deleted and replaced at the same path (a download, an unbundle, a clone) has no token, so it is
foreign again. `unbundle`, the importers and anything that writes someone else's files into a
folder also call `mark_foreign`, which drops any record for that path.

Foreign packages take the strict path everywhere: no weak process backend unless forced, and
no `environment/Dockerfile` build unless the operator allows it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from app.atomic import write_text_atomic
from app.paths import data_dir

ORIGIN_FILE = Path(".gauntlet") / "origin"


def _registry() -> Path:
    return data_dir() / "provenance"


def _key(root: Path) -> tuple[Path, str]:
    real = os.path.realpath(root)
    return Path(real), hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def record_created(root: str | os.PathLike[str]) -> None:
    """Remember that the package folder at `root` was created on this machine."""
    real, key = _key(Path(root))
    token = secrets.token_hex(32)
    write_text_atomic(real / ORIGIN_FILE, token + "\n")
    record = {"path": str(real), "origin": _digest(token)}
    write_text_atomic(_registry() / f"{key}.json", json.dumps(record) + "\n")


def mark_foreign(root: str | os.PathLike[str]) -> None:
    """Forget any "created here" record for `root` (its files now come from someone else)."""
    _real, key = _key(Path(root))
    with contextlib.suppress(FileNotFoundError):
        (_registry() / f"{key}.json").unlink()


def is_own(root: str | os.PathLike[str]) -> bool:
    """True only for a folder this machine created and that still holds its origin token."""
    real, key = _key(Path(root))
    try:
        record = json.loads((_registry() / f"{key}.json").read_text(encoding="utf-8"))
        origin = real / ORIGIN_FILE
        if origin.is_symlink() or not isinstance(record, dict):
            return False
        token = origin.read_text(encoding="ascii").strip()
        return record.get("path") == str(real) and hmac.compare_digest(
            str(record.get("origin", "")), _digest(token)
        )
    except (OSError, ValueError):
        return False
