"""A multi-turn package (DESIGN §4.2): tasks with max_turns and a user, a tools.py whose
functions are typed, and reference and negative trajectories that call those tools with the
right arguments within max_turns. tools.py is read with `ast` (app/envpack/tool_schemas.py),
never run."""

from __future__ import annotations

from app.envpack.checks.context import CheckContext
from app.envpack.model import Negative, Reference, Span, Task
from app.envpack.tool_schemas import ToolsFile, fitting_problem, read_tools
from app.envpack.trajectory import call_arguments

TOOLS_FILE = "tools.py"
MAX_TURNS_LIMIT = 50


def check_multiturn(ctx: CheckContext) -> None:
    pack = ctx.pack
    if not pack.is_multi_turn:
        return
    tools = _tools(ctx)
    for task in pack.tasks:
        _check_task(ctx, task)
    for file, entries in (
        (pack.manifest.solutions_path, pack.solutions),
        (pack.manifest.negatives_path, pack.negatives),
    ):
        for entry in entries:
            task = pack.task(entry.task_id)
            if entry.turns is not None and task is not None:
                _check_trajectory(ctx, file, entry, task, tools)


def read_package_tools(source) -> ToolsFile | None:
    """tools.py's tools; None when the package has no tools.py (a conversation-only one)."""
    read = source.read_text(TOOLS_FILE)
    if read.text is None:
        return None
    return read_tools(read.text)


def _tools(ctx: CheckContext) -> ToolsFile | None:
    tools = read_package_tools(ctx.source)
    if tools is None:
        return None
    if tools.error:
        ctx.report("GX116", tools.error + ".", Span(TOOLS_FILE, tools.error_line))
        return tools
    if not tools.tools:
        ctx.report(
            "GX116",
            "tools.py defines no tool: a tool is a public top-level function "
            "(its name does not start with _).",
            Span(TOOLS_FILE, 1),
        )
    for tool in tools.tools:
        for param in tool.params:
            if not param.typed:
                ctx.report(
                    "GX117",
                    f"Parameter {param.name!r} of tool {tool.name!r} has no type; the model "
                    "sees it as 'any'.",
                    Span(TOOLS_FILE, param.line),
                )
    return tools


def _check_task(ctx: CheckContext, task: Task) -> None:
    record, tasks_file = task.record, ctx.tasks_file()
    max_turns = record.get("max_turns", 6)
    if (
        not isinstance(max_turns, int)
        or isinstance(max_turns, bool)
        or not 1 <= max_turns <= MAX_TURNS_LIMIT
    ):
        ctx.report(
            "GX118",
            f"Task {task.id!r}: max_turns must be a whole number from 1 to {MAX_TURNS_LIMIT}, "
            f"not {max_turns!r}.",
            ctx.at_record(tasks_file, task.line, "max_turns"),
        )
    user = record.get("user", [])
    scripted = isinstance(user, list) and all(isinstance(u, str) for u in user)
    persona = isinstance(user, dict) and isinstance(user.get("persona"), str) and user["persona"]
    if not (scripted or persona):
        ctx.report(
            "GX118",
            f'Task {task.id!r}: "user" must be a list of scripted turns (text) or '
            '{"persona": "..."}.',
            ctx.at_record(tasks_file, task.line, "user"),
        )


def _check_trajectory(
    ctx: CheckContext,
    file: str,
    entry: Reference | Negative,
    task: Task,
    tools: ToolsFile | None,
) -> None:
    what = "The reference" if isinstance(entry, Reference) else "The negative"
    span = ctx.at_record(file, entry.line, "turns")
    turns = entry.turns or []
    for number, turn in enumerate(turns, start=1):
        for call in turn.get("tool_calls") or []:
            _check_call(ctx, what, number, call, tools, span)
    played = sum(1 for t in turns if t["role"] == "assistant")
    max_turns = task.record.get("max_turns", 6)
    if isinstance(max_turns, int) and not isinstance(max_turns, bool) and played > max_turns:
        ctx.report(
            "GX119",
            f"{what} for task {task.id!r} has {played} assistant turns; the task allows "
            f"max_turns = {max_turns}.",
            span,
        )
    user = task.record.get("user")
    if isinstance(user, dict) and isinstance(entry, Reference):
        speaking = [t for t in turns if t["role"] == "assistant" and not t.get("tool_calls")]
        recorded = sum(1 for t in turns if t["role"] == "user")
        if len(speaking) > 1 and recorded < len(speaking) - 1:
            ctx.report(
                "GX148",
                f"{what} for task {task.id!r} talks to a persona {len(speaking)} times but "
                f"records {recorded} of its replies.",
                span,
            )


def _check_call(ctx, what: str, number: int, call, tools: ToolsFile | None, span: Span) -> None:
    name = call["function"]["name"]
    tool = tools.get(name) if tools is not None else None
    if tool is None:
        if tools is not None and tools.error:
            return  # GX116 already says tools.py cannot be read
        known = ", ".join(t.name for t in tools.tools) if tools else ""
        where = f"tools.py defines {known}" if known else "the package has no tools.py"
        ctx.report("GX109", f"{what}, turn {number}, calls tool {name!r}, but {where}.", span)
        return
    problem = fitting_problem(tool, call_arguments(call))
    if problem:
        ctx.report(
            "GX147",
            f"{what}, turn {number}: the call to {tool.signature()} has {problem}.",
            span,
        )
