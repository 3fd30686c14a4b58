"""The catalogue of structural finding codes (GX1xx): one `Rule` per code.

Every structural finding the loader or a check emits goes through a rule from this table, so a
code always has the same severity, title and default fix hint, and docs/checks.md can be
verified against it (tests/envpack/test_envpack_templates.py,
`test_docs_explain_every_check_code`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.findings import Finding, Severity, Stage


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: Severity
    title: str  # short name, shown in docs and the UI's problem list
    hint: str  # default one-line fix hint; a finding may give a more specific one

    def finding(self, message: str, hint: str | None = None, **where: Any) -> Finding:
        return Finding(
            code=self.code,
            severity=self.severity,
            stage=Stage.STRUCTURE,
            message=message,
            hint=self.hint if hint is None else hint,
            **where,
        )


E, W = Severity.ERROR, Severity.WARNING

_RULES = [
    # -- the manifest (env.toml) -------------------------------------------------------------
    Rule(
        "GX100",
        E,
        "env.toml missing",
        "Create env.toml at the package root (`gauntlet new DIR --template qa-exact` makes one).",
    ),
    Rule(
        "GX101",
        E,
        "TOML syntax error",
        "Fix the TOML syntax on the line shown (quotes, brackets, `key = value`).",
    ),
    Rule("GX102", E, "unsupported schema", 'Start env.toml with `schema = "gauntlet/1"`.'),
    Rule("GX103", E, "unknown key", "Remove the key or correct its spelling."),
    Rule("GX104", E, "wrong value type", "Give the value the type shown in docs/format.md."),
    Rule("GX105", E, "invalid choice", "Use one of the allowed values listed in the message."),
    Rule("GX106", E, "required value missing", "Add the missing key to env.toml."),
    # -- package metadata --------------------------------------------------------------------
    Rule(
        "GX110",
        E,
        "bad package name",
        'Name the package "owner/name" in lower case, e.g. "acme/enzyme-kinetics".',
    ),
    Rule("GX111", E, "bad version", 'Use a semantic version such as "0.1.0".'),
    Rule(
        "GX112",
        E,
        "license missing",
        'Set package.license to an SPDX identifier such as "CC-BY-4.0" or "MIT".',
    ),
    Rule(
        "GX113",
        W,
        "README missing",
        "Add README.md: what the environment teaches and how it is graded.",
    ),
    Rule(
        "GX114",
        W,
        "unrecognised license",
        "Use an SPDX identifier (https://spdx.org/licenses/), e.g. CC-BY-4.0.",
    ),
    Rule(
        "GX115",
        W,
        "title or description empty",
        "Give the package a title and a one-paragraph description.",
    ),
    # -- files -------------------------------------------------------------------------------
    Rule("GX120", E, "file missing", "Create the file or point the manifest at the right path."),
    Rule(
        "GX121",
        E,
        "not UTF-8 text",
        "Save the file as UTF-8 text (binary files do not belong in a package).",
    ),
    Rule(
        "GX122",
        E,
        "file too large",
        "Keep package files small; split data or move large assets out of the package.",
    ),
    Rule("GX123", E, "symbolic link", "Replace the link with a real file inside the package."),
    Rule(
        "GX124",
        E,
        "path leaves the package",
        "Use a relative path inside the package folder (no `..`, no absolute paths).",
    ),
    Rule("GX125", W, "file empty", "Add records to the file or remove it from the manifest."),
    # -- environment/Dockerfile (built offline, on top of the sandbox image only) ------------
    Rule(
        "GX126",
        E,
        "Dockerfile not built on the sandbox image",
        "Start with `ARG GAUNTLET_BASE` and `FROM ${GAUNTLET_BASE}`; other base images are "
        "never pulled or built.",
    ),
    Rule(
        "GX127",
        E,
        "Dockerfile takes files from another image",
        "Put the files in environment/ and COPY them; `--from=` may only name an earlier "
        "stage of this Dockerfile.",
    ),
    Rule(
        "GX128",
        W,
        "Dockerfile step needs the network",
        "The image is built with no network: put wheels or files in environment/ and install "
        "them offline (`pip install --no-index --find-links wheels/ ...`).",
    ),
    # -- JSONL records -----------------------------------------------------------------------
    Rule(
        "GX130",
        E,
        "JSONL syntax error",
        "Each line must be one complete JSON object; fix the JSON on this line.",
    ),
    Rule("GX131", E, "record is not an object", 'Write each line as an object: {"id": "t1", ...}.'),
    Rule("GX132", E, "required field missing", "Add the missing field to this record."),
    Rule(
        "GX133", E, "field has the wrong type", "Give the field the type shown in docs/format.md."
    ),
    Rule("GX134", E, "duplicate task id", "Give every task a unique id."),
    Rule("GX135", E, "empty prompt", "Write the question the model must answer in `prompt`."),
    Rule("GX136", W, "unknown field", "Remove the field or correct its spelling."),
    Rule(
        "GX137",
        E,
        "bad task id",
        "Use letters, digits, `-`, `_` or `.` in task ids (no spaces), at most 64 characters.",
    ),
    Rule("GX138", E, "no tasks", "Add at least one task to the tasks file."),
    Rule(
        "GX139", W, "field written twice", "Keep one copy of the field; only the last one counts."
    ),
    # -- references and negatives ------------------------------------------------------------
    Rule("GX140", E, "reference for unknown task", "Fix the task_id or add the task."),
    Rule(
        "GX141",
        E,
        "task without a reference",
        "Add a reference response for this task to the solutions file.",
    ),
    Rule("GX142", E, "negative for unknown task", "Fix the task_id or add the task."),
    Rule("GX143", E, "empty reference response", "Write the full correct response in `response`."),
    Rule(
        "GX144",
        E,
        "negative equals a reference",
        "A response cannot be both correct and wrong; change or remove the negative.",
    ),
    Rule(
        "GX145",
        W,
        "no negatives",
        (
            "Add known-wrong responses (negatives.jsonl) "
            "so the funnel can check the grader rejects them."
        ),
    ),
    Rule("GX146", W, "duplicate record", "Remove the repeated record."),
    # -- grader configuration ----------------------------------------------------------------
    Rule(
        "GX150",
        E,
        "answer missing",
        "Add an `answer` to the task: the match grader compares responses against it.",
    ),
    Rule(
        "GX151",
        E,
        "pass_threshold outside reward_range",
        "Set pass_threshold between the two reward_range bounds.",
    ),
    Rule(
        "GX152",
        E,
        "bad reward_range",
        "Use two finite numbers, low < high, e.g. reward_range = [0.0, 1.0].",
    ),
    Rule(
        "GX153",
        E,
        "invalid regular expression",
        "Fix the pattern (Python `re` syntax); test it on the reference first.",
    ),
    Rule(
        "GX154",
        E,
        "invalid tolerance",
        "Use a small non-negative relative tolerance, e.g. tolerance = 1e-6.",
    ),
    Rule(
        "GX155",
        E,
        "invalid choices",
        (
            "Give the task a list of distinct option texts in `choices` and "
            'an answer that is one of them or its letter ("A", "B", ...).'
        ),
    ),
    Rule(
        "GX156",
        E,
        "answer has the wrong type for the mode",
        "Write the answer in the form the grader mode expects (see docs/format.md).",
    ),
    Rule("GX157", E, "bad timeout", "Use a timeout between 0.1 and 600 seconds."),
    Rule(
        "GX158",
        E,
        "judge incomplete",
        "Set grader.model to a litellm model string and write the rubric file.",
    ),
    Rule(
        "GX159",
        E,
        "grader does not fit the kind",
        (
            'Use grader.type = "tests" or "python" for kind = "code", '
            'and "match", "python" or "judge" for kind = "qa".'
        ),
    ),
    Rule(
        "GX160",
        W,
        "setting has no effect",
        "Remove the setting; it only applies to another grader type or mode.",
    ),
    Rule(
        "GX161",
        E,
        "bad sandbox limits",
        'Use cpus between 0.1 and 16, memory_mb between 64 and 16384, network = "none".',
    ),
    # -- python grader -----------------------------------------------------------------------
    Rule("GX170", E, "grader syntax error", "Fix the Python syntax error on the line shown."),
    Rule(
        "GX171",
        E,
        "grader entry missing",
        "Define the function named in grader.entry at the top level of the grader file.",
    ),
    Rule(
        "GX172",
        E,
        "grader entry is not a function",
        "Make the entry a plain `def` function at the top level.",
    ),
    Rule(
        "GX173",
        E,
        "grader entry has the wrong signature",
        "Write it as `def grade(task: dict, response: str) -> float | dict:`.",
    ),
    Rule(
        "GX174",
        E,
        "bad grader.entry",
        'Write grader.entry as "file.py:function", e.g. "grader.py:grade".',
    ),
    Rule(
        "GX175",
        W,
        "grader uses the network",
        "Graders run without network; compute the reward from the task and response alone.",
    ),
    Rule(
        "GX176",
        W,
        "grader starts processes",
        "Do not run commands from the grader; compute the reward in Python.",
    ),
    Rule(
        "GX177",
        W,
        "unseeded randomness in grader",
        "Make the grader deterministic: remove randomness or use random.Random(fixed_seed).",
    ),
    Rule("GX178", W, "wall-clock in grader", "Do not let the reward depend on the time or date."),
    Rule(
        "GX179",
        W,
        "grader executes dynamic code",
        "Do not call eval/exec on the response; parse it (json, ast.literal_eval, float).",
    ),
    # -- code tasks --------------------------------------------------------------------------
    Rule(
        "GX180",
        E,
        "code task without entry",
        'Name the function the response must define in `entry`, e.g. "entry": "solve".',
    ),
    Rule(
        "GX181",
        E,
        "code task without tests",
        'Give the task a non-empty `tests` list: [{"args": [...], "expected": ...}].',
    ),
    Rule(
        "GX182",
        E,
        "malformed test case",
        'Write each test case as {"args": [...], "expected": ...} (optional "kwargs": {...}).',
    ),
    # -- leakage -----------------------------------------------------------------------------
    Rule(
        "GX190",
        W,
        "answer appears in the prompt",
        "Remove the answer from the prompt, or the model can copy it without solving the task.",
    ),
    Rule(
        "GX191",
        W,
        "prompt reveals the tests",
        "Do not paste the hidden test cases into the prompt; describe the behaviour instead.",
    ),
    # -- the checker itself ------------------------------------------------------------------
    Rule(
        "GX199",
        W,
        "check stopped early",
        "This is a bug in Gauntlet Studio; the other checks still ran. Please report it.",
    ),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def rule(code: str) -> Rule:
    return RULES[code]
