"""Editing env.toml the way a person would: change one value, keep every comment, blank line
and the order of keys as the author wrote them (tomlkit round-trips the document).

The UI's manifest form reads and writes through `ManifestDocument`; saving is atomic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table
from tomlkit.toml_document import TOMLDocument

from app.envpack.text_document import TextDocument
from app.errors import UserError
from app.type_words import describe_type, expected

_MISSING = object()


class ManifestDocument(TextDocument):
    def __init__(self, document: TOMLDocument, path: Path | None = None) -> None:
        self.document = document
        self.path = path

    @classmethod
    def parse(cls, text: str, path: str | os.PathLike[str] | None = None) -> ManifestDocument:
        try:
            return cls(tomlkit.parse(text), Path(path) if path else None)
        except TOMLKitError as exc:
            line = getattr(exc, "line", None)
            raise UserError(
                f"env.toml is not valid TOML: {exc}",
                "Fix the syntax in the text editor first; the form needs a valid file.",
                where=f"env.toml:{line}" if line else "env.toml",
            ) from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ManifestDocument:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(
                f"{path} does not exist.", "Create the package with `gauntlet new`."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"Cannot read {path}: {exc}.", "Save env.toml as UTF-8 text.") from None
        return cls.parse(text, path)

    # -- values ---------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        """The plain Python value at dotted `key` ("grader.mode"), or `default`."""
        node: Any = self.document
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node.unwrap() if hasattr(node, "unwrap") else node

    def has(self, key: str) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def set(self, key: str, value: Any) -> None:
        """Set dotted `key`, creating its table if needed. Comments on the line are kept."""
        *tables, last = key.split(".")
        container = self._table(tables, create=True)
        if last in container:
            old = container[last]
            trivia = getattr(old, "trivia", None)
            container[last] = value
            new = container[last]
            if trivia is not None and getattr(new, "trivia", None) is not None and trivia.comment:
                new.trivia.comment = trivia.comment
                new.trivia.comment_ws = trivia.comment_ws
        else:
            self._add(container, last, value)

    @staticmethod
    def _add(container: Any, key: str, value: Any) -> None:
        """Add a new key right after the table's last key, not after its trailing comments
        (which usually introduce the next table).

        tomlkit has no public "insert after" (0.12 had `_insert_after`, 0.15 dropped it);
        `Container._insert_at` exists in every version pyproject allows, and the editing tests
        run against the lowest and the highest of them."""
        inner = container.value if isinstance(container, Table) else container
        body = getattr(inner, "body", None) or []
        last_value = max(
            (i for i, (k, item) in enumerate(body) if k is not None and not isinstance(item, dict)),
            default=None,
        )
        if last_value is not None and last_value + 1 < len(body) and hasattr(inner, "_insert_at"):
            inner._insert_at(last_value + 1, key, value)
        else:
            container[key] = value

    def remove(self, key: str) -> bool:
        *tables, last = key.split(".")
        container = self._table(tables, create=False)
        if container is None or last not in container:
            return False
        del container[last]
        return True

    def _table(self, parts: list[str], *, create: bool) -> Any:
        node: Any = self.document
        for part in parts:
            if part not in node:
                if not create:
                    return None
                node[part] = tomlkit.table()
            child = node[part]
            if not isinstance(child, dict):
                if not create:
                    return None
                value = child.unwrap() if hasattr(child, "unwrap") else child
                raise UserError(
                    f'"{part}" in env.toml is {describe_type(value, toml=True)}, '
                    f"not {expected('table')}.",
                    f"Change it to a [{part}] table.",
                )
            node = child
        return node

    # -- text -----------------------------------------------------------------------------

    def text(self) -> str:
        return tomlkit.dumps(self.document)
