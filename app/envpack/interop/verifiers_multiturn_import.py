"""Import a verifiers 0.4 environment with tools as a multi-turn package (read, never run).

An environment Gauntlet Studio exported (verifiers_multiturn.py) comes back whole from its
data/ folder. For any other, the shape that maps is what `vf-init -T` scaffolds and a
verifiers user fills in:
- one `vf.Toolset` subclass whose `@vf.tool` methods do not use `self` (module variables hold
  per-rollout state: verifiers starts one tool server per rollout, Gauntlet one module per
  episode) -> tools.py: the toolset's module with each tool a plain function, named as the model
  sees it (`<TOOL_PREFIX>_<name>`, or bare with TOOL_PREFIX = None);
- one `vf.Task` subclass whose `@vf.reward` methods read only `self.data.<field>` and the trace
  (`trace.messages`, `last_reply`, `assistant_messages`, `tool_messages`), with weights summing
  to 1 -> a rubric of code criteria, one per reward, weighted as verifiers weights them (verifiers
  sums weight x score; Gauntlet's weighted mean equals it when the weights sum to 1); grader.py
  holds each method as written and small stand-ins for `self.data` and the trace;
- the rows of a .jsonl/.json file in the folder (the row fields are the TaskData fields)
  -> tasks.jsonl, with no scripted user (`"user": []`) and `max_turns` = 10.
Anything else (a tool using self, an async tool, a reward needing the runtime or verifiers'
classes, a judge, an Env with its own control flow, weights not summing to 1, a dataset built by
code) stops with an error naming the construct and what to change. References are not invented:
the package comes with none, and `gauntlet check` says to add them.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path
from typing import Any

from app.envpack.interop.pack_io import ImportedPack, write_pack
from app.envpack.interop.source_tree import SKIP_DIRS
from app.envpack.provenance import mark_foreign
from app.envpack.staging import staged_folder
from app.envpack.templates import slug
from app.errors import UserError
from app.python_ast import parse_python

MAX_TURNS = 10
OWN_FORMAT = "gauntlet-verifiers-multiturn/1"  # verifiers_multiturn.EXPORT_FORMAT
GRADER_HEADER = Path(__file__).parent / "assets" / "verifiers_import_trace.py"


def has_toolset(folder: Path) -> bool:
    """Whether a module under `folder` defines a `vf.Toolset` subclass."""
    return any(_classes(tree, "Toolset") for _path, tree in _modules(folder))


def import_tool_environment(folder: Path, dest: Path) -> ImportedPack:
    exported = _own_export(folder)
    imported = _from_own_export(exported) if exported else _from_foreign(folder)
    with staged_folder(dest) as staging:
        write_pack(staging, imported)
    mark_foreign(dest)
    return imported


def _own_export(folder: Path) -> Path | None:
    """The data/ folder of a multi-turn environment Gauntlet Studio exported, if it is one."""
    for marker in sorted(folder.glob("*/data/pack.json")) + sorted(folder.glob("data/pack.json")):
        try:
            if json.loads(marker.read_text(encoding="utf-8")).get("format") == OWN_FORMAT:
                return marker.parent
        except (OSError, ValueError):
            continue
    return None


def _from_own_export(data: Path) -> ImportedPack:
    """The package back as it was exported: manifest, README, tasks, conversations, files."""
    try:
        meta = json.loads((data / "pack.json").read_text(encoding="utf-8"))
        lines = (data / "tasks.jsonl").read_text(encoding="utf-8").splitlines()
        tasks = [json.loads(line) for line in lines if line.strip()]
        solutions = [
            {"task_id": r["task_id"], "turns": json.loads(r["response"])["turns"]}
            for r in meta["solutions"]
        ]
        negatives = [
            {"task_id": n["task_id"], "turns": json.loads(n["response"])["turns"]}
            | ({"note": n["note"]} if n.get("note") else {})
            for n in meta["negatives"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"The exported environment in {data.parent} is damaged: {exc}.",
            "Export it again from Gauntlet Studio.",
            where=str(data),
        ) from exc
    files = {
        p.relative_to(data / "pack").as_posix(): p.read_text(encoding="utf-8")
        for p in sorted((data / "pack").rglob("*.py"))
    }
    return ImportedPack(
        meta["manifest"], meta.get("readme", ""), tasks, solutions, negatives, files
    )


def _from_foreign(folder: Path) -> ImportedPack:
    modules = _modules(folder)
    toolset_path, toolset = _one(modules, "Toolset", folder)
    task_path, task_class = _one(modules, "Task", folder)
    _refuse_env(modules, folder)
    own = {p.parent.name for p in folder.rglob("__init__.py")}  # the environment's packages
    tools = _tools_source(toolset_path, toolset, own)
    rewards = _rewards(task_path, task_class)
    rows = _rows(modules, folder)
    tasks = [_task(number, row, task_path) for number, row in enumerate(rows, 1)]
    name = slug(folder.resolve().name)
    criteria = [{"name": r["name"], "weight": r["weight"], "function": r["name"]} for r in rewards]
    manifest = {
        "schema": "gauntlet/1",
        "kind": "multi-turn",
        "package": {
            "name": f"imported/{name}",
            "version": "0.1.0",
            "title": f"{folder.name} (imported from verifiers)",
            "description": f"{len(tasks)} conversation(s) with tools imported from {folder.name}.",
            "authors": [],
            "license": "NOASSERTION",
            "tags": ["imported", "verifiers", "tool-use"],
        },
        "tasks": {"path": "tasks.jsonl"},
        "grader": {
            "type": "rubric",
            "combine": "weighted-mean",
            "entry": f"grader.py:{rewards[0]['name']}",
            "reward_range": [0.0, 1.0],
            "pass_threshold": 1.0,
            "timeout_s": 10,
            "criteria": criteria,
        },
        "solutions": {"path": "solutions.jsonl"},
        "negatives": {"path": "negatives.jsonl"},
        "sandbox": {"network": "none"},
    }
    files = {"tools.py": tools, "grader.py": _grader_source(task_path, rewards, own)}
    return ImportedPack(manifest, _readme(folder, toolset_path, task_path), tasks, [], [], files)


# -- reading -------------------------------------------------------------------------------


def _modules(folder: Path) -> list[tuple[Path, ast.Module]]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        if SKIP_DIRS.intersection(path.relative_to(folder).parts):
            continue
        try:
            found.append((path, parse_python(path.read_text(encoding="utf-8"))))
        except (OSError, SyntaxError, ValueError):
            continue  # a module that does not parse is not one we map
    return found


def _base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        target = base.value if isinstance(base, ast.Subscript) else base
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _classes(tree: ast.Module, base: str) -> list[ast.ClassDef]:
    return [n for n in tree.body if isinstance(n, ast.ClassDef) and base in _base_names(n)]


def _one(modules, base: str, folder: Path) -> tuple[Path, ast.ClassDef]:
    found = [(path, cls) for path, tree in modules for cls in _classes(tree, base)]
    if len(found) != 1:
        where = ", ".join(f"{c.name} ({p.relative_to(folder)})" for p, c in found) or "none"
        raise UserError(
            f"{folder} has {len(found)} vf.{base} subclasses ({where}); the import maps one.",
            f"Import an environment with one {base} class, or split the environment first.",
            where=str(folder),
        )
    return found[0]


def _refuse_env(modules, folder: Path) -> None:
    for path, tree in modules:
        for cls in _classes(tree, "Env"):
            raise UserError(
                f"{path.relative_to(folder)} defines the env {cls.name}, whose run() is its own "
                "control flow (a user simulator, several agents): Gauntlet cannot read it.",
                'Remove the Env and write a scripted user into the tasks ("user": [...]) '
                "after importing, or convert the environment by hand.",
                where=str(path),
            )


def _decorator(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> ast.expr | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        attr = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if attr == name:
            return decorator
    return None


def _keyword(decorator: ast.expr, key: str, default: Any) -> Any:
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == key:
                return ast.literal_eval(keyword.value)
    return default


def _uses_name(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _tool_prefix(toolset: ast.ClassDef) -> str | None:
    for statement in toolset.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "TOOL_PREFIX" for t in statement.targets
        ):
            value = ast.literal_eval(statement.value)
            return value if value is None else str(value)
    return ""


def _server_name(toolset: ast.ClassDef) -> str:
    """The prefix verifiers puts before each tool's name (ServerBase.server_name)."""
    prefix = _tool_prefix(toolset)
    if prefix is None:
        return ""
    return prefix or "".join(f"_{c.lower()}" if c.isupper() else c for c in toolset.name).lstrip(
        "_"
    )


def _tools_source(path: Path, toolset: ast.ClassDef, own: set[str]) -> str:
    """tools.py: the toolset's module, its verifiers parts removed, the tools as functions."""
    tree = parse_python(path.read_text(encoding="utf-8"))
    server = _server_name(toolset)
    functions = []
    for method in toolset.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        decorator = _decorator(method, "tool")
        if decorator is None:
            continue
        where = f"{path.name}: tool {method.name}"
        if isinstance(method, ast.AsyncFunctionDef):
            raise _refused(
                where, "is async", "Make it a plain def (Gauntlet calls tools directly)."
            )
        if _uses_name(ast.Module(body=method.body, type_ignores=[]), "self"):
            raise _refused(
                where,
                "uses self (the server's config or state)",
                "Keep per-rollout state in module variables and config in constants; each "
                "conversation gets a fresh copy of the module.",
            )
        name = _keyword(decorator, "name", None) or method.name
        method.name = f"{server}_{name}" if server else name
        method.decorator_list = []
        method.args.args = method.args.args[1:]  # self
        functions.append(method)
    if not functions:
        raise _refused(f"{path.name}: {toolset.name}", "has no @vf.tool method", "Add the tools.")
    body = [n for n in tree.body if not _verifiers_part(n, toolset.name, own)]
    doc = f'"""Tools of {toolset.name}, imported from verifiers by Gauntlet Studio."""'
    return doc + "\n\n" + ast.unparse(ast.Module(body=[*body, *functions], type_ignores=[])) + "\n"


def _verifiers_part(node: ast.stmt, toolset: str, own: set[str]) -> bool:
    """Whether a statement of the environment's module is verifiers' machinery (imports of
    verifiers or of the environment's own modules, its verifiers classes, the __main__ block)."""
    dropped = {"verifiers", *own}
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] in dropped for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in dropped
    if isinstance(node, ast.ClassDef):
        return node.name == toolset or bool(_base_names(node) & VERIFIERS_BASES)
    if isinstance(node, ast.If):  # if __name__ == "__main__": Toolset.run()
        return _uses_name(node.test, "__name__")
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)  # docstring


VERIFIERS_BASES = frozenset(
    {"Toolset", "Task", "TaskData", "Taskset", "TaskConfig", "TasksetConfig", "Env", "EnvConfig"}
)


def _rewards(path: Path, task_class: ast.ClassDef) -> list[dict[str, Any]]:
    rewards = []
    for method in task_class.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        decorator = _decorator(method, "reward")
        if decorator is None:
            continue
        where = f"{path.name}: reward {method.name}"
        params = [a.arg for a in method.args.args]
        if params[:1] != ["self"] or not set(params[1:]) <= {"trace", "task"}:
            raise _refused(
                where,
                f"takes ({', '.join(params)})",
                "Read only the trace and self.data: the runtime is not there offline.",
            )
        body = ast.Module(body=method.body, type_ignores=[])
        if _uses_name(body, "vf") or _uses_name(body, "runtime"):
            raise _refused(
                where,
                "uses verifiers' own classes or the runtime",
                "Compare message.role and the texts instead of isinstance(..., vf.Message).",
            )
        method.decorator_list, method.returns = [], None  # `trace: vf.Trace` means nothing here
        for argument in method.args.args:
            argument.annotation = None
        rewards.append(
            {
                "name": method.name,
                "weight": float(_keyword(decorator, "weight", 1.0)),
                "node": method,
            }
        )
    if not rewards:
        raise _refused(f"{path.name}: {task_class.name}", "has no @vf.reward", "Add a reward.")
    total = sum(r["weight"] for r in rewards)
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise _refused(
            f"{path.name}: {task_class.name}",
            f"weights its rewards {total:g} in all (verifiers adds weight x score; Gauntlet's "
            "rubric averages by weight, equal only when the weights sum to 1)",
            "Scale the @vf.reward weights to sum to 1, then import again.",
        )
    return rewards


def _grader_source(task_path: Path, rewards: list[dict[str, Any]], own: set[str]) -> str:
    tree = parse_python(task_path.read_text(encoding="utf-8"))
    helpers = [n for n in tree.body if not _verifiers_part(n, "", own)]
    methods = [r["node"] for r in rewards]
    for method in methods:
        method.name = f"_vf_{method.name}"
    criteria = "\n\n".join(
        f"def {r['name']}(task, trajectory):\n"
        f'    """verifiers reward {r["name"]} (weight {r["weight"]:g})."""\n'
        f"    return call_reward(_vf_{r['name']}, task, trajectory)\n"
        for r in rewards
    )
    return (
        GRADER_HEADER.read_text(encoding="utf-8")
        + "\n\n"
        + ast.unparse(ast.Module(body=[*helpers, *methods], type_ignores=[]))
        + "\n\n\n"
        + criteria
    )


def _rows(modules, folder: Path) -> list[dict[str, Any]]:
    names = {
        node.value
        for _path, tree in modules
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.endswith((".jsonl", ".json"))
    }
    files = [p for p in sorted(folder.rglob("*")) if p.name in names and p.is_file()]
    if len(files) != 1:
        raise UserError(
            f"{folder}: the dataset is not one .jsonl/.json file in the folder "
            f"(found {len(files)}).",
            "Store the rows (prompt and the TaskData fields) as a .jsonl file in the package "
            "and read it in load().",
            where=str(folder),
        )
    text = files[0].read_text(encoding="utf-8")
    try:
        rows = (
            [json.loads(line) for line in text.splitlines() if line.strip()]
            if files[0].suffix == ".jsonl"
            else json.loads(text)
        )
    except ValueError as exc:
        raise UserError(f"{files[0]} is not valid JSON: {exc}.", "Fix the data file.") from exc
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise UserError(f"{files[0]} is not a list of rows.", "Store one object per row.")
    return rows


def _task(number: int, row: dict[str, Any], path: Path) -> dict[str, Any]:
    prompt = row.get("prompt", row.get("question"))
    if not isinstance(prompt, str):
        raise _refused(f"row {number} of the dataset", "has no text prompt", "Add a prompt.")
    task = {k: v for k, v in row.items() if k not in ("prompt", "question", "system_prompt")}
    task = {"id": str(row.get("id", f"t{number}")), "prompt": prompt, **task}
    if isinstance(row.get("system_prompt"), str):
        task["system"] = row["system_prompt"]
    return {**task, "user": [], "max_turns": MAX_TURNS}


def _refused(where: str, why: str, hint: str) -> UserError:
    return UserError(f"{where} cannot be converted: it {why}.", hint, where=where)


def _readme(folder: Path, toolset_path: Path, task_path: Path) -> str:
    return (
        f"# {folder.name} (imported from verifiers)\n\n"
        f"Imported by Gauntlet Studio from the verifiers 0.4 environment `{folder.name}`:\n\n"
        f"- `tools.py`: the tools of `{toolset_path.relative_to(folder)}`, named as the model "
        "sees them; module variables are per conversation, as per rollout in verifiers.\n"
        f"- `grader.py`: each `@vf.reward` of `{task_path.relative_to(folder)}` as written, a "
        "rubric criterion with its weight.\n"
        "- `tasks.jsonl`: the dataset's rows, no scripted user, at most "
        f"{MAX_TURNS} assistant turns.\n\n"
        "There are no reference conversations yet: add them to solutions.jsonl (and known-bad "
        "ones to negatives.jsonl), then run `gauntlet verify`. Set the license before "
        "submitting.\n"
    )
