"""One package file as the workspace sees it: what is on disk, and whether it moved under us.

Plain Python (no Qt) so the rules are easy to test: a file is "changed outside" only when its
bytes differ from what we last read or wrote — our own atomic saves also trigger the file
watcher, and those must not be mistaken for someone else's edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.atomic import write_text_atomic
from app.errors import UserError

MAX_EDITABLE_BYTES = 20 * 1024 * 1024


@dataclass
class FileDocument:
    root: Path
    relpath: str
    disk_text: str | None = None  # None: not on disk (deleted, or never saved)
    newline: str = "\n"

    @property
    def path(self) -> Path:
        return self.root / self.relpath

    def load(self) -> str:
        """Read the file; a clear UserError when it cannot be edited as text."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise UserError(
                f"{self.relpath} does not exist in this package.",
                (
                    "Create it, or correct the file name in env.toml; "
                    "it may also have been moved or deleted."
                ),
                where=self.relpath,
            ) from None
        except OSError as exc:
            raise UserError(
                f"Cannot read {self.relpath}: {exc.strerror or exc}.",
                "Check the file's permissions.",
                where=self.relpath,
            ) from None
        if len(data) > MAX_EDITABLE_BYTES:
            raise UserError(
                f"{self.relpath} is {len(data) // (1024 * 1024)} MB, too big to edit here.",
                "Split it into smaller files or edit it with a tool made for large data.",
                where=self.relpath,
            )
        if b"\0" in data[:8192]:
            raise UserError(
                f"{self.relpath} is a binary file.",
                "Only text files can be edited in the workspace.",
                where=self.relpath,
            )
        try:
            text = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{self.relpath} is not UTF-8 text (byte {exc.start}).",
                "Save it as UTF-8 in the program that made it, then reopen it.",
                where=self.relpath,
            ) from None
        self.newline = "\r\n" if "\r\n" in text else "\n"
        # Qt works with \n; the file's own line endings come back on save.
        text = text.replace("\r\n", "\n")
        self.disk_text = text
        return text

    def read_disk(self) -> str | None:
        """The file's current text on disk, None when it is gone or unreadable."""
        try:
            return self.path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            return None

    def is_dirty(self, text: str) -> bool:
        return text != self.disk_text

    def save(self, text: str) -> None:
        try:
            write_text_atomic(
                self.path, text.replace("\n", self.newline) if self.newline != "\n" else text
            )
        except OSError as exc:
            raise UserError(
                f"Could not save {self.relpath}: {exc.strerror or exc}.",
                (
                    "Check that the folder still exists and is writable; "
                    "your text is still in the editor."
                ),
                where=self.relpath,
            ) from None
        self.disk_text = text
