"""Tool schemas from a multi-turn package's tools.py, read with `ast` (never imported here).

Each public top-level function of tools.py is a tool; its typed parameters become the JSON
schema the model sees (OpenAI's function-calling format, which litellm passes to every
provider), its docstring the description. `setup(task)` is a hook, not a tool. Reading the
source keeps the checks, the editor and the red team's tool list free of the author's code;
the sandbox runs it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from app.python_ast import parse_python

HOOKS = ("setup",)
_SCALARS = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "dict": {"type": "object"},
    "Dict": {"type": "object"},
    "list": {"type": "array"},
    "List": {"type": "array"},
    "Any": {},
}


@dataclass(slots=True)
class ToolParam:
    name: str
    schema: dict[str, Any]
    required: bool
    typed: bool
    line: int


@dataclass(slots=True)
class ToolSchema:
    name: str
    description: str
    params: list[ToolParam] = field(default_factory=list)
    line: int = 1
    accepts_any: bool = False  # **kwargs: any argument name fits

    def openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": {p.name: p.schema for p in self.params},
                    "required": [p.name for p in self.params if p.required],
                },
            },
        }

    def signature(self) -> str:
        """`lookup(order_id: integer, region?: string)`, for people."""
        shown = [
            f"{p.name}{'' if p.required else '?'}: {p.schema.get('type', 'any')}"
            for p in self.params
        ]
        return f"{self.name}({', '.join(shown)})"


@dataclass(slots=True)
class ToolsFile:
    tools: list[ToolSchema] = field(default_factory=list)
    error: str = ""  # why the file could not be read (a syntax error...)
    error_line: int | None = None

    def get(self, name: str) -> ToolSchema | None:
        return next((t for t in self.tools if t.name == name), None)


def read_tools(source: str) -> ToolsFile:
    try:
        tree = parse_python(source)
    except SyntaxError as exc:
        return ToolsFile(error=f"tools.py is not valid Python: {exc.msg}", error_line=exc.lineno)
    except (ValueError, RecursionError) as exc:
        return ToolsFile(error=f"tools.py cannot be parsed: {exc}")
    tools = [
        _tool(node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
        and node.name not in HOOKS
    ]
    return ToolsFile(tools=tools)


def _tool(node: ast.FunctionDef | ast.AsyncFunctionDef) -> ToolSchema:
    doc = ast.get_docstring(node) or ""
    summary, arg_docs = _split_doc(doc)
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults_from = len(positional) - len(args.defaults)
    params = [
        _param(arg, index < defaults_from, arg_docs)
        for index, arg in enumerate(positional)
        if arg.arg not in ("self",)
    ]
    params += [
        _param(arg, default is None, arg_docs)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    return ToolSchema(
        name=node.name,
        description=summary or f"The {node.name} tool.",
        params=params,
        line=node.lineno,
        accepts_any=args.kwarg is not None,
    )


def _param(arg: ast.arg, required: bool, docs: dict[str, str]) -> ToolParam:
    schema = dict(_schema(arg.annotation)) if arg.annotation is not None else {}
    if arg.arg in docs:
        schema["description"] = docs[arg.arg]
    return ToolParam(arg.arg, schema, required, arg.annotation is not None, arg.lineno)


def _schema(node: ast.expr) -> dict[str, Any]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "str" as a string
        try:
            return _schema(parse_python(node.value, mode="eval").body)
        except SyntaxError:
            return {}
    if isinstance(node, ast.Name):
        return dict(_SCALARS.get(node.id, {}))
    if isinstance(node, ast.Attribute):  # typing.List
        return dict(_SCALARS.get(node.attr, {}))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # int | None
        parts = [p for p in (node.left, node.right) if not _is_none(p)]
        return _schema(parts[0]) if len(parts) == 1 else {}
    if isinstance(node, ast.Subscript):
        return _generic(node)
    return {}


def _generic(node: ast.Subscript) -> dict[str, Any]:
    base = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
    inner = node.slice
    items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
    if base in ("list", "List", "set", "Set", "tuple", "Tuple"):
        return {"type": "array", "items": _schema(items[0])} if items else {"type": "array"}
    if base in ("dict", "Dict"):
        return {"type": "object"}
    if base == "Optional":
        return _schema(items[0])
    if base == "Literal":
        values = [i.value for i in items if isinstance(i, ast.Constant)]
        kinds = {type(v) for v in values}
        schema: dict[str, Any] = {"enum": values}
        if kinds == {str}:
            schema["type"] = "string"
        elif kinds <= {int}:
            schema["type"] = "integer"
        return schema
    return {}


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _split_doc(doc: str) -> tuple[str, dict[str, str]]:
    """The docstring's first paragraph, and Google-style "Args:" entries by name."""
    summary = " ".join(doc.split("\n\n", 1)[0].split())
    args: dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.lower() in ("args:", "arguments:", "parameters:"):
            in_args = True
            continue
        if in_args:
            name, sep, text = stripped.partition(":")
            if not stripped or (not sep and not args):
                in_args = bool(stripped)
                continue
            if sep and name.split(" ")[0].isidentifier():
                args[name.split(" ")[0]] = text.strip()
    return summary, args


def fitting_problem(tool: ToolSchema, arguments: dict[str, Any]) -> str:
    """Why `arguments` do not fit `tool` ("" when they do): names only; values are the
    tool's own business (a type the model gets wrong is a tool error it can read)."""
    names = {p.name for p in tool.params}
    missing = [p.name for p in tool.params if p.required and p.name not in arguments]
    unknown = [] if tool.accepts_any else [a for a in arguments if a not in names]
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if unknown:
        parts.append(f"no parameter named {', '.join(unknown)}")
    return "; ".join(parts)
