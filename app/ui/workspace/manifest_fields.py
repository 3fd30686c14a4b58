"""The settings the env.toml form shows: for each, its key, label, kind of input, a plain
explanation, its default, and when it applies (some only matter for one grader or mode).

Plain data, no Qt: `manifest_widgets` makes the inputs and `manifest_form` lays them out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.envpack.manifest_edit import ManifestDocument
from app.envpack.model import (
    AGENT_NETWORK_MODES,
    GRADER_TYPES,
    KINDS,
    MATCH_MODES,
    NORMALIZATIONS,
    VERIFIER_MODES,
    AgentSpec,
    GraderSpec,
    SandboxSpec,
    VerifierSpec,
)

_DEFAULT_GRADER = GraderSpec()
_DEFAULT_SANDBOX = SandboxSpec()
_DEFAULT_AGENT = AgentSpec()
_DEFAULT_VERIFIER = VerifierSpec()

KIND_HELP = {
    "qa": "The model answers in text (a number, a word, a choice, a paragraph).",
    "code": "The model answers with program code, which is run against the task's test cases.",
    "agentic": (
        "An agent works on each task in a container; the task's tests/test.sh writes the reward."
    ),
    "multi-turn": (
        "A conversation: the model talks with a scripted or simulated user and may call the "
        "tools in tools.py; your grader scores the whole trajectory."
    ),
}
GRADER_HELP = {
    "match": 'Compare the response with each task\'s "answer" — no code to write.',
    "python": "Your own grade(task, response) function in a Python file decides the score.",
    "judge": "An AI model scores the response following your rubric (needs an API key).",
    "tests": "Run the submitted code against each task's test cases (for kind = code).",
    "verifier": "Each task's tests/test.sh checks the agent's work and writes the reward.",
    "rubric": "Several criteria, each a function of your grader file or a question for an AI "
    "judge, combined into one reward; write them as [[grader.criteria]] in env.toml.",
}
AGENT_NETWORK_HELP = {
    "none": "No network while the agent works: everything it needs is in the image.",
    "allowlist": "Only HTTP and HTTPS to the hosts listed below, through a proxy; no DNS, "
    "nothing else.",
}
VERIFIER_MODE_HELP = {
    "separate": "The tests run in a fresh container with a copy of the agent's work (safer).",
    "shared": "The tests run in the agent's own container afterwards, as Harbor does; an agent "
    "can tamper with what they rely on.",
}
MODE_HELP = {
    "exact": "The response must equal the answer (after the normalisations below).",
    "numeric": "The response must be a number close to the answer (see tolerance).",
    "choice": 'The response must name the right option among the task\'s "choices".',
    "regex": "The task's answer is a regular expression the whole response must match.",
    "set": "A list of items in any order must match the answer's items.",
    "json": "The response must be JSON equal to the answer (key order does not matter).",
}
NORMALIZE_HELP = {
    "case": "ignore upper/lower case",
    "whitespace": "ignore extra spaces and line breaks",
    "unicode": "treat look-alike characters the same (NFKC)",
    "punctuation": "ignore punctuation",
}
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "kind": {
        "qa": "qa — a text answer",
        "code": "code — a program",
        "agentic": "agentic — an agent works in a container",
        "multi-turn": "multi-turn — a conversation, with tools",
    },
    "grader.type": {
        "match": "match — compare with the answer",
        "python": "python — my own grading function",
        "judge": "judge — an AI model with my rubric",
        "tests": "tests — run the code against test cases",
        "verifier": "verifier — each task's tests/test.sh",
        "rubric": "rubric — several weighted criteria",
    },
    "agent.network": {"none": "none — no network", "allowlist": "allowlist — listed hosts only"},
    "verifier.mode": {
        "separate": "separate — a fresh container (safer)",
        "shared": "shared — the agent's own container",
    },
    "grader.mode": {
        "exact": "exact — same text",
        "numeric": "numeric — a number within a tolerance",
        "choice": "choice — one of the options",
        "regex": "regex — matches a pattern",
        "set": "set — the same items in any order",
        "json": "json — the same JSON value",
    },
}
COMMON_LICENSES = ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "MIT", "Apache-2.0"]


@dataclass
class FieldSpec:
    key: str
    label: str
    kind: str  # text | multiline | choice | float | int | list | range | flags | license
    help: str = ""
    choices: tuple[str, ...] = ()
    choice_help: dict[str, str] = field(default_factory=dict)
    default: Any = None
    minimum: float = 0.0
    maximum: float = 1e9
    decimals: int = 2
    shown: Callable[[ManifestDocument], bool] = lambda doc: True


def _grader(doc: ManifestDocument) -> str:
    return str(doc.get("grader.type", _DEFAULT_GRADER.type))


def _mode(doc: ManifestDocument) -> str:
    return str(doc.get("grader.mode", _DEFAULT_GRADER.mode))


def _agentic(doc: ManifestDocument) -> bool:
    """An agentic package has task folders, an agent phase and a verifier phase instead."""
    return doc.get("kind", "qa") == "agentic"


# Only for kind = "agentic" (DESIGN §4.1); the form hides a section none of whose fields apply.
AGENT_SECTION: tuple[str, str, list[FieldSpec]] = (
    "Agent and verifier",
    (
        "Each task runs in two phases: the agent works on it in a container, then the "
        "task's tests check the result and write the reward."
    ),
    [
        FieldSpec(
            "agent.timeout_s",
            "Time limit for the agent (s)",
            "float",
            "An agent still working after this is stopped; its work is graded as it is.",
            default=_DEFAULT_AGENT.timeout_s,
            minimum=1,
            maximum=86_400,
            decimals=0,
            shown=_agentic,
        ),
        FieldSpec(
            "agent.network",
            "Network for the agent",
            "choice",
            choices=AGENT_NETWORK_MODES,
            choice_help=AGENT_NETWORK_HELP,
            default=_DEFAULT_AGENT.network,
            shown=_agentic,
        ),
        FieldSpec(
            "agent.hosts",
            "Allowed hosts",
            "list",
            "Comma-separated host names (ports 80 and 443), *.domain for its subdomains, "
            "name:port for another port, e.g. pypi.org, *.pythonhosted.org.",
            default=[],
            shown=lambda d: _agentic(d) and d.get("agent.network") == "allowlist",
        ),
        FieldSpec(
            "verifier.timeout_s",
            "Time limit for the tests (s)",
            "float",
            "Tests still running after this are stopped; the run is reported as timed out.",
            default=_DEFAULT_VERIFIER.timeout_s,
            minimum=1,
            maximum=86_400,
            decimals=0,
            shown=_agentic,
        ),
        FieldSpec(
            "verifier.mode",
            "Where the tests run",
            "choice",
            choices=VERIFIER_MODES,
            choice_help=VERIFIER_MODE_HELP,
            default=_DEFAULT_VERIFIER.mode,
            shown=_agentic,
        ),
    ],
)

SECTIONS: list[tuple[str, str, list[FieldSpec]]] = [
    (
        "What the model must do",
        "",
        [
            FieldSpec(
                "kind",
                "Kind of answer",
                "choice",
                choices=KINDS,
                choice_help=KIND_HELP,
                default="qa",
            ),
        ],
    ),
    (
        "How answers are graded",
        (
            "The grader turns a response into a reward. "
            "It must give full marks to the reference answers and nothing to wrong ones."
        ),
        [
            FieldSpec(
                "grader.type",
                "Grader",
                "choice",
                choices=GRADER_TYPES,
                choice_help=GRADER_HELP,
                default=_DEFAULT_GRADER.type,
            ),
            FieldSpec(
                "grader.mode",
                "Comparison",
                "choice",
                choices=MATCH_MODES,
                choice_help=MODE_HELP,
                default=_DEFAULT_GRADER.mode,
                shown=lambda d: _grader(d) == "match",
            ),
            FieldSpec(
                "grader.tolerance",
                "Tolerance (relative)",
                "float",
                (
                    "How far a number may be from the answer, as a fraction of it: "
                    "0.001 accepts 50.04 for 50, not 50.1."
                ),
                default=_DEFAULT_GRADER.tolerance,
                maximum=1.0,
                decimals=9,
                shown=lambda d: _grader(d) == "match" and _mode(d) == "numeric",
            ),
            FieldSpec(
                "grader.normalize",
                "Before comparing",
                "flags",
                choices=tuple(NORMALIZATIONS),
                choice_help=NORMALIZE_HELP,
                default=list(_DEFAULT_GRADER.normalize),
                shown=lambda d: _grader(d) == "match" and _mode(d) in ("exact", "choice", "set"),
            ),
            FieldSpec(
                "grader.entry",
                "Grader function",
                "text",
                (
                    "file.py:function, e.g. grader.py:grade. "
                    "It receives the task and the response and returns a reward."
                ),
                default=_DEFAULT_GRADER.entry,
                shown=lambda d: _grader(d) == "python",
            ),
            FieldSpec(
                "grader.model",
                "Judge model",
                "text",
                (
                    "Any model name LiteLLM understands, e.g. "
                    "openai/gpt-4o-mini. Set its key in Settings."
                ),
                default=_DEFAULT_GRADER.model,
                shown=lambda d: _grader(d) == "judge",
            ),
            FieldSpec(
                "grader.rubric",
                "Rubric file",
                "text",
                "The Markdown file that tells the judge how to score.",
                default=_DEFAULT_GRADER.rubric,
                shown=lambda d: _grader(d) == "judge",
            ),
            FieldSpec(
                "grader.reward_range",
                "Reward range",
                "range",
                "Lowest and highest reward. Wrong answers must get the lowest.",
                default=list(_DEFAULT_GRADER.reward_range),
                minimum=-1e6,
                maximum=1e6,
            ),
            FieldSpec(
                "grader.pass_threshold",
                "Pass threshold",
                "float",
                (
                    "A response scoring at least this counts as solved. "
                    "Every reference answer must reach it."
                ),
                default=_DEFAULT_GRADER.pass_threshold,
                minimum=-1e6,
                maximum=1e6,
                decimals=3,
            ),
            FieldSpec(
                "grader.timeout_s",
                "Time limit per answer (s)",
                "float",
                "Grading one response longer than this counts as a failure.",
                default=_DEFAULT_GRADER.timeout_s,
                minimum=0.1,
                maximum=3600,
                decimals=1,
                shown=lambda d: not _agentic(d),
            ),
        ],
    ),
    AGENT_SECTION,
    (
        "About this environment",
        "Shown to reviewers and on the platform.",
        [
            FieldSpec(
                "package.title",
                "Title",
                "text",
                "A short human title, e.g. \u201cEnzyme kinetics calculations\u201d.",
            ),
            FieldSpec(
                "package.name",
                "Package name",
                "text",
                (
                    "owner/name in lower case, e.g. \u201cacme/enzyme-kinetics\u201d. "
                    "It identifies the package on the platform."
                ),
            ),
            FieldSpec(
                "package.version",
                "Version",
                "text",
                "Three numbers, e.g. 0.1.0. Raise it when you resubmit.",
            ),
            FieldSpec(
                "package.description",
                "Description",
                "multiline",
                "What the environment teaches and what a good answer looks like.",
            ),
            FieldSpec(
                "package.authors",
                "Authors",
                "list",
                "Comma-separated, e.g. Ada Lovelace <ada@example.org>.",
            ),
            FieldSpec(
                "package.license",
                "License",
                "license",
                "Under which terms labs may use your tasks.",
            ),
            FieldSpec(
                "package.tags", "Tags", "list", "Comma-separated keywords, e.g. biology, kinetics."
            ),
            FieldSpec(
                "package.bounty",
                "Bounty",
                "text",
                "The bounty this environment answers (filled in when you start from a bounty).",
            ),
        ],
    ),
    (
        "Files",
        "Where the tasks and example answers live, relative to this folder.",
        [
            FieldSpec(
                "tasks.path",
                "Tasks",
                "text",
                "One task per line (JSON Lines).",
                default="tasks.jsonl",
                shown=lambda d: not _agentic(d),
            ),
            FieldSpec(
                "solutions.path",
                "Reference answers",
                "text",
                "Correct answers that must get full marks.",
                default="solutions.jsonl",
                shown=lambda d: not _agentic(d),
            ),
            FieldSpec(
                "negatives.path",
                "Known-wrong answers",
                "text",
                "Wrong answers that must get the lowest reward.",
                default="negatives.jsonl",
                shown=lambda d: not _agentic(d),
            ),
        ],
    ),
    (
        "Sandbox",
        "Graders run in an isolated container with no network access.",
        [
            FieldSpec(
                "sandbox.cpus",
                "CPUs",
                "float",
                "Processor cores the grader may use.",
                default=_DEFAULT_SANDBOX.cpus,
                minimum=0.1,
                maximum=64,
                decimals=1,
            ),
            FieldSpec(
                "sandbox.memory_mb",
                "Memory (MB)",
                "int",
                "Memory limit; a grader that needs more is stopped.",
                default=_DEFAULT_SANDBOX.memory_mb,
                minimum=64,
                maximum=65536,
            ),
            FieldSpec(
                "sandbox.disk_mb",
                "Disk (MB)",
                "int",
                "Writable space for each phase (the work folder, /tmp and the logs).",
                default=_DEFAULT_SANDBOX.disk_mb,
                minimum=16,
                maximum=1_048_576,
                shown=_agentic,
            ),
            FieldSpec(
                "sandbox.image",
                "Container image",
                "text",
                "Leave empty for the app's standard Python image.",
                default="",
            ),
        ],
    ),
]
ALL_FIELDS = {spec.key: spec for _, _, specs in SECTIONS for spec in specs}
