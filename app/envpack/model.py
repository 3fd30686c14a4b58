"""The `gauntlet/1` environment package as typed, plain-Python data.

This is the contract every layer shares (sandbox, attacks, funnel, sync, ui). Loading with exact
locations lives in `app.envpack.loader`; comment-preserving saving in `app.envpack.manifest_edit`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = "gauntlet/1"
KINDS = ("qa", "code", "agentic", "multi-turn")
# "verifier": an agentic task's own tests/test.sh writes the reward (DESIGN §4.1)
GRADER_TYPES = ("match", "python", "judge", "tests", "verifier", "rubric")
# how a rubric's criterion scores make one reward (DESIGN §4.3, docs/format.md "Rubrics")
COMBINE_MODES = ("weighted-mean", "all-pass", "threshold")
MATCH_MODES = ("exact", "numeric", "choice", "regex", "set", "json")
NORMALIZATIONS = ("case", "whitespace", "unicode", "punctuation")
NETWORK_MODES = ("none",)
AGENT_NETWORK_MODES = ("none", "allowlist")
VERIFIER_MODES = ("separate", "shared")


@dataclass(frozen=True, slots=True)
class Span:
    """Where a value was written: 1-based line and column in a package file."""

    file: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None

    def where(self) -> dict[str, Any]:
        """Keyword arguments for `Finding(...)`/`FindingCode.finding(...)`."""
        return asdict(self)


@dataclass(slots=True)
class PackageInfo:
    name: str = ""
    version: str = "0.1.0"
    title: str = ""
    description: str = ""
    authors: list[str] = field(default_factory=list)
    license: str = ""
    tags: list[str] = field(default_factory=list)
    bounty: str | None = None


@dataclass(slots=True)
class CriterionSpec:
    """One `[[grader.criteria]]` entry of a rubric: a code criterion (`function`, a function of
    the grader module with the python grader's contract) or a judge criterion (`judge` text
    answered with one of `choices`, worst to best, each worth the matching `scores` entry)."""

    name: str
    weight: float = 1.0
    function: str = ""  # "name" (in grader.entry's file) or "file.py:name"
    judge: str = ""
    choices: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)  # empty: evenly spaced floor..ceiling

    @property
    def is_judge(self) -> bool:
        return bool(self.judge) and not self.function

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "weight": self.weight,
            "function": self.function,
            "judge": self.judge,
            "choices": list(self.choices),
            "scores": list(self.scores),
        }


@dataclass(slots=True)
class GraderSpec:
    type: str = "match"
    mode: str = "exact"
    tolerance: float = 1e-6
    normalize: list[str] = field(default_factory=lambda: ["whitespace"])
    entry: str = "grader.py:grade"
    model: str = ""
    rubric: str = "rubric.md"
    reward_range: tuple[float, float] = (0.0, 1.0)
    pass_threshold: float = 1.0
    timeout_s: float = 10.0
    # type = "rubric" only: the criteria and how their scores combine
    combine: str = "weighted-mean"
    threshold: float | None = None  # combine = "threshold": the weighted mean needed to pass
    criteria: list[CriterionSpec] = field(default_factory=list)

    @property
    def is_rubric(self) -> bool:
        return self.type == "rubric"

    @property
    def graded_as(self) -> tuple[str, ...]:
        """The grader types this grader is attacked as: a rubric is Python code and, with judge
        criteria, an LLM judge too."""
        if not self.is_rubric:
            return (self.type,)
        return ("python", "judge") if any(c.is_judge for c in self.criteria) else ("python",)

    def rubric_files(self) -> list[str]:
        """The grader files a rubric's code criteria live in (grader.entry's file first)."""
        files = [self.criterion_function(c)[0] for c in self.criteria if not c.is_judge]
        return list(dict.fromkeys([self.entry_file, *files] if files else []))

    def criterion_function(self, criterion: CriterionSpec) -> tuple[str, str]:
        """(file, function) of a code criterion: its own "file.py:name", else grader.entry's
        file."""
        file, sep, name = criterion.function.rpartition(":")
        return (file if sep else self.entry_file), name

    @property
    def floor(self) -> float:
        return self.reward_range[0]

    @property
    def ceiling(self) -> float:
        return self.reward_range[1]

    @property
    def entry_file(self) -> str:
        return self.entry.partition(":")[0]

    @property
    def entry_function(self) -> str:
        return self.entry.partition(":")[2] or "grade"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "mode": self.mode,
            "tolerance": self.tolerance,
            "normalize": list(self.normalize),
            "entry": self.entry,
            "model": self.model,
            "rubric": self.rubric,
            "reward_range": list(self.reward_range),
            "pass_threshold": self.pass_threshold,
            "timeout_s": self.timeout_s,
        } | (self._rubric_dict() if self.is_rubric else {})

    def _rubric_dict(self) -> dict[str, Any]:
        # only for rubrics: every other grader's dict (and so its sandbox config) is unchanged
        return {
            "combine": self.combine,
            "threshold": self.threshold,
            "criteria": [c.to_dict() for c in self.criteria],
        }


@dataclass(slots=True)
class SandboxSpec:
    image: str = ""
    cpus: float = 1.0
    memory_mb: int = 512
    network: str = "none"
    disk_mb: int = 2048  # agentic: the writable space (workdir, /tmp, logs) of each phase


@dataclass(slots=True)
class AgentSpec:
    """`[agent]`: the agent phase of an agentic task."""

    timeout_s: float = 600.0
    network: str = "none"  # "none" | "allowlist"
    hosts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class VerifierSpec:
    """`[verifier]`: the phase that runs an agentic task's tests/test.sh."""

    timeout_s: float = 120.0
    # "separate": a fresh container with a copy of the agent's workdir (the safe default);
    # "shared": the agent's own container afterwards, as Harbor does (weaker, flagged)
    mode: str = "separate"


@dataclass(slots=True)
class Manifest:
    schema: str = SCHEMA
    kind: str = "qa"
    package: PackageInfo = field(default_factory=PackageInfo)
    tasks_path: str = "tasks.jsonl"
    grader: GraderSpec = field(default_factory=GraderSpec)
    solutions_path: str = "solutions.jsonl"
    negatives_path: str = "negatives.jsonl"
    sandbox: SandboxSpec = field(default_factory=SandboxSpec)
    agent: AgentSpec = field(default_factory=AgentSpec)
    verifier: VerifierSpec = field(default_factory=VerifierSpec)


@dataclass(slots=True)
class AgenticTask:
    """One Harbor-shaped task folder `tasks/<id>/` of an agentic package."""

    id: str
    folder: str  # package-relative, e.g. "tasks/clean-csv"
    instruction: str = ""
    negatives: list[str] = field(default_factory=list)  # names of negatives/<name>.sh
    has_dockerfile: bool = False  # tasks/<id>/environment/Dockerfile overrides the package's

    def path(self, *parts: str) -> str:
        return "/".join((self.folder, *parts))


@dataclass(slots=True)
class Task:
    """One task. `record` is the whole JSON object (choices, tests, entry, metadata...)."""

    id: str
    prompt: str
    answer: Any = None
    record: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    @property
    def choices(self) -> list[str] | None:
        choices = self.record.get("choices")
        return choices if isinstance(choices, list) else None

    @property
    def tests(self) -> list[dict[str, Any]]:
        tests = self.record.get("tests")
        return tests if isinstance(tests, list) else []

    @property
    def entry(self) -> str | None:
        entry = self.record.get("entry")
        return entry if isinstance(entry, str) else None


@dataclass(slots=True)
class Reference:
    """A reference (known-good) response that must reach the pass threshold. In a multi-turn
    package `turns` holds the trajectory and `response` its encoding (app/multiturn/trajectory)."""

    task_id: str
    response: str
    line: int | None = None
    turns: list[dict[str, Any]] | None = None


@dataclass(slots=True)
class Negative:
    """A known-bad response that must score at the floor."""

    task_id: str
    response: str
    note: str = ""
    line: int | None = None
    turns: list[dict[str, Any]] | None = None  # multi-turn: the trajectory (see Reference)


@dataclass(slots=True)
class EnvPack:
    root: Path
    manifest: Manifest
    tasks: list[Task] = field(default_factory=list)
    solutions: list[Reference] = field(default_factory=list)
    negatives: list[Negative] = field(default_factory=list)
    agentic_tasks: list[AgenticTask] = field(default_factory=list)  # kind = "agentic" only
    # "grader.mode" -> where it was written in env.toml (absent keys have no entry)
    locations: dict[str, Span] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.manifest.package.name

    @property
    def grader(self) -> GraderSpec:
        return self.manifest.grader

    @property
    def is_agentic(self) -> bool:
        return self.manifest.kind == "agentic"

    @property
    def is_multi_turn(self) -> bool:
        return self.manifest.kind == "multi-turn"

    def agentic_task(self, task_id: str) -> AgenticTask | None:
        return next((t for t in self.agentic_tasks if t.id == task_id), None)

    def task(self, task_id: str) -> Task | None:
        for task in self.tasks:
            if task.id == task_id:
                return task
        return None

    def references_for(self, task_id: str) -> list[Reference]:
        return [ref for ref in self.solutions if ref.task_id == task_id]

    def where(self, key: str) -> Span:
        """Location of a manifest key, falling back to the file itself."""
        return self.locations.get(key, Span("env.toml"))
