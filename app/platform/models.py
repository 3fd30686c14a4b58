"""The platform's tables (SQLAlchemy 2 declarative). The Alembic migrations in
server/migrations must describe exactly these; tests/server compares the two."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python on every backend (SQLite keeps no time zone: store naive
    UTC there so string comparison in SQL stays chronological)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The fields a reviewer is vetted in (lower-case bounty domains): labs assign by them.
    domains: Mapped[list] = mapped_column(JSON, default=list)


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Bounty(Base):
    __tablename__ = "bounties"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    lab_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(String(60), index=True)
    tags: Mapped[list] = mapped_column(JSON)
    # Lower-cased "|tag1|tag2|" so a tag filter is one indexed-free LIKE on every backend.
    tags_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    reward: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    env_kind: Mapped[str] = mapped_column(String(20))
    constraints: Mapped[dict] = mapped_column(JSON)
    brief: Mapped[str] = mapped_column(Text)
    rubric: Mapped[list] = mapped_column(JSON)
    # What the pack card must show, e.g. signal share >= 0.6 (app/calibrate/targets.py)
    calibration_targets: Mapped[list] = mapped_column(JSON, default=list)
    search_text: Mapped[str] = mapped_column(Text)  # lower-cased title+summary+brief+tags
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)


class Blob(Base):
    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BlobUpload(Base):
    """Who uploaded a blob: uploaders may read their own blobs before any revision names them."""

    __tablename__ = "blob_uploads"
    sha256: Mapped[str] = mapped_column(
        ForeignKey("blobs.sha256", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # The latest upload of these bytes by this user: rate limits and the collection grace.
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("author_id", "bounty_id", name="uq_submission_author_bounty"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bounty_id: Mapped[str] = mapped_column(ForeignKey("bounties.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(30), index=True)
    current_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)


class Assignment(Base):
    __tablename__ = "assignments"
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Revision(Base):
    __tablename__ = "revisions"
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    files: Mapped[dict] = mapped_column(JSON)  # {path: sha256}
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    client_report: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    check_status: Mapped[str] = mapped_column(String(20))  # queued|running|passed|failed|error
    # (or superseded: a newer revision arrived before its check ran)
    check_verdict: Mapped[str | None] = mapped_column(String(20), nullable=True)
    check_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    check_attempts: Mapped[int] = mapped_column(Integer, default=0)
    check_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    check_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    check_digest: Mapped[str | None] = mapped_column(String(100), nullable=True)
    report: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # The author's pack card (.gauntlet/card.json from `gauntlet calibrate`), a blob
    card_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RevisionBlob(Base):
    """Which blobs a revision names: lets a reader fetch a blob of a revision they can see."""

    __tablename__ = "revision_blobs"
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), primary_key=True, index=True)


class Thread(Base):
    __tablename__ = "threads"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The anchor: where the thread was written, and the text it was written about.
    anchor_revision: Mapped[int] = mapped_column(Integer)
    anchor_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    anchor_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    anchor_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quote: Mapped[str | None] = mapped_column(Text, nullable=True)
    context_before: Mapped[str | None] = mapped_column(Text, nullable=True)
    context_after: Mapped[str | None] = mapped_column(Text, nullable=True)
    quote_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    context_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Where it sits on the latest revision (re-anchored on every push).
    position_revision: Mapped[int] = mapped_column(Integer)
    position_status: Mapped[str] = mapped_column(String(20))  # current|moved|outdated
    position_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    position_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # What the reviewer asks for (migration 0002): rows written before it read as "normal".
    severity: Mapped[str] = mapped_column(String(10), default="normal", server_default="normal")
    suggestion: Mapped[str | None] = mapped_column(Text, nullable=True)  # replaces the lines
    task_id: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a tasks.jsonl row


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("comments.id"), nullable=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str] = mapped_column(String(30))
    scores: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Change(Base):
    """The compacted change feed: one row per (entity, id, audience), at its latest seq."""

    __tablename__ = "changes"
    __table_args__ = (
        UniqueConstraint("entity", "entity_id", "audience_user_id", name="uq_change_entity"),
        Index("ix_changes_submission", "submission_id"),
        # A republished entity must get a seq above every cursor, never a reused one.
        {"sqlite_autoincrement": True},
    )
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(100))
    op: Mapped[str] = mapped_column(String(10))
    # The entity as JSON text, kept serialised so a feed page is spliced together, not re-encoded.
    data: Mapped[str | None] = mapped_column(Text, nullable=True)
    bounty_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    submission_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Set for rows meant for one user only (re-announcements to a newly assigned reviewer,
    # a delete for an unassigned one); empty string for everyone who may see the entity.
    audience_user_id: Mapped[str] = mapped_column(String(40), default="")


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)
    response_headers: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Job(Base):
    """A unit of background work (the server's re-check of a revision). Workers claim jobs with
    a lease they keep renewing; a job whose lease ran out is taken again by another worker."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "state", "run_after"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))  # queued|running|done|failed|cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
