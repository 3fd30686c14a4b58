"""The catalogue of finding codes (GX1xx structure, GX2xx verify, GX3xx attack, GX4xx calibrate).

A code always has the same stage, severity, title and default fix hint, wherever it is emitted.
docs/checks.md, verification.md, attacks.md and calibrate.md explain each code under a heading
`### GXnnn — title (severity)`; tests/test_finding_catalogue.py keeps them in step with this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.finding_codes_agentic import AGENTIC_CODES
from app.finding_codes_calibrate import CALIBRATE_CODES
from app.finding_codes_multiturn import MULTITURN_CODES
from app.finding_codes_multiturn_attacks import MULTITURN_ATTACK_CODES
from app.finding_codes_rubric import RUBRIC_CODES
from app.findings import Finding, Severity, Stage


@dataclass(frozen=True, slots=True)
class FindingCode:
    code: str  # stable, e.g. "GX101"
    stage: Stage  # the stage that owns the code (GX1xx structure, GX2xx verify, GX3xx attack)
    severity: Severity  # the usual severity; a finding may raise or lower it (GX305)
    title: str  # short name, shown in docs and the UI's problem list
    hint: str  # default one-line fix hint; a finding may give a more specific one

    def finding(
        self,
        message: str,
        hint: str | None = None,
        *,
        severity: Severity | None = None,
        stage: Stage | None = None,
        **where: Any,
    ) -> Finding:
        """A finding of this code; `stage` when another stage reports it (GX214 in stage 3)."""
        return Finding(
            code=self.code,
            severity=self.severity if severity is None else severity,
            stage=self.stage if stage is None else stage,
            message=message,
            hint=self.hint if hint is None else hint,
            **where,
        )


@dataclass(slots=True)
class FindingSink:
    """Collects one stage's findings, each made from its catalogue entry."""

    stage: Stage
    findings: list[Finding] = field(default_factory=list)

    def report(self, code: str, message: str, hint: str | None = None, **where: Any) -> Finding:
        finding = CATALOGUE[code].finding(message, hint, stage=self.stage, **where)
        self.findings.append(finding)
        return finding


def _codes(stage: Stage, *entries: tuple[str, Severity, str, str]) -> list[FindingCode]:
    return [
        FindingCode(code, stage, severity, title, hint) for code, severity, title, hint in entries
    ]


E, W = Severity.ERROR, Severity.WARNING
_DEEPER = "Raise --budget-usd (or the attempt limit) for a deeper search."
_DOCTOR_AGAIN = "Run `gauntlet sandbox doctor`, then run the attacks again."

# -- stage 1: structural checks (docs/checks.md) ------------------------------------------------
_STRUCTURE = _codes(
    Stage.STRUCTURE,
    # -- the manifest (env.toml) -------------------------------------------------------------
    (
        "GX100",
        E,
        "env.toml missing",
        "Create env.toml at the package root (`gauntlet new DIR --template qa-exact` makes one).",
    ),
    (
        "GX101",
        E,
        "TOML syntax error",
        "Fix the TOML syntax on the line shown (quotes, brackets, `key = value`).",
    ),
    ("GX102", E, "unsupported schema", 'Start env.toml with `schema = "gauntlet/1"`.'),
    ("GX103", E, "unknown key", "Remove the key or correct its spelling."),
    ("GX104", E, "wrong value type", "Give the value the type shown in docs/format.md."),
    ("GX105", E, "invalid choice", "Use one of the allowed values listed in the message."),
    ("GX106", E, "required value missing", "Add the missing key to env.toml."),
    # -- package metadata --------------------------------------------------------------------
    (
        "GX110",
        E,
        "bad package name",
        'Name the package "owner/name" in lower case, e.g. "acme/enzyme-kinetics".',
    ),
    ("GX111", E, "bad version", 'Use a semantic version such as "0.1.0".'),
    (
        "GX112",
        E,
        "license missing",
        'Set package.license to an SPDX identifier such as "CC-BY-4.0" or "MIT".',
    ),
    (
        "GX113",
        W,
        "README missing",
        "Add README.md: what the environment teaches and how it is graded.",
    ),
    (
        "GX114",
        W,
        "unrecognised license",
        "Use an SPDX identifier (https://spdx.org/licenses/), e.g. CC-BY-4.0.",
    ),
    (
        "GX115",
        W,
        "title or description empty",
        "Give the package a title and a one-paragraph description.",
    ),
    # -- files -------------------------------------------------------------------------------
    ("GX120", E, "file missing", "Create the file or point the manifest at the right path."),
    (
        "GX121",
        E,
        "not UTF-8 text",
        "Save the file as UTF-8 text (binary files do not belong in a package).",
    ),
    (
        "GX122",
        E,
        "file too large",
        "Keep package files small; split data or move large assets out of the package.",
    ),
    ("GX123", E, "symbolic link", "Replace the link with a real file inside the package."),
    (
        "GX124",
        E,
        "path leaves the package",
        "Use a relative path inside the package folder (no `..`, no absolute paths).",
    ),
    ("GX125", W, "file empty", "Add records to the file or remove it from the manifest."),
    # -- environment/Dockerfile (built offline, on top of the sandbox image only) ------------
    (
        "GX126",
        E,
        "Dockerfile not built on the sandbox image",
        "Start with `ARG GAUNTLET_BASE` and `FROM ${GAUNTLET_BASE}`; other base images are "
        "never pulled or built.",
    ),
    (
        "GX127",
        E,
        "Dockerfile takes files from another image",
        "Put the files in environment/ and COPY them; `--from=` may only name an earlier "
        "stage of this Dockerfile.",
    ),
    (
        "GX128",
        W,
        "Dockerfile step needs the network",
        "The image is built with no network: put wheels or files in environment/ and install "
        "them offline (`pip install --no-index --find-links wheels/ ...`).",
    ),
    # -- JSONL records -----------------------------------------------------------------------
    (
        "GX130",
        E,
        "JSONL syntax error",
        "Each line must be one complete JSON object; fix the JSON on this line.",
    ),
    ("GX131", E, "record is not an object", 'Write each line as an object: {"id": "t1", ...}.'),
    ("GX132", E, "required field missing", "Add the missing field to this record."),
    ("GX133", E, "field has the wrong type", "Give the field the type shown in docs/format.md."),
    ("GX134", E, "duplicate task id", "Give every task a unique id."),
    ("GX135", E, "empty prompt", "Write the question the model must answer in `prompt`."),
    ("GX136", W, "unknown field", "Remove the field or correct its spelling."),
    (
        "GX137",
        E,
        "bad task id",
        "Use letters, digits, `-`, `_` or `.` in task ids (no spaces), at most 64 characters.",
    ),
    ("GX138", E, "no tasks", "Add at least one task to the tasks file."),
    ("GX139", W, "field written twice", "Keep one copy of the field; only the last one counts."),
    # -- references and negatives ------------------------------------------------------------
    ("GX140", E, "reference for unknown task", "Fix the task_id or add the task."),
    (
        "GX141",
        E,
        "task without a reference",
        "Add a reference response for this task to the solutions file.",
    ),
    ("GX142", E, "negative for unknown task", "Fix the task_id or add the task."),
    ("GX143", E, "empty reference response", "Write the full correct response in `response`."),
    (
        "GX144",
        E,
        "negative equals a reference",
        "A response cannot be both correct and wrong; change or remove the negative.",
    ),
    (
        "GX145",
        W,
        "no negatives",
        (
            "Add known-wrong responses (negatives.jsonl) "
            "so the funnel can check the grader rejects them."
        ),
    ),
    ("GX146", W, "duplicate record", "Remove the repeated record."),
    # -- grader configuration ----------------------------------------------------------------
    (
        "GX150",
        E,
        "answer missing",
        "Add an `answer` to the task: the match grader compares responses against it.",
    ),
    (
        "GX151",
        E,
        "pass_threshold outside reward_range",
        "Set pass_threshold between the two reward_range bounds.",
    ),
    (
        "GX152",
        E,
        "bad reward_range",
        "Use two finite numbers, low < high, e.g. reward_range = [0.0, 1.0].",
    ),
    (
        "GX153",
        E,
        "invalid regular expression",
        "Fix the pattern (Python `re` syntax); test it on the reference first.",
    ),
    (
        "GX154",
        E,
        "invalid tolerance",
        "Use a small non-negative relative tolerance, e.g. tolerance = 1e-6.",
    ),
    (
        "GX155",
        E,
        "invalid choices",
        (
            "Give the task a list of distinct option texts in `choices` and "
            'an answer that is one of them or its letter ("A", "B", ...).'
        ),
    ),
    (
        "GX156",
        E,
        "answer has the wrong type for the mode",
        "Write the answer in the form the grader mode expects (see docs/format.md).",
    ),
    ("GX157", E, "bad timeout", "Use a timeout between 0.1 and 600 seconds."),
    (
        "GX158",
        E,
        "judge incomplete",
        "Set grader.model to a litellm model string and write the rubric file.",
    ),
    (
        "GX159",
        E,
        "grader does not fit the kind",
        (
            'Use grader.type = "tests" or "python" for kind = "code", '
            'and "match", "python" or "judge" for kind = "qa".'
        ),
    ),
    (
        "GX160",
        W,
        "setting has no effect",
        "Remove the setting; it only applies to another grader type or mode.",
    ),
    (
        "GX161",
        E,
        "bad sandbox limits",
        'Use cpus between 0.1 and 16, memory_mb between 64 and 16384, network = "none".',
    ),
    # -- python grader -----------------------------------------------------------------------
    ("GX170", E, "grader syntax error", "Fix the Python syntax error on the line shown."),
    (
        "GX171",
        E,
        "grader entry missing",
        "Define the function named in grader.entry at the top level of the grader file.",
    ),
    (
        "GX172",
        E,
        "grader entry is not a function",
        "Make the entry a plain `def` function at the top level.",
    ),
    (
        "GX173",
        E,
        "grader entry has the wrong signature",
        "Write it as `def grade(task: dict, response: str) -> float | dict:`.",
    ),
    (
        "GX174",
        E,
        "bad grader.entry",
        'Write grader.entry as "file.py:function", e.g. "grader.py:grade".',
    ),
    (
        "GX175",
        W,
        "grader uses the network",
        "Graders run without network; compute the reward from the task and response alone.",
    ),
    (
        "GX176",
        W,
        "grader starts processes",
        "Do not run commands from the grader; compute the reward in Python.",
    ),
    (
        "GX177",
        W,
        "unseeded randomness in grader",
        "Make the grader deterministic: remove randomness or use random.Random(fixed_seed).",
    ),
    ("GX178", W, "wall-clock in grader", "Do not let the reward depend on the time or date."),
    (
        "GX179",
        W,
        "grader executes dynamic code",
        "Do not call eval/exec on the response; parse it (json, ast.literal_eval, float).",
    ),
    # -- code tasks --------------------------------------------------------------------------
    (
        "GX180",
        E,
        "code task without entry",
        'Name the function the response must define in `entry`, e.g. "entry": "solve".',
    ),
    (
        "GX181",
        E,
        "code task without tests",
        'Give the task a non-empty `tests` list: [{"args": [...], "expected": ...}].',
    ),
    (
        "GX182",
        E,
        "malformed test case",
        'Write each test case as {"args": [...], "expected": ...} (optional "kwargs": {...}).',
    ),
    # -- leakage -----------------------------------------------------------------------------
    (
        "GX190",
        W,
        "answer appears in the prompt",
        "Remove the answer from the prompt, or the model can copy it without solving the task.",
    ),
    (
        "GX191",
        W,
        "prompt reveals the tests",
        "Do not paste the hidden test cases into the prompt; describe the behaviour instead.",
    ),
    # -- the checker itself ------------------------------------------------------------------
    (
        "GX199",
        W,
        "check stopped early",
        "This is a bug in Gauntlet Studio; the other checks still ran. Please report it.",
    ),
)

# -- stage 2: sandboxed verification (docs/verification.md) -------------------------------------
_VERIFY = _codes(
    Stage.VERIFY,
    (
        "GX200",
        E,
        "no sandbox to grade in",
        "run `gauntlet sandbox doctor` for a full diagnosis and follow its advice",
    ),
    (
        "GX201",
        E,
        "a reference does not reach the pass threshold",
        (
            "fix the reference solution, or the grader if the reference is right; "
            "a task nobody can pass teaches nothing"
        ),
    ),
    (
        "GX202",
        E,
        "a negative scores above the floor",
        "make the grader stricter: a wrong answer must get the lowest reward",
    ),
    (
        "GX203",
        E,
        "the empty response scores above the floor",
        (
            "the grader rewards saying nothing: "
            "check for an empty or blank response first and return the floor"
        ),
    ),
    (
        "GX204",
        E,
        "the grader returned an invalid reward",
        (
            'return a plain float inside reward_range (or {"reward": '
            "float, ...}); never NaN, inf, a bool or None"
        ),
    ),
    (
        "GX205",
        E,
        "the grader raised an exception",
        (
            "fix the error shown in the traceback; "
            "a grader must handle any response, even a hostile one, without raising"
        ),
    ),
    (
        "GX206",
        E,
        "the grader timed out",
        (
            "make the grader faster or raise grader.timeout_s in env.toml; "
            "a response must never make grading hang"
        ),
    ),
    (
        "GX207",
        E,
        "the grader crashed",
        (
            "the grading process died: check memory use (sandbox.memory_mb), "
            "recursion depth, and calls such as os._exit"
        ),
    ),
    (
        "GX208",
        E,
        "the grader produced too much output",
        "print less: the sandbox stops a grading after 1 MiB of output",
    ),
    (
        "GX209",
        E,
        "the grader is flaky",
        (
            "make the grader deterministic: seed random generators, "
            "do not depend on time, set order, the network or files it writes"
        ),
    ),
    (
        "GX210",
        W,
        "a task is slow to grade",
        (
            "slow grading makes training expensive and risks "
            "timeouts under load; precompute what you can"
        ),
    ),
    (
        "GX211",
        W,
        "graded with the weaker process backend",
        "install Docker and run again for full isolation (`gauntlet sandbox doctor`)",
    ),
    (
        "GX212",
        E,
        "the LLM judge could not be asked",
        (
            "set the model in env.toml [grader] model and add its API "
            "key in Settings (or the provider's environment variable)"
        ),
    ),
    (
        "GX213",
        E,
        "the sandbox failed",
        "run `gauntlet sandbox doctor`; if it reports no problem, run again",
    ),
    (
        "GX214",
        E,
        "the grader does not answer",
        (
            "call grade() by hand on one task and response and make it return well within "
            "timeout_s: look for endless loops, waits on input or the network (there is none in "
            "the sandbox), long sleeps, and calls that end the process (os._exit, sys.exit, "
            "signals, the memory limit)"
        ),
    ),
)

# -- stage 3: attacks (docs/attacks.md) ---------------------------------------------------------
_ATTACK = _codes(
    Stage.ATTACK,
    (
        "GX301",
        E,
        "reward hack reaches the pass threshold",
        (
            "Make the grader reject the response (parse one answer strictly, compare "
            "type-strictly, never execute or trust the response), then add the response to "
            "negatives.jsonl so stage 2 checks it on every run."
        ),
    ),
    (
        "GX302",
        E,
        "reward hack earns partial credit",
        (
            "Make the grader give a wrong response no more than a plain wrong answer, then add "
            "the response to negatives.jsonl so stage 2 checks it on every run."
        ),
    ),
    (
        "GX303",
        Severity.INFO,
        "unconfirmed candidate hit",
        (
            "A grader that rewards a response only sometimes is flaky; "
            "make grading deterministic (see GX2xx)."
        ),
    ),
    (
        "GX304",
        W,
        "feedback reveals the answer",
        "Say *that* the answer is wrong (and perhaps why), never what the right answer is.",
    ),
    (
        "GX305",
        Severity.INFO,
        "LLM red team inconclusive",
        ("Try another model (one that accepts authorised security testing) or a larger budget."),
    ),
    ("GX306", W, "LLM red team could not run", "check the model name and its API key"),
    ("GX307", Severity.INFO, "LLM red team stopped at its budget", _DEEPER),
    ("GX308", W, "attack gradings failed in the sandbox", _DOCTOR_AGAIN),
    (
        "GX309",
        W,
        "tasks left out of the attacks",
        (
            "Run `gauntlet verify` (or `gauntlet run`) and fix the references first; "
            "a broken task says nothing about hacks."
        ),
    ),
    (
        "GX310",
        W,
        "possible reward hack, resting on an unstated assumption",
        (
            "If the grader is right to accept this response, state the rule (in the prompt, or "
            "a 'tolerance' / accepted answers in the task); otherwise fix the grader."
        ),
    ),
)

_CALIBRATE = [FindingCode(*entry) for entry in CALIBRATE_CODES]  # finding_codes_calibrate.py
_AGENTIC = [FindingCode(*entry) for entry in AGENTIC_CODES]  # app/finding_codes_agentic.py
_RUBRIC = [FindingCode(*entry) for entry in RUBRIC_CODES]  # app/finding_codes_rubric.py
_MULTITURN = [FindingCode(*entry) for entry in MULTITURN_CODES]  # finding_codes_multiturn.py
# app/finding_codes_multiturn_attacks.py
_MULTITURN_ATTACK = [FindingCode(*entry) for entry in MULTITURN_ATTACK_CODES]
CATALOGUE = {
    entry.code: entry
    for entry in (
        *_STRUCTURE,
        *_VERIFY,
        *_ATTACK,
        *_CALIBRATE,
        *_AGENTIC,
        *_RUBRIC,
        *_MULTITURN,
        *_MULTITURN_ATTACK,
    )
}
