"""A small valid rubric package (grader.type = "rubric", DESIGN §4.3) as a dict of files, and
the broken variants that trigger each rubric structural code (tests/envpack)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from support.envpack_packages import base_files, set_grader

Files = dict

RUBRIC_GRADER = """\
type = "rubric"
entry = "grader.py:exact"
combine = "all-pass"
reward_range = [0.0, 1.0]
pass_threshold = 1.0
timeout_s = 5

[[grader.criteria]]
name = "exact"
weight = 0.7
function = "exact"

[[grader.criteria]]
name = "short"
weight = 0.3
function = "short"
"""

RUBRIC_PY = '''"""Criteria for the capital-city rubric."""


def exact(task: dict, response: str) -> float:
    return 1.0 if response.strip().casefold() == task["answer"].casefold() else 0.0


def short(task: dict, response: str) -> float:
    return 1.0 if 0 < len(response.strip()) <= 40 else 0.0
'''

JUDGED = """
[[grader.criteria]]
name = "polite"
weight = 0.1
judge = "Is the answer free of rude language?"
choices = ["no", "yes"]
"""


def rubric_files(grader: str = RUBRIC_GRADER) -> Files:
    files = base_files()
    set_grader(files, grader)
    files["grader.py"] = RUBRIC_PY
    return files


def _swap(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def change(grader: str) -> str:
        assert old in grader, old
        return grader.replace(old, new, count)

    return change


@dataclass(frozen=True, slots=True)
class RubricCase:
    code: str
    fixed: str  # the [grader] body of the valid package
    breaks: Callable[[str], str]  # the [grader] body that triggers `code`
    marker: str  # the text of the env.toml line the finding must point at (last match wins)
    id: str = ""


WITH_JUDGE = RUBRIC_GRADER.replace("timeout_s = 5", 'timeout_s = 5\nmodel = "openai/gpt-4o-mini"')
WITH_JUDGE += JUDGED
THRESHOLD = RUBRIC_GRADER.replace('combine = "all-pass"', 'combine = "threshold"\nthreshold = 0.9')

RUBRIC_CASES = [
    RubricCase("GX185", RUBRIC_GRADER, _swap('function = "short"', 'function = "brief"'), "brief"),
    RubricCase(
        "GX120",
        RUBRIC_GRADER,
        _swap('function = "short"', 'function = "other.py:short"'),
        "other.py",
        id="GX120-criterion-file",
    ),
    RubricCase("GX186", RUBRIC_GRADER, _swap('name = "short"', 'name = "exact"'), 'name = "exact"'),
    RubricCase("GX187", RUBRIC_GRADER, _swap("weight = 0.3", "weight = 0"), "weight = 0\n"),
    RubricCase(
        "GX187", RUBRIC_GRADER, _swap("weight = 0.3", "weight = -1"), "weight = -1", id="GX187-neg"
    ),
    RubricCase("GX188", WITH_JUDGE, _swap('["no", "yes"]', '["yes"]'), "choices ="),
    RubricCase(
        "GX188",
        WITH_JUDGE,
        _swap('["no", "yes"]', '["no", "yes"]\nscores = [1.0, 0.0]'),
        "scores =",
        id="GX188-scores",
    ),
    RubricCase("GX189", THRESHOLD, _swap("threshold = 0.9", "threshold = 1.5"), "threshold = 1.5"),
    RubricCase(
        "GX189",
        THRESHOLD,
        _swap("\nthreshold = 0.9", ""),
        "combine =",
        id="GX189-missing",
    ),
    RubricCase("GX192", RUBRIC_GRADER, _swap('function = "short"\n', ""), "[[grader.criteria]]"),
    RubricCase(
        "GX192",
        RUBRIC_GRADER,
        lambda g: g[: g.index("\n[[grader.criteria]]")] + "\n",
        'type = "rubric"',
        id="GX192-no-criteria",
    ),
    RubricCase("GX193", WITH_JUDGE, _swap('model = "openai/gpt-4o-mini"\n', ""), 'type = "rubric"'),
]
