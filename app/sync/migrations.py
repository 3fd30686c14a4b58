"""Schema of the local sync store, as an ordered list of migrations.

`PRAGMA user_version` records how many have been applied. Never edit a shipped migration:
append a new one (users' stores are upgraded in place, in one transaction per step).
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the first schema.
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE TABLE bounties (
        id          TEXT PRIMARY KEY,
        title       TEXT NOT NULL,
        domain      TEXT NOT NULL DEFAULT '',
        status      TEXT NOT NULL DEFAULT 'open',
        reward      REAL NOT NULL DEFAULT 0,      -- in `currency` units
        currency    TEXT NOT NULL DEFAULT 'USD',
        deadline    TEXT,                         -- ISO-8601, UTC; NULL = none
        env_kind    TEXT NOT NULL DEFAULT '',
        summary     TEXT NOT NULL DEFAULT '',
        tags        TEXT NOT NULL DEFAULT '',     -- tags joined by newlines
        search_text TEXT NOT NULL DEFAULT '',     -- lower-cased words for text search
        updated_at  TEXT
    );
    -- One index only: filters scan 10,000 rows in a few ms, and every extra index slows the
    -- first sync (bulk insert) more than it speeds up a read.
    CREATE INDEX bounties_by_deadline ON bounties (deadline);

    -- The big parts live apart, so the table the bounty browser scans stays a few MB for
    -- 10,000 bounties (with them inline, every row fills its own page).
    CREATE TABLE bounty_details (
        id     TEXT PRIMARY KEY REFERENCES bounties (id) ON DELETE CASCADE,
        brief  TEXT NOT NULL DEFAULT '',          -- markdown
        detail TEXT NOT NULL DEFAULT '{}'         -- the server object without the brief
    ) WITHOUT ROWID;

    CREATE TABLE drafts (
        id             INTEGER PRIMARY KEY,
        path           TEXT NOT NULL UNIQUE,
        bounty_id      TEXT,
        title          TEXT NOT NULL DEFAULT '',
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        last_digest    TEXT                        -- package digest of the last submit
    );

    CREATE TABLE submissions (
        id              TEXT PRIMARY KEY,
        bounty_id       TEXT NOT NULL,
        author          TEXT NOT NULL DEFAULT '',
        state           TEXT NOT NULL,
        local_state     TEXT,                      -- optimistic state of a queued change
        etag            TEXT,
        latest_revision INTEGER,
        created_at      TEXT,
        updated_at      TEXT,
        data            TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX submissions_by_bounty ON submissions (bounty_id);

    CREATE TABLE revisions (
        id            TEXT PRIMARY KEY,
        submission_id TEXT NOT NULL,
        number        INTEGER NOT NULL,
        check_state   TEXT NOT NULL DEFAULT '',
        created_at    TEXT,
        data          TEXT NOT NULL DEFAULT '{}'   -- manifest, digest...
    );
    CREATE INDEX revisions_by_submission ON revisions (submission_id, number);

    CREATE TABLE reports (
        revision_id TEXT PRIMARY KEY,
        report      TEXT NOT NULL                  -- gauntlet-report/1 JSON from the server
    );

    CREATE TABLE reviews (
        id            TEXT PRIMARY KEY,
        submission_id TEXT NOT NULL,
        revision_id   TEXT,
        reviewer      TEXT NOT NULL DEFAULT '',
        verdict       TEXT,
        created_at    TEXT,
        data          TEXT NOT NULL DEFAULT '{}'   -- scores, summary...
    );
    CREATE INDEX reviews_by_submission ON reviews (submission_id);

    CREATE TABLE threads (
        id            TEXT PRIMARY KEY,
        submission_id TEXT NOT NULL,
        revision_id   TEXT,
        file          TEXT NOT NULL DEFAULT '',
        start_line    INTEGER,
        end_line      INTEGER,
        anchor_state  TEXT NOT NULL DEFAULT 'current',  -- current | moved | outdated
        resolved      INTEGER NOT NULL DEFAULT 0,
        author        TEXT NOT NULL DEFAULT '',
        created_at    TEXT,
        data          TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX threads_by_submission_file ON threads (submission_id, file, start_line);

    CREATE TABLE comments (
        id         TEXT PRIMARY KEY,
        thread_id  TEXT NOT NULL,
        parent_id  TEXT,
        author     TEXT NOT NULL DEFAULT '',
        body       TEXT NOT NULL,
        created_at TEXT,
        pending    INTEGER NOT NULL DEFAULT 0,     -- 1 = written offline, not yet sent
        data       TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX comments_by_thread ON comments (thread_id, created_at);

    CREATE TABLE outbox (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        kind            TEXT NOT NULL,
        payload         TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        state           TEXT NOT NULL DEFAULT 'pending',  -- pending | conflict | failed
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error      TEXT,
        created_at      TEXT NOT NULL
    );

    CREATE TABLE etags (
        url  TEXT PRIMARY KEY,
        etag TEXT NOT NULL,
        body TEXT NOT NULL
    );
    """,
    # 2: what a reviewer asks for on a thread; rows synced before read as "normal".
    """
    ALTER TABLE threads ADD COLUMN severity TEXT NOT NULL DEFAULT 'normal';  -- blocking|normal|nit
    ALTER TABLE threads ADD COLUMN suggestion TEXT;  -- replacement text for the anchored lines
    ALTER TABLE threads ADD COLUMN task_id TEXT;     -- a row of tasks.jsonl
    """,
]
