"""Importing a verifiers environment's reward functions as a Gauntlet rubric of code criteria.

Two shapes map, both read (never run) from the module's source:
- the current API (`verifiers.v1`): a `vf.Task` subclass with `@vf.reward` / `@vf.reward(weight=w)`
  methods that read the task's data (`self.data`, `task`) and the reply (`trace.last_reply`);
  the rows are a literal list in the module or a .jsonl/.json file, turned into task data by a
  call of the `vf.TaskData` subclass with row columns (`prompt=row["question"]`);
- the classic API: `vf.Rubric(funcs=[...], weights=[...])` with module-level reward functions
  taking `completion`, `answer`, `prompt`, `info`, `state` or a plain `vf.Parser()` parser.

Each reward becomes one code criterion with its weight, combined by weighted mean. grader.py
holds the module's standard-library imports, its module-level helpers, the reward code itself
and small stand-ins for what verifiers hands a reward (assets/verifiers_criteria.py).
verifiers adds the weighted rewards up; Gauntlet takes the weighted mean, which is that sum
divided by the total weight (the same number when the weights add up to 1).
"""

from __future__ import annotations

import ast
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

CRITERIA_SHIM = Path(__file__).parent / "assets" / "verifiers_criteria.py"
_LEAVES = {"verifiers", "datasets"}  # imports the grader drops (verifiers' own, the dataset's)
_DECORATOR = re.compile(r"^(vf\.|verifiers\.v1\.)?reward$")


def reward_methods(tree: ast.Module) -> tuple[ast.ClassDef | None, list[tuple[str, float]]]:
    """The current API's task class and its rewards [(method name, weight)], or (None, [])."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        rewards = []
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                weight = _reward_weight(item)
                if weight is not None:
                    rewards.append((item.name, weight))
        if rewards:
            return node, rewards
    return None, []


def _reward_weight(function) -> float | None:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if _DECORATOR.match(ast.unparse(target)):
            keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
            for keyword in keywords:
                if keyword.arg == "weight":
                    return float(ast.literal_eval(keyword.value))
            return 1.0
    return None


def classic_rubric(tree: ast.Module, refuse) -> list[tuple[str, float]]:
    """The classic `vf.Rubric(funcs=[...], weights=[...])`: [(function name, weight)], or []."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("Rubric")):
            continue
        arguments = {k.arg: k.value for k in node.keywords}
        for name, value in zip(("funcs", "weights"), node.args, strict=False):
            arguments.setdefault(name, value)
        funcs = arguments.get("funcs")
        if not isinstance(funcs, ast.List) or not all(isinstance(f, ast.Name) for f in funcs.elts):
            raise refuse(
                "its vf.Rubric's funcs are not a list of the module's functions",
                "List the reward functions by name: vf.Rubric(funcs=[a, b], weights=[...]).",
            )
        names = [f.id for f in funcs.elts]
        weights = [1.0] * len(names)
        if "weights" in arguments:
            try:
                weights = [float(w) for w in ast.literal_eval(arguments["weights"])]
            except (ValueError, TypeError) as exc:
                raise refuse(
                    "its vf.Rubric's weights are not a list of numbers", "Write them out."
                ) from exc
        if len(weights) != len(names):
            raise refuse("its vf.Rubric has as many weights as functions", "Match them up.")
        _refuse_parsers(tree, refuse)
        return list(zip(names, weights, strict=True))
    return []


def _refuse_parsers(tree: ast.Module, refuse) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func).rpartition(".")[2]
            if called.endswith("Parser") and called != "Parser":
                raise refuse(
                    f"it uses the parser {called}, which does not convert",
                    "Only verifiers' plain vf.Parser() maps; parse the reply in the reward itself.",
                )


def refuse_unsupported(tree: ast.Module, refuse) -> None:
    """Environments that are more than one prompt and one graded reply: multi-turn or tool
    environments (classic `vf.ToolEnv`, `vf.MultiTurnEnv`...; current toolsets, harnesses)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func).rpartition(".")[2]
            if called.endswith("Env") and called != "SingleTurnEnv":
                raise refuse(
                    f"it builds a {called}, which is not a single-turn question-answer environment",
                    "Only vf.SingleTurnEnv (classic) or a Taskset of tasks graded on one reply "
                    "converts; multi-turn and tool environments stay verifiers environments.",
                )
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(b).rpartition(".")[2] for b in node.bases}
            methods = {i.name for i in node.body if isinstance(i, ast.FunctionDef)}
            if bases & {"Toolset", "Harness", "Env"} or "toolsets" in methods:
                raise refuse(
                    f"its class {node.name} gives the model tools or its own harness",
                    "Only tasks graded on one reply convert; tool environments stay verifiers "
                    "environments.",
                )


def check_weights(rewards: list[tuple[str, float]], refuse) -> None:
    if any(weight < 0 for _, weight in rewards) or sum(w for _, w in rewards) <= 0:
        raise refuse(
            "its reward weights are negative or add up to zero, which a Gauntlet rubric "
            "(a weighted mean of scores) cannot express",
            "Give every reward a positive weight, or convert the penalty by hand.",
        )


def grader_source(tree: ast.Module, text: str, module_name: str, kind: str, rewards, refuse):
    """grader.py: the module's stdlib imports and helpers, the reward code, the stand-ins and
    one criterion function per reward (`criterion_<name>`)."""
    parts = [
        f'"""Criteria imported by Gauntlet Studio from the verifiers environment {module_name}.\n'
        '\nThe reward code is the original\'s; see the end of the file for how it is called."""',
        "\n".join(
            [
                "from __future__ import annotations  # the original's hints name verifiers types",
                "",
                "import inspect",
                *_imports(tree, refuse),
            ]
        ),
    ]
    reward_names = {name for name, _ in rewards}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Expr)):
            continue
        if isinstance(node, ast.ClassDef):
            continue  # the task class is rebuilt below; vf classes stay behind
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name == "load_environment":
                continue
            parts.append(_plain_function(node, text))
            continue
        if not _uses_verifiers(node):
            parts.append(ast.get_source_segment(text, node) or "")
    if kind == "current":
        task_class, _ = reward_methods(tree)
        parts.append(_task_class(task_class, text))
    else:  # rewards defined inside load_environment(), next to their dataset and parser
        module_level = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        for node in ast.walk(tree):
            is_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            if is_function and node.name in reward_names - module_level:
                segment = ast.get_source_segment(text, node, padded=True) or ""
                parts.append(textwrap.dedent(segment))
    shim = CRITERIA_SHIM.read_text(encoding="utf-8").partition("\n")[2]  # not the noqa line
    parts.append(shim.strip("\n"))
    if kind == "classic":
        parts.append("parser = _Parser()  # the environment's vf.Parser(), for its rewards")
    for name in sorted(reward_names):
        target = f'"{name}"' if kind == "current" else name
        call = f"_{kind}({target}, task, response)"
        parts.append(f"def criterion_{name}(task, response):\n    return float({call})")
    return "\n\n\n".join(p for p in parts if p) + "\n"


def _imports(tree: ast.Module, refuse) -> list[str]:
    kept = []
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        roots = (
            [a.name.split(".")[0] for a in node.names]
            if isinstance(node, ast.Import)
            else [(node.module or "").split(".")[0]]
        )
        if any(root in _LEAVES for root in roots) or roots == ["__future__"]:
            continue
        foreign = [r for r in roots if r not in sys.stdlib_module_names]
        if foreign:
            raise refuse(
                f"it imports {', '.join(foreign)}, which Gauntlet's grading sandbox does not have",
                "Rewards that need third-party packages stay verifiers environments; or rewrite "
                "them with the standard library.",
            )
        kept.append(ast.unparse(node))
    return kept


def _uses_verifiers(node: ast.AST) -> bool:
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return bool(names & {"vf", "verifiers", "Dataset", "load_dataset"})


def _plain_function(node, text: str) -> str:
    """A module-level function without its decorators (a classic reward is a plain function)."""
    return ast.get_source_segment(text, node) or ""  # from `def` on


def _task_class(node: ast.ClassDef, text: str) -> str:
    """The task class's methods (rewards and their helpers) on a plain `_Task` holding
    `self.data`; hooks for tools, stops, metrics and the lifecycle stay behind."""
    lines = ["class _Task:", "    def __init__(self, data):", "        self.data = data"]
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if item.decorator_list and _reward_weight(item) is None:
            continue  # @vf.tool, @vf.metric, @classmethod...: not a reward's business
        if item.name in ("setup", "finalize", "validate", "toolsets", "stage_verifier"):
            continue
        source = ast.get_source_segment(text, item, padded=True) or ""
        body = source.splitlines()  # from `def` on: the decorators stay behind
        indent = min(len(line) - len(line.lstrip()) for line in body if line.strip())
        lines.append("")
        lines += ["    " + line[indent:] if line.strip() else "" for line in body]
    return "\n".join(lines)


def current_records(tree: ast.Module, rows: list[dict[str, Any]], refuse) -> list[dict]:
    """Each row as the current API's task data (the TaskData subclass's call with columns, and
    its field defaults), kept whole under "vf_data" for the rewards; prompt and answer also as
    the Gauntlet task's own."""
    data_class, defaults = _data_class(tree)
    call = next(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == data_class
        ),
        None,
    )
    records = []
    for number, row in enumerate(rows, 1):
        fields = dict(defaults)
        if call is None:
            fields.update(prompt=row.get("question", row.get("prompt")), answer=row.get("answer"))
        for keyword in call.keywords if call is not None else []:
            value = keyword.value
            if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant):
                fields[keyword.arg] = row.get(value.slice.value)
            elif isinstance(value, ast.Constant):
                fields[keyword.arg] = value.value
            elif keyword.arg not in ("id", "name"):
                raise refuse(
                    f"its task data field {keyword.arg} is computed ({ast.unparse(value):.60}), "
                    "not a column of the rows",
                    'Fill task data from row columns (prompt=row["question"]).',
                )
        prompt, answer = fields.get("prompt"), fields.get("answer", "")
        if not isinstance(prompt, str) or not prompt.strip():
            raise refuse(f"row {number} has no text prompt", "Give every row a prompt.")
        task_id = str(row.get("id") or fields.get("id") or f"task-{number}")
        answer = answer if isinstance(answer, str) else json.dumps(answer)
        records.append({"id": task_id, "prompt": prompt, "answer": answer, "vf_data": fields})
    return records


def _data_class(tree: ast.Module) -> tuple[str, dict[str, Any]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            ast.unparse(b).endswith("TaskData") for b in node.bases
        ):
            defaults = {}
            for item in node.body:
                if (
                    isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Name)
                    and item.value is not None
                ):
                    try:
                        defaults[item.target.id] = ast.literal_eval(item.value)
                    except ValueError:
                        continue
            return node.name, defaults
    return "", {}
