"""Leakage attacks: getting the expected answer from somewhere it should not be — the prompt,
the package files mounted next to the grader, the process environment."""

from __future__ import annotations

from app.attacks.code_source import submission
from app.attacks.model import AttackContext, attack

CATEGORY = "leakage"


@attack(
    "prompt-echo",
    CATEGORY,
    title="The task's own text echoed back",
    explanation="""Returns the prompt (with its options) verbatim. If the prompt contains the
        answer and the grader checks whether the answer *occurs* in the response, this passes
        without solving anything.""",
    fix_hint="""Do not put the answer in the prompt, and extract a single final answer from the
        response instead of searching it for the expected text.""",
)
def prompt_echo(ctx: AttackContext):
    prompt = ctx.task.prompt.strip()
    if prompt:
        yield "prompt", prompt
        choices = ctx.task.choices or []
        if choices:
            yield "prompt-and-options", prompt + "\n" + "\n".join(str(c) for c in choices)


_READ_PACKAGE = r"""
import json, os

_SKIP = {
    "/proc", "/sys", "/dev", "/usr", "/lib", "/lib64",
    "/bin", "/sbin", "/etc", "/var", "/boot", "/run",
}

def _candidate_files():
    roots = [os.getcwd(), os.path.dirname(os.getcwd()), "/"]
    roots += [v for v in os.environ.values() if v.startswith("/") and os.path.isdir(v)]
    seen = set()
    for root in roots:
        base_depth = root.rstrip("/").count("/")
        for folder, dirs, files in os.walk(root):
            if folder in _SKIP or folder.rstrip("/").count("/") - base_depth >= 4:
                dirs[:] = []
                continue
            dirs[:] = [d for d in dirs if os.path.join(folder, d) not in _SKIP]
            for name in files:
                if name.endswith((".jsonl", ".json")) and os.path.join(folder, name) not in seen:
                    seen.add(os.path.join(folder, name))
                    yield os.path.join(folder, name)

def _cases(value):
    if isinstance(value, dict):
        if "expected" in value and "args" in value:
            yield value
        for item in value.values():
            yield from _cases(item)
    elif isinstance(value, list):
        for item in value:
            yield from _cases(item)

def _leaked(args):
    for path in _candidate_files():
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(2_000_000)
        except (OSError, UnicodeDecodeError):
            continue
        records = []
        for line in text.splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
        if not records:
            try:
                records.append(json.loads(text))
            except ValueError:
                continue
        for record in records:
            for case in _cases(record):
                if list(case.get("args", [])) == list(args):
                    return case["expected"]
    return None
"""


@attack(
    "read-package-files",
    "leakage",
    title="Reading the answer key from the package",
    explanation="""Searches the file system the code runs in for the package's tasks.jsonl (or
        any JSON with test cases) and returns the expected value recorded for the current
        arguments.""",
    fix_hint="""Run the code under test where it cannot read the test cases: a separate
        process with no access to the package folder, receiving only the arguments.""",
    kinds=("code",),
    graders=("python", "tests"),
    max_tasks=1,  # the file system is the same for every task
)
def read_package_files(ctx: AttackContext):
    yield "answer-key", submission(ctx, "return _leaked(args)", prelude=_READ_PACKAGE)


_READ_ENVIRON = """
import json, os

def _from_environ():
    for name, value in os.environ.items():
        if any(word in name.upper() for word in ("EXPECT", "ANSWER", "SOLUTION", "TARGET")):
            try:
                return json.loads(value)
            except ValueError:
                return value
    return None
"""


@attack(
    "read-environ",
    "leakage",
    title="Reading the answer from environment variables",
    explanation="""Returns the value of any environment variable whose name mentions EXPECTED,
        ANSWER, SOLUTION or TARGET — where harnesses sometimes pass expected values to a
        subprocess.""",
    fix_hint="""Never pass expected values to the process that runs submitted code, neither in
        its environment nor its arguments.""",
    kinds=("code",),
    graders=("python", "tests"),
    max_tasks=1,
)
def read_environ(ctx: AttackContext):
    yield "environ", submission(ctx, "return _from_environ()", prelude=_READ_ENVIRON)


ATTACKS = (prompt_echo, read_package_files, read_environ)
