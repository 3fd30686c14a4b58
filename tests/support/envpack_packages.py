"""Test packages for the env pack tests: a small valid package as a dict of files, variants
of it for every grader type, and a writer, so each test states only what it changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

BASE_MANIFEST = """\
schema = "gauntlet/1"
kind = "qa"

[package]
name = "acme/capitals"
version = "0.1.0"
title = "Capital cities"
description = "Name the capital city of a country."
authors = ["Ada Lovelace <ada@example.org>"]
license = "CC-BY-4.0"

[tasks]
path = "tasks.jsonl"

[grader]
type = "match"
mode = "exact"
normalize = ["case", "whitespace"]
reward_range = [0.0, 1.0]
pass_threshold = 1.0
timeout_s = 10

[solutions]
path = "solutions.jsonl"

[negatives]
path = "negatives.jsonl"
"""


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def base_files() -> dict[str, str | bytes]:
    return {
        "env.toml": BASE_MANIFEST,
        "README.md": "# Capital cities\n\nExact match on the city name.\n",
        "tasks.jsonl": jsonl(
            {
                "id": "fr",
                "prompt": "What is the capital of France? Reply with the city only.",
                "answer": "Paris",
            },
            {
                "id": "jp",
                "prompt": "What is the capital of Japan? Reply with the city only.",
                "answer": "Tokyo",
            },
        ),
        "solutions.jsonl": jsonl(
            {"task_id": "fr", "response": "Paris"}, {"task_id": "jp", "response": "Tokyo"}
        ),
        "negatives.jsonl": jsonl(
            {"task_id": "fr", "response": "Lyon", "note": "largest other city"},
            {"task_id": "jp", "response": "Kyoto", "note": "former capital"},
        ),
    }


def set_grader(files: dict, lines: str) -> None:
    """Replace the [grader] table's body with `lines`."""
    text = files["env.toml"]
    start = text.index("[grader]\n") + len("[grader]\n")
    end = text.index("\n[solutions]")
    files["env.toml"] = text[:start] + lines.strip("\n") + "\n" + text[end:]


def python_variant(files: dict) -> None:
    set_grader(
        files,
        (
            'type = "python"\nentry = "grader.py:grade"\n'
            "reward_range = [0.0, 1.0]\npass_threshold = 1.0\ntimeout_s = 5"
        ),
    )
    files["grader.py"] = (
        '"""Exact match on the city, ignoring case."""\n'
        "\n"
        "\n"
        "def grade(task: dict, response: str) -> float:\n"
        '    return 1.0 if response.strip().casefold() == task["answer"].casefold() else 0.0\n'
    )


def judge_variant(files: dict) -> None:
    set_grader(
        files,
        (
            'type = "judge"\nmodel = "openai/gpt-4o-mini"\nrubric = "rubric.md"\n'
            "reward_range = [0.0, 1.0]\npass_threshold = 0.8\ntimeout_s = 60"
        ),
    )
    files["rubric.md"] = "# Rubric\n\nScore 1 if the response names the capital city, else 0.\n"


def code_variant(files: dict) -> None:
    files["env.toml"] = files["env.toml"].replace('kind = "qa"', 'kind = "code"')
    set_grader(
        files, 'type = "tests"\nreward_range = [0.0, 1.0]\npass_threshold = 1.0\ntimeout_s = 10'
    )
    files["tasks.jsonl"] = jsonl(
        {
            "id": "add",
            "prompt": "Write add(a, b) returning the sum of two integers.",
            "entry": "add",
            "tests": [{"args": [1, 2], "expected": 3}, {"args": [-1, 1], "expected": 0}],
        },
        {
            "id": "double",
            "prompt": "Write double(x) returning twice x.",
            "entry": "double",
            "tests": [{"args": [2], "expected": 4}, {"args": [0], "expected": 0}],
        },
    )
    files["solutions.jsonl"] = jsonl(
        {"task_id": "add", "response": "def add(a, b):\n    return a + b\n"},
        {"task_id": "double", "response": "def double(x):\n    return 2 * x\n"},
    )
    files["negatives.jsonl"] = jsonl(
        {"task_id": "add", "response": "def add(a, b):\n    return a - b + 1\n"},
        {"task_id": "double", "response": "def double(x):\n    return str(x)\n"},
    )


def mode_variant(mode: str, tasks: list[dict], extra: str = "") -> Callable[[dict], None]:
    def apply(files: dict) -> None:
        set_grader(
            files,
            (
                f'type = "match"\nmode = "{mode}"\n{extra}\n'
                "reward_range = [0.0, 1.0]\npass_threshold = 1.0\ntimeout_s = 10"
            ),
        )
        files["tasks.jsonl"] = jsonl(*tasks)
        refs = {
            "numeric": ["42", "7"],
            "choice": ["B", "A"],
            "regex": ["Paris", "Tokyo"],
            "set": ["a, b", "c"],
        }[mode]
        files["solutions.jsonl"] = jsonl(
            *({"task_id": t["id"], "response": r} for t, r in zip(tasks, refs, strict=False))
        )
        files["negatives.jsonl"] = jsonl(
            *({"task_id": t["id"], "response": "wrong"} for t in tasks)
        )

    return apply


NUMERIC_TASKS = [
    {"id": "n1", "prompt": "Six times seven? Reply with the number only.", "answer": 42},
    {"id": "n2", "prompt": "Three plus four? Reply with the number only.", "answer": 7},
]
CHOICE_TASKS = [
    {
        "id": "c1",
        "prompt": "Capital of France?",
        "choices": ["Lyon", "Paris", "Nice"],
        "answer": "B",
    },
    {"id": "c2", "prompt": "Capital of Japan?", "choices": ["Tokyo", "Kyoto"], "answer": "A"},
]
REGEX_TASKS = [
    {"id": "r1", "prompt": "Capital of France?", "answer": "(?i)paris"},
    {"id": "r2", "prompt": "Capital of Japan?", "answer": "(?i)tokyo"},
]
SET_TASKS = [
    {"id": "s1", "prompt": "Name the first two letters.", "answer": ["a", "b"]},
    {"id": "s2", "prompt": "Name the third letter.", "answer": ["c"]},
]


def write_files(root: Path, files: dict[str, str | bytes | None]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        if content is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root
