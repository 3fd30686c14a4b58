"""Request bodies (validated by pydantic; their JSON Schema is in /openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
Markdown = Annotated[str, StringConstraints(max_length=200_000)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
RubricId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Role = Literal["author", "reviewer", "lab", "admin"]
Severity = Literal["blocking", "normal", "nit"]
SubmissionState = Literal[
    "submitted",
    "checking",
    "check_failed",
    "in_review",
    "changes_requested",
    "accepted",
    "rejected",
    "withdrawn",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RubricItem(Strict):
    id: RubricId
    title: ShortText
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    weight: float = Field(default=1.0, ge=0, le=100)
    max_score: int = Field(default=5, ge=1, le=100)


class BountyCreate(Strict):
    title: ShortText
    summary: Annotated[str, StringConstraints(max_length=2000)] = ""
    domain: Annotated[
        str, StringConstraints(min_length=1, max_length=60, strip_whitespace=True, to_lower=True)
    ]
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    reward: int = Field(ge=0, le=1_000_000_000)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    deadline: AwareDatetime
    env_kind: Literal["qa", "code"] = "qa"
    constraints: dict[str, Any] = Field(default_factory=dict)
    brief: Markdown = ""
    rubric: list[RubricItem] = Field(default_factory=list, max_length=30)
    # {metric, comparator, value, model?}, checked by app/calibrate/targets.py
    calibration_targets: list[dict[str, Any]] = Field(default_factory=list, max_length=20)
    status: Literal["open", "draft"] = "open"


class BountyPatch(Strict):
    title: ShortText | None = None
    summary: Annotated[str, StringConstraints(max_length=2000)] | None = None
    domain: (
        Annotated[
            str,
            StringConstraints(min_length=1, max_length=60, strip_whitespace=True, to_lower=True),
        ]
        | None
    ) = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    reward: int | None = Field(default=None, ge=0, le=1_000_000_000)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    deadline: AwareDatetime | None = None
    env_kind: Literal["qa", "code"] | None = None
    constraints: dict[str, Any] | None = None
    brief: Markdown | None = None
    rubric: list[RubricItem] | None = Field(default=None, max_length=30)
    calibration_targets: list[dict[str, Any]] | None = Field(default=None, max_length=20)
    status: Literal["open", "closed", "draft"] | None = None


class BlobBatch(Strict):
    sha256: list[Sha256] = Field(max_length=1000)


class SubmissionCreate(Strict):
    bounty_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class RevisionCreate(Strict):
    files: dict[Annotated[str, StringConstraints(min_length=1, max_length=255)], Sha256] = Field(
        min_length=1
    )
    message: Annotated[str, StringConstraints(max_length=5000)] = ""
    client_report: dict[str, Any] | None = None
    card: Sha256 | None = None  # the uploaded blob of the package's pack card (card.json)


class TransitionRequest(Strict):
    to: SubmissionState
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class AssignReviewer(Strict):
    reviewer_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ThreadCreate(Strict):
    revision: int = Field(ge=1, le=1_000_000)
    path: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    start_line: int | None = Field(default=None, ge=1, le=10_000_000)
    end_line: int | None = Field(default=None, ge=1, le=10_000_000)
    body: Body
    severity: Severity = "normal"
    # The replacement text for the anchored lines (a suggested edit the author can apply).
    suggestion: Annotated[str, StringConstraints(max_length=200_000)] | None = None
    # A row of the revision's tasks.jsonl; without a path the thread anchors to that row.
    task_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class CommentCreate(Strict):
    body: Body
    parent_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None


class ResolveRequest(Strict):
    resolved: bool = True


class ReviewCreate(Strict):
    revision: int = Field(ge=1, le=1_000_000)
    verdict: Literal["approve", "request_changes", "reject", "comment"]
    scores: dict[RubricId, float] = Field(default_factory=dict)
    summary: Annotated[str, StringConstraints(max_length=20_000)] = ""


class UserCreate(Strict):
    name: ShortText
    role: Role
    domains: list[Annotated[str, StringConstraints(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=50
    )
    expires_in_days: float | None = Field(default=None, gt=0, le=3650)


def as_json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
