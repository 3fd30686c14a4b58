"""Everything an operator can tune about one platform instance.

Blobs live in the database itself (not on a local disk), so `gauntlet worker` processes on
other hosts need nothing but the database URL."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.paths import data_dir


def default_data_dir() -> Path:
    # Not "platform": that folder belongs to the app's built-in platform (server/embedded.py).
    return data_dir() / "server"


@dataclass(slots=True)
class Settings:
    # SQLite file by default; PostgreSQL by URL (postgresql+psycopg://user@host:port/db).
    database_url: str = ""
    data_dir: Path = field(default_factory=default_data_dir)
    max_blob_bytes: int = 32 * 1024 * 1024
    max_files: int = 2000
    max_revision_bytes: int = 256 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024  # every request body but a blob upload
    # Per-author rate limits over a sliding window (429 with Retry-After; 0 turns one off).
    rate_window_s: float = 3600.0
    max_submissions_per_window: int = 50
    max_revisions_per_window: int = 200
    max_upload_bytes_per_window: int = 2 * 1024 * 1024 * 1024
    # Blobs no revision names are deleted after this long (an upload in flight is younger).
    blob_grace_s: float = 24 * 3600.0
    # Judge graders call a model with the operator's key: off unless both are configured.
    judge_api_key: str | None = field(default=None, repr=False)
    judge_api_base: str | None = None
    idempotency_days: int = 30
    # The in-process worker: the embedded platform and a small single-host server run one.
    run_worker: bool = False
    worker_lease_s: float = 60.0
    job_max_attempts: int = 3
    # Sandbox used by the server's own re-check ("docker" on a real platform).
    sandbox_backend: str = "docker"
    # Caps on one re-check job, so one submission cannot hold a worker: its wall-clock time and
    # the resources a package may declare. A job over a cap fails (check_failed, with the
    # reason for its author) and the worker takes the next job.
    recheck_max_s: float = 1800.0
    recheck_max_timeout_s: float = 600.0
    recheck_max_memory_mb: int = 4096
    recheck_max_cpus: float = 4.0
    # Assign a reviewer automatically when a submission enters review (embedded platform).
    auto_assign_reviewers: bool = False
    demo: bool = False  # seed demo bounties and users at start

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'platform.sqlite3'}"
