"""Offline-first sync with a Gauntlet platform (contract: docs/api.md; for authors: docs/sync.md).

- `store.LocalStore`: the SQLite mirror (bounties, drafts, submissions, reports, reviews,
  threads, cursor, ETags) the UI reads from, thread-safe; plus the outbox table.
- `changes`: the local changes a user can make offline (`queue_*`) and how each is sent.
- `outbox.Outbox`: replays changes in order with their idempotency keys, backoff, 412 handling.
- `engine.SyncEngine`: sends the outbox, pulls the change feed, runs the submit flow.
- `client.PlatformClient` (+ `errors`): the HTTP client; every failure a clear `PlatformError`.
- `state`: online / offline / syncing / error, with listeners for the status bar.
- `credentials.CredentialStore`: tokens and LLM keys in the OS keychain, with a chosen fallback.
- `platform` / `session`: which platform to use (configured, environment, or embedded local).
- `blobcache`: snapshots of files queued for upload.
- `lab` (+ `lab_fields`): a lab's direct calls: bounties, their submissions, reviewer assignment.
"""
