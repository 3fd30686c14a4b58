"""A small valid agentic package (kind = "agentic", DESIGN §4.1) as a dict of files, and the
broken variants that trigger each agentic structural code (tests/envpack)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Files = dict[str, str | bytes | None]

AGENTIC_MANIFEST = """\
schema = "gauntlet/1"
kind = "agentic"

[package]
name = "acme/sum-column"
version = "0.1.0"
title = "Sum a CSV column"
description = "Add up one column of a CSV file."
authors = ["Ada Lovelace <ada@example.org>"]
license = "CC-BY-4.0"

[grader]
type = "verifier"

[agent]
timeout_s = 60
network = "none"

[verifier]
timeout_s = 30
mode = "separate"

[sandbox]
memory_mb = 512
disk_mb = 256
"""

DOCKERFILE = """\
ARG GAUNTLET_BASE
FROM ${GAUNTLET_BASE}
WORKDIR /app
COPY data.csv /app/data.csv
"""

TEST_SH = """\
#!/bin/bash
set -euo pipefail
mkdir -p /logs/verifier
echo 0 > /logs/verifier/reward.txt
[ "$(cat /app/total.txt)" = "12" ]
echo 1 > /logs/verifier/reward.txt
"""

TASK = "tasks/sum-b"


def agentic_files() -> Files:
    return {
        "env.toml": AGENTIC_MANIFEST,
        "README.md": "# Sum a column\n\nThe verifier compares the total exactly.\n",
        "environment/Dockerfile": DOCKERFILE,
        "environment/data.csv": "a,b\n1,5\n2,7\n",
        f"{TASK}/instruction.md": "Sum column b of /app/data.csv; write it to /app/total.txt.\n",
        f"{TASK}/solution/solve.sh": "#!/bin/bash\necho 12 > /app/total.txt\n",
        f"{TASK}/tests/test.sh": TEST_SH,
        f"{TASK}/negatives/wrong-column.sh": "#!/bin/bash\necho 3 > /app/total.txt\n",
    }


def sub(file: str, old: str, new: str) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        text = files[file]
        assert isinstance(text, str) and old in text, f"{old!r} not in {file}"
        files[file] = text.replace(old, new, 1)

    return apply


def put(file: str, content: str | bytes | None) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        files[file] = content

    return apply


def no_change(files: Files) -> None:
    pass


@dataclass
class AgenticCase:
    code: str
    breaks: Callable[[Files], None]
    file: str
    line: int | str | None  # the expected line, or a text on it; None: a whole-file finding
    id: str = ""
    fix: Callable[[Files], None] = no_change  # the valid package this case starts from


def _only_tasks_dir(files: Files) -> None:
    for rel in [r for r in files if r.startswith("tasks/")]:
        files[rel] = None
    files["tasks/.keep"] = ""


def _rename_task(files: Files) -> None:
    for rel in [r for r in files if r.startswith(f"{TASK}/")]:
        files[rel.replace(TASK, "tasks/bad name!")] = files.pop(rel)


AGENTIC_CASES = [
    AgenticCase("GX162", _only_tasks_dir, "tasks", None),
    AgenticCase("GX163", put(f"{TASK}/tests/test.sh", None), f"{TASK}/tests/test.sh", None),
    AgenticCase("GX164", _rename_task, "tasks/bad name!", None),
    AgenticCase("GX165", put(f"{TASK}/instruction.md", "  \n"), f"{TASK}/instruction.md", 1),
    AgenticCase(
        "GX166",
        sub("environment/Dockerfile", "COPY data.csv", "COPY tests/ /tests/\nCOPY data.csv"),
        "environment/Dockerfile",
        4,
        id="GX166-copy",
    ),
    AgenticCase(
        "GX166",
        put(f"{TASK}/environment/Dockerfile", DOCKERFILE + "ADD ./solution/solve.sh /opt/\n"),
        f"{TASK}/environment/Dockerfile",
        5,
        id="GX166-task-dockerfile",
        fix=put(f"{TASK}/environment/Dockerfile", DOCKERFILE),
    ),
    AgenticCase(
        "GX166",
        put("environment/check.sh", TEST_SH),
        "environment/check.sh",
        None,
        id="GX166-identical-file",
    ),
    AgenticCase(
        "GX167",
        put(f"{TASK}/tests/test.sh", "#!/bin/bash\ntest -s /app/total.txt\n"),
        f"{TASK}/tests/test.sh",
        1,
    ),
    AgenticCase(
        "GX168",
        sub("env.toml", 'mode = "separate"', 'mode = "shared"'),
        "env.toml",
        'mode = "shared"',
    ),
    AgenticCase(
        "GX169",
        sub("env.toml", 'network = "none"', 'network = "allowlist"\nhosts = ["pypi.org"]'),
        "env.toml",
        'network = "allowlist"',
    ),
    AgenticCase(
        "GX194",
        sub(
            "env.toml",
            'network = "none"',
            'network = "allowlist"\nhosts = ["pypi.org", "https://files.example.org/x"]',
        ),
        "env.toml",
        "hosts = ",
    ),
    AgenticCase(
        "GX183", sub("env.toml", 'type = "verifier"', 'type = "python"'), "env.toml", 'type = "'
    ),
    AgenticCase(
        "GX184",
        put(f"{TASK}/negatives/notes.txt", "the wrong column\n"),
        f"{TASK}/negatives/notes.txt",
        None,
    ),
]
