"""Bounties as the platform sends them (the sync store's input format), for the UI tests."""

from __future__ import annotations

DOMAINS = ("biology", "chemistry", "law", "mathematics", "medicine", "finance", "software")


def make_bounty(i: int, *, today=None, **overrides) -> dict:
    """A bounty as the platform sends it (the sync store's input format)."""
    from datetime import UTC, datetime, timedelta

    today = today or datetime.now(UTC).date()
    domain = DOMAINS[i % len(DOMAINS)]
    bounty = {
        "id": f"b_{i:05d}",
        "title": f"{domain.capitalize()} reasoning set {i}",
        "summary": f"Questions a {domain} expert answers in one line (set {i}).",
        "domain": domain,
        "status": "open" if i % 5 else "closed",
        "reward": {"amount": 250 * (1 + i % 20), "currency": "USD"},
        "deadline": (today + timedelta(days=(i % 120) - 10)).isoformat(),
        "env_kind": "code" if i % 7 == 3 else "qa",
        "tags": [domain, f"level-{i % 3}"],
        "brief": (
            f"# Set {i}\n\nWrite **ten** tasks about {domain}.\n"
            "\n- one answer each\n- cite a source\n"
        ),
        "rubric": [
            {"criterion": "Correctness", "weight": 3, "description": "Answers are right"},
            {"criterion": "Clarity", "weight": 1},
        ],
        "updated_at": "2026-11-01T00:00:00Z",
    }
    bounty.update(overrides)
    return bounty
