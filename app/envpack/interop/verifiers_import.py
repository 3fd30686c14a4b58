"""Import a Prime Intellect `verifiers` environment as an env pack.

These shapes map:
- an environment exported by Gauntlet Studio (`<module>/data/pack.json`): comes back whole;
- the common single-turn shape: a module defining `load_environment()`, a dataset stored in
  the folder with `question` and `answer` columns (a .jsonl/.json file, a literal
  `Dataset.from_list([...])` or a literal list of rows), and one reward function comparing the
  parsed completion with `answer` exactly (`==`) or numerically (`float(...)` with
  `abs(...)`/`isclose`): a match grader;
- several reward functions with weights (classic `vf.Rubric(funcs, weights)`), one that is not
  a plain comparison, or a current-API (`verifiers.v1`) task with `@vf.reward` methods: a
  rubric of code criteria keeping the reward code (verifiers_rubric_import.py).

The module is read, never run: importing someone's environment would execute their code. Any
other shape (a downloaded dataset, a judge, tools, multi-turn, third-party imports in the
rewards) stops with an error saying what was found and why it does not map.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

from app.envpack.interop.answers import as_number, is_number_text
from app.envpack.interop.pack_io import (
    ImportedPack,
    foreign_qa_manifest,
    read_grader_files,
    write_pack,
)
from app.envpack.interop.source_tree import SKIP_DIRS, refuse_symlinks
from app.envpack.interop.verifiers_export import EXPORT_FORMAT
from app.envpack.interop.verifiers_multiturn_import import has_toolset, import_tool_environment
from app.envpack.interop.verifiers_rubric_import import (
    check_weights,
    classic_rubric,
    current_records,
    grader_source,
    refuse_unsupported,
    reward_methods,
)
from app.envpack.provenance import mark_foreign
from app.envpack.staging import refuse_non_empty, staged_folder
from app.envpack.templates import slug
from app.errors import UserError
from app.python_ast import parse_python


def import_verifiers(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> ImportedPack:
    src = Path(src).expanduser()
    refuse_non_empty(Path(dest).expanduser())
    if not src.exists():
        raise UserError(
            f"{src} does not exist.", "Give the environment's folder or its .py module."
        )
    folder = src if src.is_dir() else src.parent
    refuse_symlinks(folder)
    if has_toolset(folder):  # tools and conversations: app/.../verifiers_multiturn_import.py
        return import_tool_environment(folder, Path(dest).expanduser())
    exported = _find_gauntlet_export(folder)
    imported = _from_gauntlet_export(exported) if exported else _from_common_shape(src, folder)
    with staged_folder(dest) as staging:
        write_pack(staging, imported)
    mark_foreign(dest)  # someone else's environment: the strict sandbox path
    return imported


# -- environments exported by Gauntlet Studio -----------------------------------------------


def _find_gauntlet_export(folder: Path) -> Path | None:
    for candidate in [folder / "data", *sorted(p / "data" for p in folder.iterdir() if p.is_dir())]:
        marker = candidate / "pack.json"
        if marker.is_file():
            try:
                if json.loads(marker.read_text(encoding="utf-8")).get("format") == EXPORT_FORMAT:
                    return candidate
            except (OSError, ValueError):
                continue
    return None


def _from_gauntlet_export(data: Path) -> ImportedPack:
    try:
        meta = json.loads((data / "pack.json").read_text(encoding="utf-8"))
        tasks = [
            json.loads(line)
            for line in (data / "tasks.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    except (OSError, ValueError) as exc:
        raise UserError(
            f"The exported environment in {data.parent} is damaged: {exc}.",
            "Export it again from Gauntlet Studio.",
            where=str(data),
        ) from exc
    manifest = meta["manifest"]
    extra = read_grader_files(data / "grader")
    if (data / "rubric.md").is_file():
        extra[manifest.get("grader", {}).get("rubric", "rubric.md")] = (
            data / "rubric.md"
        ).read_text(encoding="utf-8")
    return ImportedPack(
        manifest,
        meta.get("readme", ""),
        tasks,
        meta.get("solutions", []),
        meta.get("negatives", []),
        extra,
    )


# -- several rewards (or the current API): a rubric of code criteria --------------------------


def _rubric_rewards(tree: ast.Module, refuse) -> tuple[str, list[tuple[str, float]]] | None:
    """("current" or "classic", [(reward, weight)]) when the rewards become a rubric: the
    current API always, the classic one with several rewards (or one that is not a plain
    comparison with the answer); None for the single plain comparison (a match grader)."""
    _, methods = reward_methods(tree)
    if methods:
        return "current", methods
    functions = classic_rubric(tree, refuse)
    if len(functions) > 1:
        return "classic", functions
    if len(functions) == 1:
        if functions[0][1] != 1.0:  # a weighted single reward: not a plain match
            return "classic", functions
        try:
            _reward_mode(tree, refuse)
        except UserError:
            return "classic", functions
    return None


def _as_rubric(module: Path, folder: Path | None, tree, rows, rubric, refuse) -> ImportedPack:
    kind, rewards = rubric
    check_weights(rewards, refuse)
    text = module.read_text(encoding="utf-8")
    if kind == "current":
        tasks = current_records(tree, rows, refuse)
    else:
        tasks = [_classic_record(number, row, refuse) for number, row in enumerate(rows, 1)]
    grader = {
        "type": "rubric",
        "entry": "grader.py:" + f"criterion_{rewards[0][0]}",
        "combine": "weighted-mean",
        "reward_range": [0.0, 1.0],
        "pass_threshold": 1.0,
        "timeout_s": 10,
        "criteria": [
            {"name": name, "weight": weight, "function": f"criterion_{name}"}
            for name, weight in rewards
        ],
    }
    name = slug(folder.resolve().name if folder else module.stem)
    manifest = foreign_qa_manifest(
        name=f"imported/{name}",
        title=f"{module.stem} (imported from verifiers)",
        description=(
            f"{len(tasks)} task(s) imported from the verifiers environment {module.name}, "
            f"graded by its {len(rewards)} reward function(s) as rubric criteria."
        ),
        source="verifiers",
        grader=grader,
    )
    solutions = [{"task_id": t["id"], "response": t["answer"]} for t in tasks]
    source = grader_source(tree, text, module.name, kind, rewards, refuse)
    readme = _rubric_readme(module, rewards)
    return ImportedPack(manifest, readme, tasks, solutions, [], {"grader.py": source})


def _classic_record(number: int, row: dict[str, Any], refuse) -> dict[str, Any]:
    question, answer = row.get("question"), row.get("answer", "")
    if not isinstance(question, str) or not question.strip():
        raise refuse(f"row {number} of the dataset has no text `question`", "Fix the dataset.")
    record = {"id": str(row.get("id") or f"task-{number}"), "prompt": question}
    record["answer"] = answer if isinstance(answer, str) else json.dumps(answer)
    if isinstance(row.get("info"), dict):
        record["info"] = row["info"]
    return record


def _rubric_readme(module: Path, rewards: list[tuple[str, float]]) -> str:
    total = sum(weight for _, weight in rewards)
    lines = "\n".join(f"- `{name}` (weight {weight:g})" for name, weight in rewards)
    return (
        f"# {module.stem}\n\nImported from the verifiers environment `{module}` by Gauntlet "
        "Studio.\n\nEach reward function is a rubric criterion (grader.py keeps its code), "
        f"combined by weighted mean:\n\n{lines}\n\n"
        f"verifiers adds the weighted rewards up; the weighted mean is that sum divided by the "
        f"total weight ({total:g}). Before submitting: set the license in env.toml, check that "
        "the references (the dataset's answers) score full marks under every criterion (a "
        "format criterion may need them rewritten), and add negatives (known-wrong answers).\n"
    )


# -- the common single-turn shape -----------------------------------------------------------


def _from_common_shape(src: Path, folder: Path) -> ImportedPack:
    module = _find_module(src, folder)

    def refuse(why: str, hint: str) -> UserError:
        return UserError(f"{module.name} cannot be converted: {why}.", hint, where=str(module))

    try:
        tree = parse_python(module.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise refuse(
            f"it cannot be read as Python ({exc})", "Fix the module so it parses."
        ) from exc
    if not any(isinstance(n, ast.FunctionDef) and n.name == "load_environment" for n in tree.body):
        raise refuse(
            "it defines no load_environment() function, so it is not a verifiers environment",
            "Give the module verifiers uses to load the environment (with load_environment()).",
        )
    refuse_unsupported(tree, refuse)
    rows = _dataset_rows(tree, folder, refuse)
    rubric = _rubric_rewards(tree, refuse)
    if rubric is not None:
        return _as_rubric(module, folder if src.is_dir() else None, tree, rows, rubric, refuse)
    mode = _reward_mode(tree, refuse)
    tasks = [_task_of(number, row, mode, refuse) for number, row in enumerate(rows, 1)]
    solutions = [{"task_id": task["id"], "response": _as_text(task["answer"])} for task in tasks]
    name = slug(folder.resolve().name if src.is_dir() else module.stem)
    grader: dict[str, Any] = {"type": "match", "mode": mode, "normalize": ["whitespace"]}
    if mode == "numeric":
        grader["tolerance"] = 1e-6
    grader.update({"reward_range": [0.0, 1.0], "pass_threshold": 1.0, "timeout_s": 10})
    manifest = foreign_qa_manifest(
        name=f"imported/{name}",
        title=f"{module.stem} (imported from verifiers)",
        description=(
            f"{len(tasks)} question-answer task(s) "
            f"imported from the verifiers environment {module.name}."
        ),
        source="verifiers",
        grader=grader,
    )
    return ImportedPack(manifest, _common_shape_readme(module, mode), tasks, solutions, [])


def _task_of(number: int, row: dict[str, Any], mode: str, refuse) -> dict[str, Any]:
    """Row `number` of the dataset as a task: its question the prompt, its answer the answer
    (a number for the numeric grader, text otherwise)."""
    question, answer = row.get("question"), row.get("answer")
    if (
        not isinstance(question, str)
        or not question.strip()
        or type(answer) not in (str, int, float)
    ):
        raise refuse(
            f"row {number} of the dataset needs a text `question` and a text or number `answer`",
            "Only question/answer datasets convert.",
        )
    if mode == "numeric":
        if not is_number_text(answer):
            raise refuse(
                f"row {number}: the reward is numeric but the answer {answer!r:.40} "
                "is not a number",
                "Fix the answer column.",
            )
        answer = as_number(answer)
    else:
        answer = _as_text(answer)
    return {"id": str(row.get("id") or f"task-{number}"), "prompt": question, "answer": answer}


def _as_text(answer: str | int | float) -> str:
    return answer if isinstance(answer, str) else json.dumps(answer)


def _common_shape_readme(module: Path, mode: str) -> str:
    return (
        f"# {module.stem}\n\nImported from the verifiers "
        f"environment `{module}` by Gauntlet Studio.\n\n"
        f"Questions became prompts and answers the expected answers, graded by {mode} match "
        "(the original reward compared the completion with the answer the same way). Before "
        "submitting: set the license in env.toml, check any system prompt the original used is "
        "reflected in the prompts, and add negatives (known-wrong answers).\n"
    )


def _find_module(src: Path, folder: Path) -> Path:
    if src.is_file():
        return src
    candidates = [
        p
        for p in sorted(folder.rglob("*.py"))
        if not SKIP_DIRS.intersection(p.relative_to(folder).parts)
        and "def load_environment" in p.read_text(encoding="utf-8", errors="replace")
    ]
    if len(candidates) != 1:
        raise UserError(
            f"{folder} has {len(candidates) or 'no'} module(s) defining load_environment().",
            "Give the environment's module file itself (e.g. my_env.py).",
        )
    return candidates[0]


def _dataset_rows(tree: ast.Module, folder: Path, refuse) -> list[dict[str, Any]]:
    for node in ast.walk(tree):  # a literal Dataset.from_list([...]) / from_dict({...})
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            try:
                value = ast.literal_eval(node.args[0])
            except ValueError:
                continue
            if node.func.attr == "from_list" and isinstance(value, list) and value:
                return value
            if node.func.attr == "from_dict" and isinstance(value, dict) and value.get("question"):
                columns = {k: v for k, v in value.items() if isinstance(v, list)}
                length = len(columns.get("question", []))
                return [{k: v[i] for k, v in columns.items() if i < len(v)} for i in range(length)]
    for node in tree.body:  # a literal list of rows in the module (ROWS = [{...}, ...])
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List) and node.value.elts:
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if all(isinstance(row, dict) for row in value):
                return value
    files = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.endswith((".jsonl", ".json"))
    ]
    for name in files:
        path = (folder / name).resolve()
        if path.is_file() and path.is_relative_to(folder.resolve()):
            return _read_rows(path, refuse)
    raise refuse(
        "its dataset is not stored in the folder (it is downloaded or built by code)",
        "Save the dataset as a .jsonl file with question/answer columns next to the module and "
        "load it from there, or convert it by hand.",
    )


def _read_rows(path: Path, refuse) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            rows = json.loads(text)
    except ValueError as exc:
        raise refuse(f"{path.name} is not valid JSON ({exc})", "Fix the data file.") from exc
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise refuse(
            f"{path.name} is not a list of rows", "Store one {question, answer} object per row."
        )
    return rows


def _reward_mode(tree: ast.Module, refuse) -> str:
    rewards = [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and {"completion", "answer"} <= {a.arg for a in node.args.args + node.args.kwonlyargs}
    ]
    if len(rewards) != 1:
        raise refuse(
            (
                f"it has {len(rewards) or 'no'} reward function(s) "
                "taking completion and answer; exactly one simple one converts"
            ),
            "Environments with several rewards, judges or tools stay verifiers environments.",
        )
    function = rewards[0]
    names = {
        n.func.id
        for n in ast.walk(function)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    attributes = {
        n.func.attr
        for n in ast.walk(function)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    if "float" in names and ("abs" in names or "isclose" in attributes | names):
        return "numeric"
    for node in ast.walk(function):
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq) for op in node.ops):
            sides = [node.left, *node.comparators]
            if any(_mentions_answer(side) for side in sides):
                return "exact"
    raise refuse(
        (
            f"its reward function {function.name}() "
            "is not a plain exact (==) or numeric comparison with the answer"
        ),
        "Convert it by hand: write a python grader (grader.py) that does what the reward does.",
    )


def _mentions_answer(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "answer" for n in ast.walk(node))
