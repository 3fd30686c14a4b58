"""The files of one package as the loader sees them: the folder on disk, overlaid with the
editor's unsaved buffers (`overrides`), read safely.

Reading never raises. Each read says what went wrong (missing, not UTF-8, too large, a link,
outside the package) so the checks can turn it into a precise finding.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.envpack.limits import MAX_FILE_BYTES


@dataclass(frozen=True, slots=True)
class ReadResult:
    text: str | None
    # "missing" | "directory" | "symlink" | "outside" | "too-large" | "not-utf8" | "unreadable"
    problem: str | None = None
    detail: str = ""  # e.g. where the bad byte is
    line: int | None = None  # for not-utf8: the line of the first bad byte
    column: int | None = None


def normalize_relpath(path: str) -> str | None:
    """A package-relative posix path, or None when the path would leave the package."""
    if not isinstance(path, str) or not path.strip() or "\x00" in path:
        return None
    candidate = path.replace("\\", "/")
    if candidate.startswith("/") or (len(candidate) > 1 and candidate[1] == ":"):
        return None
    parts = [p for p in PurePosixPath(candidate).parts if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


class PackageSource:
    def __init__(
        self, root: str | os.PathLike[str], overrides: Mapping[str, str] | None = None
    ) -> None:
        self.root = Path(root)
        self.overrides: dict[str, str] = {}
        for key, text in (overrides or {}).items():
            rel = normalize_relpath(str(key))
            if rel is not None and isinstance(text, str):
                self.overrides[rel] = text
        self._cache: dict[str, ReadResult] = {}

    def path(self, rel: str) -> Path:
        return self.root.joinpath(*rel.split("/"))

    def exists(self, rel: str) -> bool:
        if rel in self.overrides:
            return True
        try:
            return os.path.lexists(self.path(rel))
        except (OSError, ValueError):
            return False

    def is_override(self, rel: str) -> bool:
        return rel in self.overrides

    def read_text(self, rel: str) -> ReadResult:
        if rel not in self._cache:
            self._cache[rel] = self._read(rel)
        return self._cache[rel]

    def _read(self, rel: str) -> ReadResult:
        if rel in self.overrides:
            return ReadResult(self.overrides[rel])
        path = self.path(rel)
        try:
            if path.is_symlink():
                return ReadResult(None, "symlink")
            if not path.exists():
                return ReadResult(None, "missing")
            if path.is_dir():
                return ReadResult(None, "directory")
            if not _inside(self.root, path):
                return ReadResult(None, "outside")
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                return ReadResult(None, "too-large", f"{size} bytes")
            data = path.read_bytes()
        except (OSError, ValueError) as exc:
            return ReadResult(None, "unreadable", getattr(exc, "strerror", None) or str(exc))
        return decode_text(data)


def decode_text(data: bytes) -> ReadResult:
    """UTF-8 text (a leading BOM is tolerated), or where the first undecodable byte is."""
    if b"\x00" in data:
        offset = data.index(b"\x00")
        line, column = _position(data, offset)
        return ReadResult(None, "not-utf8", "contains NUL bytes (binary data)", line, column)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        return ReadResult(
            None, "not-utf8", f"byte 0x{data[exc.start]:02x} is not valid UTF-8", line, column
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    return ReadResult(text)


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False
