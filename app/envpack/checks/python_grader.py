"""A `python` grader, read with `ast` only (never imported or run): it parses, defines the
entry function with the right signature, and avoids things that make rewards unreliable
(network, subprocesses, unseeded randomness, the clock, eval/exec)."""

from __future__ import annotations

import ast
import re
import warnings

from app.envpack.checks.context import CheckContext
from app.envpack.model import Span
from app.envpack.source import normalize_relpath
from app.python_ast import parse_python

_ENTRY = re.compile(r"^(?P<file>[^:]+\.py):(?P<function>[A-Za-z_][A-Za-z0-9_]*)$")

NETWORK_MODULES = (
    "socket",
    "ssl",
    "http",
    "urllib",
    "urllib3",
    "requests",
    "httpx",
    "aiohttp",
    "ftplib",
    "smtplib",
    "telnetlib",
    "websocket",
    "websockets",
    "paramiko",
)
PROCESS_MODULES = ("subprocess", "multiprocessing", "pty", "pexpect", "sh")
PROCESS_CALLS = (
    "os.system",
    "os.popen",
    "os.spawnl",
    "os.spawnlp",
    "os.spawnv",
    "os.spawnvp",
    "os.execv",
    "os.execvp",
    "os.execl",
    "os.execlp",
    "os.execve",
    "os.fork",
    "os.forkpty",
    "os.posix_spawn",
    "os.posix_spawnp",
)
RANDOM_CALLS = (
    "random",
    "randint",
    "randrange",
    "choice",
    "choices",
    "shuffle",
    "sample",
    "uniform",
    "gauss",
    "betavariate",
    "normalvariate",
    "random.random",
    "random.randint",
    "random.randrange",
    "random.choice",
    "random.choices",
    "random.shuffle",
    "random.sample",
    "random.uniform",
    "random.gauss",
    "numpy.random.rand",
    "numpy.random.randn",
    "numpy.random.randint",
    "numpy.random.choice",
    "numpy.random.random",
    "np.random.rand",
    "np.random.randn",
    "np.random.randint",
    "np.random.choice",
    "np.random.random",
    "os.urandom",
    "uuid.uuid4",
    "secrets.token_hex",
    "secrets.choice",
    "secrets.randbelow",
)
SEEDING_CALLS = ("random.seed", "seed", "numpy.random.seed", "np.random.seed")
CLOCK_CALLS = (
    "time.time",
    "time.time_ns",
    "time.monotonic",
    "time.perf_counter",
    "time.localtime",
    "time.gmtime",
    "time.ctime",
    "datetime.now",
    "datetime.utcnow",
    "datetime.today",
    "date.today",
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.today",
    "datetime.date.today",
)
DYNAMIC_CALLS = ("eval", "exec", "compile", "__import__", "importlib.import_module")


def check_python_grader(ctx: CheckContext) -> None:
    grader = ctx.pack.grader
    if grader.type != "python":
        return
    span = ctx.at_key("grader.entry")
    match = _ENTRY.match(grader.entry.strip())
    if not match:
        ctx.report(
            "GX174", f'grader.entry = "{grader.entry}" is not of the form "file.py:function".', span
        )
        return
    rel = normalize_relpath(match["file"])
    function = match["function"]
    tree = read_grader_tree(
        ctx,
        rel,
        span,
        outside=f'grader.entry points at "{match["file"]}", outside the package folder.',
        hint=f"Create {rel} with `def {function}(task, response):` or fix grader.entry.",
    )
    if tree is None or rel is None:
        return
    check_entry(ctx, tree, rel, function)
    GraderHazards(ctx, rel).scan(tree)


def read_grader_tree(
    ctx: CheckContext, rel: str | None, span: Span, *, outside: str, hint: str
) -> ast.Module | None:
    """The parsed grader file `rel` names; None once a finding says why it cannot be (outside
    the package GX124, missing GX120, syntax GX170; binary or too large: the file checks)."""
    read = ctx.read_named_file(
        rel, span, outside=outside, missing=f'The grader file "{rel}" does not exist.', hint=hint
    )
    if read is None or read.text is None or rel is None:
        return None
    try:
        with warnings.catch_warnings():
            # SyntaxWarning for odd escapes is not the author's error here
            warnings.simplefilter("ignore")
            return parse_python(read.text, filename=rel)
    except SyntaxError as exc:
        ctx.report(
            "GX170", f"{rel} has a syntax error: {exc.msg}.", Span(rel, exc.lineno, exc.offset)
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        ctx.report("GX170", f"{rel} cannot be parsed: {exc}.", Span(rel, 1))
    return None


def check_entry(ctx: CheckContext, tree: ast.Module, rel: str, function: str) -> None:
    definition = None
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name == function
        ):
            definition = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == function for t in targets):
                definition = node
        elif isinstance(node, ast.ImportFrom | ast.Import) and any(
            (alias.asname or alias.name) == function for alias in node.names
        ):
            definition = node
    if definition is None:
        defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        others = f" It defines: {', '.join(defined)}." if defined else ""
        ctx.report(
            "GX171",
            f'{rel} has no top-level function "{function}".{others}',
            Span(rel, 1),
            hint=(
                f"Add `def {function}(task, response):` at the top "
                "level (not inside a class or another function)."
            ),
        )
        return
    span = Span(rel, definition.lineno, definition.col_offset + 1)
    if isinstance(
        definition, ast.ClassDef | ast.Assign | ast.AnnAssign | ast.Import | ast.ImportFrom
    ):
        what = {ast.ClassDef: "a class", ast.Import: "an import", ast.ImportFrom: "an import"}.get(
            type(definition), "a variable"
        )
        ctx.report("GX172", f'"{function}" in {rel} is {what}, not a function.', span)
        return
    if isinstance(definition, ast.AsyncFunctionDef):
        ctx.report(
            "GX173",
            f'"{function}" is an async function; graders are called synchronously.',
            span,
            hint=f"Use `def {function}(task, response):` (without async).",
        )
        return
    args = definition.args
    positional = args.posonlyargs + args.args
    required = len(positional) - len(args.defaults)
    required_kwonly = [
        a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=False) if d is None
    ]
    accepts_two = len(positional) >= 2 or args.vararg is not None
    if not accepts_two or required > 2 or required_kwonly:
        names = ", ".join(a.arg for a in positional) or "no parameters"
        ctx.report(
            "GX173", f'"{function}" takes ({names}); it must take exactly (task, response).', span
        )


class GraderHazards(ast.NodeVisitor):
    """Finds imports and calls that make a grader depend on the outside world."""

    def __init__(self, ctx: CheckContext, rel: str) -> None:
        self.ctx = ctx
        self.rel = rel
        self.aliases: dict[str, str] = {}  # local name -> dotted origin ("np" -> "numpy")
        self.seeded = False
        self.random_calls: list[ast.AST] = []
        self.reported: set[tuple[str, int]] = set()

    def scan(self, tree: ast.Module) -> None:
        self.visit(tree)
        if self.random_calls and not self.seeded:
            node = self.random_calls[0]
            self._report(
                "GX177",
                node,
                f"{self.rel} uses randomness without a fixed seed (line {node.lineno}); "
                "the same response could get different rewards.",
            )

    def _report(self, code: str, node: ast.AST, message: str) -> None:
        key = (code, getattr(node, "lineno", 0))
        if key in self.reported:
            return
        self.reported.add(key)
        self.ctx.report(
            code,
            message,
            Span(self.rel, getattr(node, "lineno", None), getattr(node, "col_offset", -1) + 1),
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )
            self._check_module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._check_module(node, module)
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = (
                f"{module}.{alias.name}" if module else alias.name
            )
            self._check_module(node, f"{module}.{alias.name}")

    def _check_module(self, node: ast.AST, module: str) -> None:
        top = module.split(".")[0]
        if top in NETWORK_MODULES:
            self._report(
                "GX175",
                node,
                f'{self.rel} imports "{module}" (line {node.lineno}); graders run without network.',
            )
        elif top in PROCESS_MODULES or module in PROCESS_CALLS:
            self._report(
                "GX176",
                node,
                f'{self.rel} imports "{module}" (line {node.lineno}) to run other programs.',
            )

    def visit_Call(self, node: ast.Call) -> None:
        name = self._qualified(node.func)
        if name:
            if name in PROCESS_CALLS:
                self._report("GX176", node, f"{self.rel} calls {name}() on line {node.lineno}.")
            elif (
                name in CLOCK_CALLS
                or name.endswith((".now", ".utcnow", ".today"))
                and "date" in name
            ):
                self._report(
                    "GX178",
                    node,
                    f"{self.rel} reads the clock with {name}() on line {node.lineno}; "
                    "the reward could change with the time of day.",
                )
            elif name in DYNAMIC_CALLS:
                self._report(
                    "GX179",
                    node,
                    f"{self.rel} calls {name}() on line {node.lineno}; running text as code lets a "
                    "response take over the grader.",
                )
            elif name in SEEDING_CALLS and node.args:
                self.seeded = True
            elif name in (
                "random.Random",
                "Random",
                "numpy.random.default_rng",
                "np.random.default_rng",
            ):
                if node.args or node.keywords:
                    self.seeded = True  # a seeded generator is the right way
                else:
                    self.random_calls.append(node)
            elif name in RANDOM_CALLS and (
                name.startswith(("random.", "numpy.", "np.", "os.", "uuid.", "secrets."))
                or self.aliases.get(name, "").startswith("random.")
            ):
                if name in ("os.urandom", "uuid.uuid4") or name.startswith("secrets."):
                    self._report(
                        "GX177",
                        node,
                        (
                            f"{self.rel} calls {name}() on line {node.lineno}; "
                            "its result differs every run."
                        ),
                    )
                else:
                    self.random_calls.append(node)
        self.generic_visit(node)

    def _qualified(self, func: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(func, ast.Attribute):
            parts.append(func.attr)
            func = func.value
        if not isinstance(func, ast.Name):
            return None
        origin = self.aliases.get(func.id, func.id)
        return ".".join([origin, *reversed(parts)])
