"""What an attack is: a small, readable unit that turns one task into wrong-by-construction
responses, plus the words an expert needs when it succeeds (explanation and fix hint)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.attacks.answer_region import AnswerRegion
from app.envpack.model import EnvPack, Task

CATEGORIES = (
    "answer-format",  # how an answer is written: empty, every option, hedges, near misses
    "parser",  # how the grader reads it: NaN, huge numbers, types, bombs, unicode, eval
    "judge",  # LLM and heuristic judges: master keys, prompt injection, self-scoring
    "code-execution",  # code under test cheating the harness: __eq__, exit, monkeypatching
    "environment",  # the sandbox around the grader: files, variables, streams, cwd
    "leakage",  # getting the answer from somewhere it should not be
    "resource",  # floods, sleeps, crashes that a fail-open grader rewards
)


@dataclass(frozen=True, slots=True)
class AttackContext:
    """Everything a generator may look at for one task (white-box: we are the author's tool)."""

    pack: EnvPack
    task: Task
    references: tuple[str, ...]  # the reference responses for this task
    neighbours: tuple[Task, ...]  # other tasks of the package (for "a neighbour's answer")
    grader_source: str = ""  # python grader source, or the judge rubric; "" when none
    region: AnswerRegion = AnswerRegion()  # where the grader reads the answer (answer_region.py)

    @property
    def kind(self) -> str:
        return self.pack.manifest.kind

    @property
    def grader_type(self) -> str:
        return self.pack.grader.type


# A generator yields (variant, response): `variant` is a short label saying which form was
# tried ("nan", "A B C D"...); it is shown in the report next to the response.
Generator = Callable[[AttackContext], Iterable[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class Attack:
    id: str
    category: str
    title: str
    explanation: str  # what it tries, for the report and docs/attacks.md
    fix_hint: str  # how a domain expert fixes a grader it beats
    kinds: tuple[str, ...]  # env kinds it applies to ("qa", "code")
    graders: tuple[str, ...]  # grader types it targets ("match", "python", "judge", "tests")
    generate: Generator
    # Reference mutations are near misses: partial credit for them can be a deliberate design,
    # so only full reward counts as a hit for them.
    full_reward_only: bool = False
    # Expensive attacks (sleeping, memory) run on a few tasks only.
    max_tasks: int | None = None

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"attack {self.id}: unknown category {self.category!r}")

    def applies_to(self, pack: EnvPack) -> bool:
        graded_as = pack.grader.graded_as
        return pack.manifest.kind in self.kinds and any(g in self.graders for g in graded_as)


def attack(
    id: str,
    category: str,
    *,
    title: str,
    explanation: str,
    fix_hint: str,
    kinds: tuple[str, ...] = ("qa",),
    graders: tuple[str, ...] = ("match", "python", "judge"),
    full_reward_only: bool = False,
    max_tasks: int | None = None,
) -> Callable[[Generator], Attack]:
    """Decorator: turns a generator function into an `Attack` with its metadata."""

    def wrap(generate: Generator) -> Attack:
        return Attack(
            id=id,
            category=category,
            title=title,
            explanation=" ".join(explanation.split()),
            fix_hint=" ".join(fix_hint.split()),
            kinds=kinds,
            graders=graders,
            generate=generate,
            full_reward_only=full_reward_only,
            max_tasks=max_tasks,
        )

    return wrap


@dataclass(frozen=True, slots=True)
class Candidate:
    """One attack response for one task, ready to grade."""

    attack_id: str
    category: str
    task_id: str
    variant: str
    response: str
    full_reward_only: bool = False
    source: str = "library"  # "library" | "llm"
    # Set when the response is wrong only under an assumption the package does not state:
    # its hit is then a warning (GX310) that names the assumption, never an error.
    assumption: str = ""

    @property
    def key(self) -> str:
        return f"attack:{self.attack_id}:{self.task_id}:{self.variant}"
