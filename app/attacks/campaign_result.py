"""What an attack campaign found: hits (confirmed or not), answer leaks through feedback,
per-category counts, and the summary that goes into the stage's details."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.attacks.model import CATEGORIES, Candidate


@dataclass(slots=True)
class TaskScores:
    reference: float | None  # best reference reward (None: the task has no reference)
    baseline: float  # best reward of a plain wrong answer
    # rubric graders: criterion -> its best score on known-wrong answers (app/attacks/rubric_hits)
    criteria_baseline: dict[str, float] = field(default_factory=dict)
    criteria_checked: bool = False  # the package's negatives of the task were among them


@dataclass(slots=True)
class Hit:
    candidate: Candidate
    reward: float
    baseline: float
    reference: float | None
    pass_threshold: float
    feedback: str = ""
    runs: list[bool] = field(default_factory=list)  # one per confirmation run
    rewards: list[float] = field(default_factory=list)
    note: str = ""  # why it was set aside, when it was
    idea: str = ""  # the LLM's one-line description of its exploit
    # rubric graders: the criteria the response moved above their negative baseline -> score
    criteria_moved: dict[str, float] = field(default_factory=dict)
    criteria: dict[str, float | None] = field(default_factory=dict)  # every criterion's score
    criteria_baseline: dict[str, float] = field(default_factory=dict)
    # multi-turn: the replayed conversation (an excerpt) of a run that reproduced the hit
    conversation: list[dict] = field(default_factory=list)

    @property
    def full_reward(self) -> bool:
        return self.reward >= self.pass_threshold

    @property
    def reproduced(self) -> int:
        return sum(self.runs)


@dataclass(slots=True)
class CategoryStats:
    attacks: int = 0
    candidates: int = 0
    candidate_hits: int = 0
    confirmed: int = 0
    unconfirmed: int = 0
    assumed: int = 0  # confirmed, but wrong only under an unstated assumption (GX310)

    def to_dict(self) -> dict[str, int]:
        return {
            "attacks": self.attacks,
            "candidates": self.candidates,
            "candidate_hits": self.candidate_hits,
            "confirmed": self.confirmed,
            "unconfirmed": self.unconfirmed,
            "assumed": self.assumed,
        }


@dataclass(slots=True)
class FeedbackLeak:
    task_id: str
    answer: str
    where: str  # "feedback" | "metrics"
    excerpt: str


@dataclass(slots=True)
class CampaignResult:
    confirmed: list[Hit] = field(default_factory=list)
    unconfirmed: list[Hit] = field(default_factory=list)
    feedback_leaks: list[FeedbackLeak] = field(default_factory=list)
    categories: dict[str, CategoryStats] = field(
        default_factory=lambda: {c: CategoryStats() for c in CATEGORIES}
    )
    tasks_total: int = 0
    tasks_attacked: int = 0
    skipped_tasks: dict[str, str] = field(default_factory=dict)  # task id -> why
    gradings: int = 0
    batches: int = 0
    dropped_possibly_correct: int = 0
    scores: dict[str, TaskScores] = field(default_factory=dict)
    llm: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "tasks_total": self.tasks_total,
            "tasks_attacked": self.tasks_attacked,
            "gradings": self.gradings,
            "sandbox_batches": self.batches,
            "confirmed_hits": sum(1 for h in self.confirmed if not h.candidate.assumption),
            "assumed_hits": sum(1 for h in self.confirmed if h.candidate.assumption),
            "unconfirmed_hits": len(self.unconfirmed),
            "dropped_possibly_correct": self.dropped_possibly_correct,
            "categories": {c: s.to_dict() for c, s in self.categories.items()},
            "skipped_tasks": dict(self.skipped_tasks),
            "unconfirmed": [
                {
                    "attack": h.candidate.attack_id,
                    "category": h.candidate.category,
                    "task_id": h.candidate.task_id,
                    "reproduced": f"{h.reproduced}/{len(h.runs)}",
                    "note": h.note,
                }
                for h in self.unconfirmed
            ],
        }
