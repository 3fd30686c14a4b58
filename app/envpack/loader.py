"""Loading a package folder into the typed `EnvPack`, keeping exact locations.

`load_envpack` never raises on bad input: every problem it meets becomes a `Finding` (syntax,
schema, types, unknown keys, missing files, malformed records), and it still builds as much of
the model as it can so the checks in `app.envpack.checks` can report everything in one pass.
The editor passes `overrides` (relative path -> unsaved text) to lint buffers as the user types.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.envpack.jsonl import JsonlLine, field_columns, parse_jsonl
from app.envpack.manifest_schema import did_you_mean, read_manifest
from app.envpack.model import EnvPack, Manifest, Negative, Reference, Span, Task
from app.envpack.rules import rule
from app.envpack.source import PackageSource, ReadResult, normalize_relpath
from app.envpack.toml_locations import key_spans, locate
from app.envpack.trajectory import encode_turns, normalise_turns
from app.findings import Finding
from app.type_words import describe_type, expected

MANIFEST_FILE = "env.toml"
REFERENCE_FIELDS = ("task_id", "response", "note", "metadata", "turns")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
# tomllib's terse messages, said the way an author thinks about the mistake
_TOML_MESSAGES = {
    "Illegal character '\\n'": "the line ends inside quoted text; is a closing quote missing?",
    "Invalid value": 'this value is not valid; text needs quotes ("abc"), lists brackets ([1, 2])',
    "Expected '=' after a key in a key/value pair": "expected `key = value` on this line",
    "Unclosed array": "a list [ ... ] is not closed",
    "Expected ']' at the end of a table declaration": "a table header is missing its closing ]",
}


@dataclass(slots=True)
class LoadResult:
    pack: EnvPack | None
    findings: list[Finding] = field(default_factory=list)
    source: PackageSource | None = None
    manifest_data: dict[str, Any] = field(default_factory=dict)  # env.toml as parsed
    # role ("tasks", "solutions", "negatives") -> package-relative path, None if unusable
    files: dict[str, str | None] = field(default_factory=dict)
    # package-relative path -> its parsed JSONL lines (for checks that need raw records)
    records: dict[str, list[JsonlLine]] = field(default_factory=dict)
    _line_text: dict[tuple[str, int], str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.pack is not None and not any(f.is_error for f in self.findings)

    def manifest_span(self, key: str) -> Span:
        if self.pack is None:
            return Span(MANIFEST_FILE)
        return locate(self.pack.locations, key, MANIFEST_FILE)

    def record_span(self, file: str, line: int | None, key: str | None = None) -> Span:
        """The span of field `key` in the JSONL record on `line` (or the whole line)."""
        if line is None:
            return Span(file, line)
        if not self._line_text:  # built once: checks ask for many spans in large files
            self._line_text.update(
                {(rel, r.line): r.text for rel, lines in self.records.items() for r in lines}
            )
        text = self._line_text.get((file, line))
        if text is None:
            return Span(file, line)
        if key is not None:
            columns = field_columns(text).get(key)
            if columns:
                return Span(file, line, columns[0], line, columns[1])
        return Span(file, line, 1, line, len(text) + 1)


def load_envpack(
    root: str | os.PathLike[str], overrides: Mapping[str, str] | None = None
) -> LoadResult:
    try:
        return _Loader(Path(root), overrides).load()
    except Exception as exc:  # the loader's promise: bad input is a finding, never a crash
        message = f"The package could not be read: {type(exc).__name__}: {exc}"
        return LoadResult(
            None,
            [
                rule("GX101").finding(
                    message,
                    "This is probably a bug in Gauntlet Studio; please report it with the package.",
                    file=MANIFEST_FILE,
                )
            ],
        )


class _Loader:
    def __init__(self, root: Path, overrides: Mapping[str, str] | None) -> None:
        self.multi_turn = False  # set from the manifest: trajectories instead of responses
        self.root = root
        self.source = PackageSource(root, overrides)
        self.result = LoadResult(None, source=self.source)

    def emit(self, finding: Finding) -> None:
        self.result.findings.append(finding)

    def load(self) -> LoadResult:
        if not self.source.is_override(MANIFEST_FILE) and not self.root.is_dir():
            self.emit(
                rule("GX100").finding(
                    f"{self.root} is not a folder.",
                    "Give the path of the package folder (the one holding env.toml).",
                )
            )
            return self.result
        read = self.source.read_text(MANIFEST_FILE)
        if read.text is None:
            if read.problem in ("missing", "directory"):
                self.emit(rule("GX100").finding(f"No env.toml in {self.root}.", file=MANIFEST_FILE))
            # other problems (binary, too large, a link) are reported by the file checks
            return self.result
        data = self._parse_toml(read.text)
        if data is None:
            return self.result
        self.result.manifest_data = data
        spans = key_spans(read.text, MANIFEST_FILE)
        manifest = read_manifest(data, spans, self.emit)
        pack = EnvPack(root=self.root, manifest=manifest, locations=spans)
        self.result.pack = pack
        if manifest.kind == "agentic":  # task folders instead of JSONL files (DESIGN §4.1)
            from app.envpack.agentic_tasks import load_agentic_tasks

            pack.agentic_tasks = load_agentic_tasks(self.source, self.emit)
            return self.result
        pack.tasks = self._load_tasks(manifest)
        self.multi_turn = manifest.kind == "multi-turn"
        pack.solutions = [
            r
            for r in self._load_references("solutions", manifest.solutions_path)
            if isinstance(r, Reference)
        ]
        pack.negatives = [
            n
            for n in self._load_references("negatives", manifest.negatives_path)
            if isinstance(n, Negative)
        ]
        return self.result

    def _parse_toml(self, text: str) -> dict[str, Any] | None:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            match = _TOML_POSITION.search(message)
            line = int(match.group(1)) if match else None
            column = int(match.group(2)) if match else None
            plain = (
                _TOML_POSITION.sub("", message)
                .replace("(at end of document)", "at the end of the file")
                .strip()
            )
            plain = _TOML_MESSAGES.get(plain, plain)
            ending = "" if plain.endswith((".", "?", "!")) else "."
            self.emit(
                rule("GX101").finding(
                    f"env.toml is not valid TOML: {plain}{ending}",
                    file=MANIFEST_FILE,
                    line=line,
                    column=column,
                )
            )
            return None
        except (ValueError, RecursionError) as exc:
            self.emit(
                rule("GX101").finding(f"env.toml is not valid TOML: {exc}", file=MANIFEST_FILE)
            )
            return None

    # -- JSONL files -------------------------------------------------------------------------

    def _jsonl(self, role: str, configured: str) -> list[JsonlLine] | None:
        """Parse the file for `role`; None when it cannot be read (a finding says why)."""
        key = f"{role}.path"
        span = self.result.manifest_span(key)
        rel = normalize_relpath(configured)
        if rel is None:
            self.emit(
                rule("GX124").finding(
                    f'{key} = "{configured}" points outside the package folder.', **span.where()
                )
            )
            self.result.files[role] = None
            return None
        self.result.files[role] = rel
        read = self.source.read_text(rel)
        if read.text is None:
            self._unreadable(role, rel, read, span)
            return None
        lines = parse_jsonl(read.text)
        self.result.records[rel] = lines
        for entry in lines:
            self._check_line(rel, entry)
        return lines

    def _unreadable(self, role: str, rel: str, read: ReadResult, span: Span) -> None:
        """Say why the file for `role` has no text (symlinks, binary, too large: the file
        checks report those)."""
        table_written = isinstance(self.result.manifest_data.get(role), dict)
        if read.problem == "missing" and role == "negatives" and not table_written:
            return  # negatives are optional; GX145 suggests adding them
        if read.problem in ("missing", "directory"):
            what = "is a folder, not a file" if read.problem == "directory" else "does not exist"
            self.emit(rule("GX120").finding(f'The {role} file "{rel}" {what}.', **span.where()))
        elif read.problem == "outside":
            self.emit(
                rule("GX124").finding(
                    f'The {role} file "{rel}" resolves outside the package folder.',
                    **span.where(),
                )
            )
        elif read.problem == "unreadable":
            self.emit(
                rule("GX120").finding(
                    f'The {role} file "{rel}" cannot be read: {read.detail}.',
                    "Check the file's permissions.",
                    **span.where(),
                )
            )

    def _check_line(self, rel: str, entry: JsonlLine) -> None:
        """A line must be a JSON object, each key written once."""
        if entry.error is not None:
            self.emit(
                rule("GX130").finding(
                    f"Line {entry.line} is not valid JSON: {entry.error}.",
                    file=rel,
                    line=entry.line,
                    column=entry.error_column,
                )
            )
        elif not isinstance(entry.value, dict):
            self.emit(
                rule("GX131").finding(
                    f"Line {entry.line} is {describe_type(entry.value)}, not a JSON object.",
                    file=rel,
                    line=entry.line,
                    column=1,
                )
            )
        else:
            for key in entry.repeated:
                self.emit(
                    rule("GX139").finding(
                        (
                            f'Line {entry.line} writes "{key}" more than once; '
                            "only the last value is used."
                        ),
                        **self._field_span(rel, entry, key),
                    )
                )

    def _field_span(self, rel: str, entry: JsonlLine, key: str) -> dict[str, Any]:
        columns = field_columns(entry.text).get(key)
        if columns:
            return Span(rel, entry.line, columns[0], entry.line, columns[1]).where()
        return Span(rel, entry.line, 1).where()

    def _text_field(
        self, rel: str, entry: JsonlLine, key: str, *, required: bool, what: str
    ) -> str | None:
        record = entry.value
        if key not in record:
            if required:
                typo = misspelt_key(record, key)
                self.emit(
                    rule("GX132").finding(
                        f'{what} on line {entry.line} has no "{key}".'
                        + (f' It has "{typo}": a misspelling?' if typo else ""),
                        **self._field_span(rel, entry, typo or key),
                    )
                )
            return None
        value = record[key]
        if isinstance(value, str):
            return value
        if key in ("id", "task_id") and isinstance(value, int) and not isinstance(value, bool):
            self.emit(
                rule("GX133").finding(
                    f'"{key}" on line {entry.line} must be text: write "{value}" in quotes.',
                    **self._field_span(rel, entry, key),
                )
            )
            return str(value)
        self.emit(
            rule("GX133").finding(
                f'"{key}" on line {entry.line} must be {expected("text")}, '
                f"not {describe_type(value)}.",
                **self._field_span(rel, entry, key),
            )
        )
        return None

    def _load_tasks(self, manifest: Manifest) -> list[Task]:
        rel_lines = self._jsonl("tasks", manifest.tasks_path)
        rel = self.result.files.get("tasks")
        tasks: list[Task] = []
        for entry in rel_lines or []:
            if not isinstance(entry.value, dict) or rel is None:
                continue
            task_id = self._text_field(rel, entry, "id", required=True, what="The task")
            prompt = self._text_field(rel, entry, "prompt", required=True, what="The task")
            if task_id is None:
                continue
            tasks.append(
                Task(
                    id=task_id,
                    prompt=prompt or "",
                    answer=entry.value.get("answer"),
                    record=entry.value,
                    line=entry.line,
                )
            )
        return tasks

    def _load_references(self, role: str, configured: str) -> list[Reference | Negative]:
        rel_lines = self._jsonl(role, configured)
        rel = self.result.files.get(role)
        what = "The reference" if role == "solutions" else "The negative"
        loaded: list[Reference | Negative] = []
        for entry in rel_lines or []:
            if not isinstance(entry.value, dict) or rel is None:
                continue
            for key in entry.value:
                if key not in REFERENCE_FIELDS:
                    self.emit(
                        rule("GX136").finding(
                            (
                                f"{what} on line {entry.line} has an unknown field "
                                f'"{key}".{did_you_mean(key, REFERENCE_FIELDS)}'
                            ),
                            **self._field_span(rel, entry, key),
                        )
                    )
            task_id = self._text_field(rel, entry, "task_id", required=True, what=what)
            turns = None
            if self.multi_turn:
                turns = self._turns(rel, entry, what)
                response = None if turns is None else encode_turns(turns)
            else:
                response = self._text_field(rel, entry, "response", required=True, what=what)
            note = entry.value.get("note")
            if note is not None and not isinstance(note, str):
                self.emit(
                    rule("GX133").finding(
                        f'"note" on line {entry.line} must be {expected("text")}, '
                        f"not {describe_type(note)}.",
                        **self._field_span(rel, entry, "note"),
                    )
                )
                note = None
            if task_id is None or response is None:
                continue
            if role == "solutions":
                loaded.append(
                    Reference(task_id=task_id, response=response, line=entry.line, turns=turns)
                )
            else:
                loaded.append(
                    Negative(
                        task_id=task_id,
                        response=response,
                        note=note or "",
                        line=entry.line,
                        turns=turns,
                    )
                )
        return loaded

    def _turns(self, rel: str, entry: JsonlLine, what: str) -> list[dict[str, Any]] | None:
        """A multi-turn trajectory's turns, canonical (app/envpack/trajectory.py); None, with
        a finding, when they cannot be replayed."""
        if "turns" not in entry.value:
            self.emit(
                rule("GX132").finding(
                    f'{what} on line {entry.line} has no "turns": a multi-turn package\'s '
                    'trajectories are written as "turns": [{"role": "assistant", ...}, ...].',
                    **self._field_span(
                        rel, entry, "response" if "response" in entry.value else "task_id"
                    ),
                )
            )
            return None
        turns, errors, notes = normalise_turns(entry.value["turns"])
        for problem in errors:
            self.emit(
                rule("GX107").finding(
                    f"{what} on line {entry.line}: {problem}.",
                    **self._field_span(rel, entry, "turns"),
                )
            )
        for note in notes:
            self.emit(
                rule("GX108").finding(
                    f"{what} on line {entry.line}: {note}.", **self._field_span(rel, entry, "turns")
                )
            )
        return None if errors else turns


def misspelt_key(record: dict[str, Any], wanted: str) -> str | None:
    """A key of `record` that looks like a misspelling of `wanted` ("promt" for "prompt")."""
    close = difflib.get_close_matches(
        wanted, [k for k in record if isinstance(k, str)], n=1, cutoff=0.75
    )
    return close[0] if close else None
