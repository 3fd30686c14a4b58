"""Import a Harbor / Terminal-Bench task set (or one task folder) as an env pack.

Two cases map:
- a set exported by Gauntlet Studio (each task carries `tests/gauntlet/pack.json`): the
  package comes back whole, with its grader, references and negatives;
- plain question-answer tasks from elsewhere, where the expected answer is a plain value:
  either `solution/solve.sh` only writes a literal to a file (`echo 42 > /app/answer.txt`,
  `printf`, a `cat <<EOF` block) or a Python file in `tests/` states it as a module-level
  constant (`EXPECTED = "..."`). The instruction becomes the prompt, the literal the answer.

Anything else (tasks graded by running a test suite against the container, several answers,
computed answers) cannot become a Gauntlet task without guessing, so the import stops with an
error naming the task and the reason; it never writes half a package.
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
import os
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.envpack.interop.answers import as_number, is_number_text
from app.envpack.interop.harbor_agentic_import import AgenticImport, read_agentic, write_agentic
from app.envpack.interop.harbor_export import EXPORT_FORMAT
from app.envpack.interop.pack_io import (
    ImportedPack,
    foreign_qa_manifest,
    read_grader_files,
    write_pack,
)
from app.envpack.interop.source_tree import SKIP_DIRS, refuse_symlinks
from app.envpack.provenance import mark_foreign
from app.envpack.staging import refuse_non_empty, staged_folder
from app.envpack.templates import slug
from app.errors import UserError
from app.python_ast import parse_python

IMPORT_KINDS = ("auto", "qa", "agentic")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_EXPECTED_NAMES = {
    "EXPECTED",
    "EXPECTED_ANSWER",
    "EXPECTED_OUTPUT",
    "ANSWER",
    "expected",
    "expected_answer",
    "answer",
}
_HARMLESS = re.compile(r"^(?:#.*|set\s+-[a-z]+(?:\s+-?o?\s*pipefail)?|mkdir\s+-p\s+\S+|cd\s+\S+|)$")
_HEREDOC_FIRST = re.compile(r"cat\s*>\s*\S+\s*<<-?\s*(['\"]?)(?P<end>\w+)\1")
_HEREDOC_LAST = re.compile(r"cat\s*<<-?\s*(['\"]?)(?P<end>\w+)\1\s*>\s*\S+")
_OUR_SOLVE = re.compile(r"base64\.b64decode\(sys\.argv\[1\]\)\)' ([A-Za-z0-9+/=]*) > (\S+)")


def import_harbor(
    src: str | os.PathLike[str], dest: str | os.PathLike[str], *, kind: str = "auto"
) -> ImportedPack | AgenticImport:
    """`kind`: "qa" converts question-answer tasks only; "agentic" keeps every task folder as it
    is (an agentic package); "auto" takes "qa" when every task converts, "agentic" otherwise.
    A set exported by Gauntlet Studio always comes back as the package it was."""
    if kind not in IMPORT_KINDS:
        raise UserError(f"Unknown import kind {kind!r}.", f"Use one of: {', '.join(IMPORT_KINDS)}.")
    src = Path(src).expanduser()
    refuse_non_empty(Path(dest).expanduser())
    folders = find_task_folders(src)
    # environment/ is never read here (only a container build would use it).
    refuse_symlinks(src, skip_dirs=SKIP_DIRS | {"environment"})
    ours = [f for f in folders if (f / "tests" / "gauntlet" / "pack.json").is_file()]
    if ours and len(ours) != len(folders):
        odd = next(f for f in folders if f not in ours)
        raise UserError(
            f'Task "{odd.name}" was not exported by Gauntlet Studio, but others in {src} were.',
            "Import the Gauntlet-exported tasks and the other tasks from separate folders.",
            where=str(odd),
        )
    if ours:
        imported = _from_gauntlet_export(src, ours)
    elif kind == "agentic":
        return _import_agentic(src, dest, folders)
    else:
        try:
            imported = _from_plain_tasks(src, folders)
        except UserError as not_qa:
            if kind == "qa":
                raise
            return _import_agentic_instead(src, dest, folders, not_qa)
    with staged_folder(dest) as staging:
        write_pack(staging, imported)
    mark_foreign(dest)  # someone else's tasks: the strict sandbox path
    return imported


def _import_agentic_instead(
    src: Path, dest: str | os.PathLike[str], folders: list[Path], not_qa: UserError
) -> AgenticImport:
    """auto: the tasks are not question-answer tasks, so they come in as agentic tasks; when
    that fails too, the error says why neither works."""
    try:
        return _import_agentic(src, dest, folders)
    except UserError as exc:
        exc.hint = f"{exc.hint} (As a question-answer task it does not convert either: " + (
            f"{not_qa.message})"
        )
        raise


def _import_agentic(src: Path, dest: str | os.PathLike[str], folders: list[Path]) -> AgenticImport:
    owner, name = _package_name(src, folders)
    imported = read_agentic(src, folders, f"{owner}/{name}")
    with staged_folder(dest) as staging:
        write_agentic(staging, folders, imported)
    mark_foreign(dest)
    return imported


def find_task_folders(src: Path) -> list[Path]:
    if not src.is_dir():
        raise UserError(
            f"{src} is not a folder.",
            "Give the Harbor task folder, or the folder holding task folders.",
        )
    if (src / "task.toml").is_file():
        return [src]
    folders = sorted(p for p in src.iterdir() if p.is_dir() and (p / "task.toml").is_file())
    if not folders and ((src / "task.yaml").is_file() or any(src.glob("*/task.yaml"))):
        raise UserError(
            f"{src} holds tasks in the older Terminal-Bench layout (task.yaml), not Harbor's.",
            "Convert them to the Harbor layout first (Harbor's terminal-bench adapter does this), "
            "then import the result.",
        )
    if not folders:
        raise UserError(
            f"No Harbor tasks in {src}: neither it nor any folder in it has a task.toml.",
            (
                "A Harbor task is a folder with task.toml, "
                "instruction.md, solution/solve.sh and tests/test.sh."
            ),
        )
    return folders


# -- sets exported by Gauntlet Studio ---------------------------------------------------------


def _from_gauntlet_export(src: Path, folders: list[Path]) -> ImportedPack:
    entries = []
    for folder in folders:
        meta = _read_json(folder / "tests" / "gauntlet" / "pack.json", folder)
        if meta.get("format") != EXPORT_FORMAT:
            raise UserError(
                (
                    f'Task "{folder.name}" was exported in format '
                    f"{meta.get('format')!r}, which this version cannot read."
                ),
                "Export it again with this version of Gauntlet Studio.",
                where=str(folder),
            )
        record = _read_json(folder / "tests" / "gauntlet" / "task.json", folder)
        entries.append((meta, record, folder))
    names = {meta["manifest"].get("package", {}).get("name") for meta, _, _ in entries}
    if len(names) != 1:
        raise UserError(
            (
                f"The tasks in {src} come from {len(names)} different "
                f"packages ({', '.join(sorted(map(str, names)))})."
            ),
            "Import each package's tasks from its own folder.",
        )
    entries.sort(key=lambda e: e[0].get("task_index", 0))
    manifest = entries[0][0]["manifest"]
    tasks, solutions, negatives = [], [], []
    extra: dict[str, str] = {}
    for meta, record, folder in entries:
        tasks.append(record)
        task_id = record.get("id")
        solutions += [{"task_id": task_id, "response": r} for r in meta.get("references", [])]
        for negative in meta.get("negatives", []):
            line = {"task_id": task_id, "response": negative["response"]}
            if negative.get("note"):
                line["note"] = negative["note"]
            negatives.append(line)
        extra.update(read_grader_files(folder / "tests" / "grader"))
    return ImportedPack(
        manifest, entries[0][0].get("readme", ""), tasks, solutions, negatives, extra
    )


def _read_json(path: Path, folder: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f'Task "{folder.name}": {path.name} cannot be read ({exc}).',
            "The exported task looks damaged; export it again.",
            where=str(path),
        ) from exc


# -- plain question-answer tasks ---------------------------------------------------------------


@dataclass(slots=True)
class _PlainTask:
    id: str
    prompt: str
    answer: str | float | int
    reference: str


def _from_plain_tasks(src: Path, folders: list[Path]) -> ImportedPack:
    plain = [_plain_task(folder) for folder in folders]
    ids = [t.id for t in plain]
    if len(set(ids)) != len(ids):
        raise UserError(
            "Two task folders give the same task id after cleaning their names.",
            "Rename one of them.",
        )
    numeric = all(is_number_text(t.answer) for t in plain)
    tasks = []
    for t in plain:
        answer: Any = as_number(t.answer) if numeric else _as_text(t.answer)
        tasks.append({"id": t.id, "prompt": t.prompt, "answer": answer})
    grader = {
        "type": "match",
        "mode": "numeric" if numeric else "exact",
        "normalize": ["whitespace"],
    }
    if numeric:
        grader["tolerance"] = 1e-6
    grader.update({"reward_range": [0.0, 1.0], "pass_threshold": 1.0, "timeout_s": 10})
    owner, name = _package_name(src, folders)
    manifest = foreign_qa_manifest(
        name=f"{owner}/{name}",
        title=f"{src.name} (imported from Harbor)",
        description=(
            f"{len(tasks)} question-answer task(s) imported from the Harbor task set {src.name}."
        ),
        source="harbor",
        grader=grader,
    )
    readme = (
        f"# {src.name}\n\nImported from the Harbor task set `{src}` by Gauntlet Studio.\n\n"
        "Each task's instruction became its prompt and "
        "the answer its reference solution wrote became\n"
        f"the expected answer, graded by {grader['mode']} match. "
        "Before submitting: set the license in\n"
        "env.toml, remove any line of the prompts that "
        "tells the agent to write to a file, and add\n"
        "negatives (known-wrong answers) to negatives.jsonl.\n"
    )
    solutions = [{"task_id": t.id, "response": t.reference} for t in plain]
    return ImportedPack(manifest, readme, tasks, solutions, [])


def _package_name(src: Path, folders: list[Path]) -> tuple[str, str]:
    try:
        data = tomllib.loads((folders[0] / "task.toml").read_text(encoding="utf-8"))
        org = str(data.get("task", {}).get("name", "")).partition("/")[0]
    except (OSError, ValueError):
        org = ""
    return (slug(org) if org else "imported"), slug(src.resolve().name)


def _plain_task(folder: Path) -> _PlainTask:
    def refuse(why: str, hint: str) -> UserError:
        return UserError(
            f'Task "{folder.name}" cannot be converted: {why}.', hint, where=str(folder)
        )

    instruction = folder / "instruction.md"
    if not instruction.is_file():
        raise refuse(
            "it has no instruction.md (older Terminal-Bench tasks keep it in task.yaml)",
            "Convert it to the Harbor layout first (`harbor` has an adapter for that).",
        )
    prompt = instruction.read_text(encoding="utf-8").strip()
    if not prompt:
        raise refuse("its instruction.md is empty", "Write the task's question in instruction.md.")
    written = _literal_from_solution(folder / "solution" / "solve.sh")
    stated = _literal_from_tests(folder / "tests")
    if written is None and stated is None:
        raise refuse(
            "its expected answer is not a plain value "
            "(solve.sh does more than write a literal, and no "
            "test file states EXPECTED = ...)",
            "Only question-answer tasks convert; "
            "tasks graded by running tests inside the container "
            "stay Harbor tasks.",
        )
    answer = stated if stated is not None else written
    reference = written if written is not None else _as_text(answer)
    task_id = _ID_UNSAFE.sub("-", folder.name).strip("-.")[:64] or "task"
    return _PlainTask(task_id, prompt, answer, reference)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _literal_from_solution(solve: Path) -> str | None:
    """The text solve.sh writes, when all it does is write one literal to one file."""
    if not solve.is_file():
        return None
    text = solve.read_text(encoding="utf-8", errors="replace")
    ours = _OUR_SOLVE.search(text)
    if ours:
        try:
            return base64.b64decode(ours.group(1), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    lines = text.splitlines()
    if lines and lines[0].startswith("#!"):
        lines = lines[1:]
    found: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        heredoc = _HEREDOC_FIRST.fullmatch(line) or _HEREDOC_LAST.fullmatch(line)
        if heredoc:
            delimiter = heredoc.group("end")
            body = []
            while index < len(lines) and lines[index].strip() != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            found.append("\n".join(body))
            continue
        if _HARMLESS.match(line):
            continue
        literal = _echo_literal(line)
        if literal is None:
            return None  # the solution computes something: not a plain answer
        found.append(literal)
    return found[0] if len(found) == 1 else None


def _echo_literal(line: str) -> str | None:
    """The text of `echo TEXT > FILE` or `printf ... > FILE`; None for any other command."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return None
    if words and words[-1].startswith(">") and words[-1] not in (">", ">>"):
        words = words[:-1] + [">", words[-1].lstrip(">")]
    if len(words) < 4 or words[-2] not in (">", ">>"):
        return None
    command, args = words[0], words[1:-2]
    if command == "echo":
        if args and args[0] in ("-n", "-e", "-ne", "-en"):
            args = args[1:]
        return " ".join(args) if args else None
    if command == "printf" and args:
        fmt, rest = args[0], args[1:]
        if fmt in ("%s", "%s\\n") and len(rest) == 1:
            return rest[0]
        if not rest and "%" not in fmt:
            return fmt.replace("\\n", "\n").rstrip("\n")
    return None


def _literal_from_tests(tests: Path) -> str | int | float | None:
    """A module-level EXPECTED = <literal> in the test files, when exactly one is stated."""
    if not tests.is_dir():
        return None
    values = []
    for path in sorted(tests.glob("*.py")):
        try:
            tree = parse_python(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in _EXPECTED_NAMES:
                try:
                    literal = ast.literal_eval(value)
                except ValueError:
                    continue
                if type(literal) in (str, int, float):
                    values.append(literal)
    return values[0] if len(values) == 1 else None
