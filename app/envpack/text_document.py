"""What the comment-preserving editors of env.toml and the JSONL files share: saving their text
atomically, to the file they came from or to a new one."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path

from app.atomic import write_text_atomic


class TextDocument(ABC):
    """A document whose `text()` is the whole file; `path` is where it was read or last saved."""

    path: Path | None

    @abstractmethod
    def text(self) -> str:
        """The whole file as it would be saved."""

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path to save to")
        write_text_atomic(target, self.text())
        self.path = target
        return target
