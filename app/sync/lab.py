"""A lab's calls to the platform: post, edit and close bounties, list their submissions with the
platform's check results, and assign reviewers. Used by `gauntlet bounty|assign` and by the
app's "My bounties" screen; each function takes a signed-in `PlatformClient`.

Nothing here is queued offline: a lab wants to know at once that a bounty is live.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.errors import UserError
from app.sync.lab_fields import FieldError

if TYPE_CHECKING:  # the CLI imports this module at start; httpx only when it talks
    from app.sync.client import PlatformClient

REVIEWING_ROLES = ("reviewer", "lab", "admin")


def new_key() -> str:
    return str(uuid.uuid4())


# -- bounties ----------------------------------------------------------------------------------


async def known_domains(client: PlatformClient) -> set[str]:
    """Every domain a reviewer is vetted in or a bounty uses."""
    users = await list_users(client)
    known = {d for u in users for d in (u.get("domains") or [])}
    async for page in client.paginate("/v1/bounties", params={"limit": 200}):
        known |= {b["domain"] for b in page}
    return known


async def check_known_domain(client: PlatformClient, domain: str) -> None:
    """Refuse a domain nobody on the platform knows: most often a typo of one that exists."""
    known = await known_domains(client)
    if domain in known:
        return
    listed = ", ".join(sorted(known)) or "none yet"
    raise FieldError(
        "domain",
        f"Unknown domain '{domain}': no reviewer on this platform is vetted in it and no bounty "
        "uses it.",
        f"Known domains: {listed}. Check the spelling, or pass --new-domain to start a new one "
        "(then ask the platform's operator for reviewers in it).",
        where="--domain",
        form_hint=f"Known domains: {listed}. Check the spelling, or tick “Start a new domain” "
        "(then ask the platform's operator for reviewers in it).",
    )


async def post_bounty(
    client: PlatformClient, body: dict[str, Any], *, new_domain: bool = False
) -> dict:
    """Post a checked bounty body; one idempotency key, so a retried request posts it once."""
    if not new_domain:
        await check_known_domain(client, body["domain"])
    return (await client.post("/v1/bounties", body, idempotency_key=new_key())).data


async def read_bounty(client: PlatformClient, bounty_id: str) -> tuple[dict, str | None]:
    """The bounty and its ETag, the version an edit must match."""
    reply = await client.get(f"/v1/bounties/{bounty_id}")
    return reply.data, reply.etag


async def edit_bounty(
    client: PlatformClient,
    current: dict,
    etag: str | None,
    changes: dict[str, Any],
    *,
    new_domain: bool = False,
) -> dict:
    """Change the bounty `current` (read with `etag`); StaleVersion if it changed since."""
    moved = "domain" in changes and changes["domain"] != current["domain"]
    if moved and not new_domain:
        await check_known_domain(client, changes["domain"])
    reply = await client.request(
        "PATCH", f"/v1/bounties/{current['id']}", json_body=changes, if_match=etag
    )
    return reply.data


async def close_bounty(client: PlatformClient, bounty_id: str) -> tuple[dict, bool]:
    """Close a bounty to new submissions; False if it was closed already."""
    current, etag = await read_bounty(client, bounty_id)
    if current["status"] == "closed":
        return current, False
    return await edit_bounty(client, current, etag, {"status": "closed"}), True


async def me(client: PlatformClient) -> dict:
    return (await client.get("/v1/me")).data


async def lab_bounties(client: PlatformClient) -> list[dict]:
    """The bounties this lab posted, newest first, each with its number of `submissions`."""
    who = await me(client)
    mine = []
    async for page in client.paginate("/v1/bounties", params={"limit": 200, "sort": "-created"}):
        mine += [b for b in page if (b.get("lab") or {}).get("id") == who.get("id")]
    counts: dict[str, int] = {}
    async for page in client.paginate("/v1/submissions", params={"limit": 200}):
        for item in page:
            counts[item["bounty_id"]] = counts.get(item["bounty_id"], 0) + 1
    return [{**b, "submissions": counts.get(b["id"], 0)} for b in mine]


# -- submissions -------------------------------------------------------------------------------


async def bounty_submissions(client: PlatformClient, bounty_id: str) -> tuple[dict, list[dict]]:
    """The bounty and its submissions, each with its latest revision's server `check`."""
    bounty = (await client.get(f"/v1/bounties/{bounty_id}")).data
    who = await me(client)
    if who.get("role") != "admin" and (bounty.get("lab") or {}).get("id") != who.get("id"):
        raise UserError(
            f"Bounty {bounty_id} was posted by {(bounty.get('lab') or {}).get('name')}, "
            f"not by you ({who.get('name')}, {who.get('role')}).",
            "Only the lab that posted a bounty (or an admin) sees its submissions.",
        )
    rows = []
    params = {"bounty_id": bounty_id, "limit": 200}
    async for page in client.paginate("/v1/submissions", params=params):
        for item in page:
            rows.append(await _with_check(client, item))
    return bounty, rows


async def _with_check(client: PlatformClient, item: dict) -> dict:
    """The submission with its latest revision's server check (None before a revision)."""
    number = item.get("current_revision")
    check, card = None, None
    if number:
        revision = (await client.get(f"/v1/submissions/{item['id']}/revisions/{number}")).data
        check = {k: revision["check"].get(k) for k in ("status", "verdict", "error")}
        card = revision.get("card")  # the pack card's blob, when the author sent one
    return {**item, "check": check, "card": card}


def check_words(check: dict | None) -> str:
    """The platform's check of a submission in a few words."""
    if check is None:
        return "no revision yet"
    if check.get("verdict"):
        return f"{check['status']}, verdict {check['verdict']}"
    if check.get("error"):
        return f"{check['status']} ({check['error']})"
    return str(check.get("status"))


# -- reviewers ---------------------------------------------------------------------------------


async def list_users(client: PlatformClient) -> list[dict]:
    return (await client.get("/v1/users")).data.get("items", [])


def find_user(users: list[dict], wanted: str) -> dict:
    for user in users:
        if user["id"] == wanted or user["name"].casefold() == wanted.strip().casefold():
            return user
    reviewers = [u["name"] for u in users if u["role"] == "reviewer"]
    raise UserError(
        f"No user '{wanted}' on this platform.",
        f"Reviewers: {', '.join(reviewers) or 'none yet'}. Give a name or user id.",
    )


def check_can_review(
    reviewer: dict, submission: dict, bounty: dict, users: list[dict], *, any_domain: bool
) -> None:
    """The rules a lab is told before anything is sent (the platform enforces the first two)."""
    name = reviewer["name"]
    if reviewer["id"] == (submission.get("author") or {}).get("id"):
        raise UserError(
            f"{name} wrote submission {submission['id']}: nobody may review their own submission.",
            "Pick another reviewer: " + _suggest(users, bounty["domain"], submission),
        )
    if reviewer["role"] not in REVIEWING_ROLES:
        raise UserError(
            f"{name} is an {reviewer['role']}, not a reviewer.",
            "Pick a reviewer: " + _suggest(users, bounty["domain"], submission),
        )
    domains = reviewer.get("domains") or []
    if bounty["domain"] not in domains and not any_domain:
        raise UserError(
            f"{name} is not vetted in '{bounty['domain']}', the domain of bounty {bounty['id']} "
            f"(their domains: {', '.join(domains) or 'none'}).",
            f"Pick a reviewer in '{bounty['domain']}': "
            + _suggest(users, bounty["domain"], submission)
            + ". Or pass --any-domain to assign them anyway.",
        )


def _suggest(users: list[dict], domain: str, submission: dict) -> str:
    names = [c.user["name"] for c in reviewer_candidates(users, domain, submission) if c.matches]
    return ", ".join(names) or f"nobody is vetted in '{domain}' yet"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A user a lab may pick to review a submission: `matches` the bounty's domain, or
    `excluded` with the reason (the submission's author)."""

    user: dict
    matches: bool
    excluded: str | None = None


def reviewer_candidates(users: list[dict], domain: str, submission: dict) -> list[Candidate]:
    """Reviewers vetted in `domain` first, then the others; the author last, excluded."""
    author = (submission.get("author") or {}).get("id")
    picks, others, excluded = [], [], []
    for user in users:
        if user["id"] == author:
            reason = "they wrote this submission, and nobody may review their own submission"
            excluded.append(Candidate(user, False, reason))
        elif user["role"] in REVIEWING_ROLES:
            matches = domain in (user.get("domains") or [])
            (picks if matches else others).append(Candidate(user, matches))
    return picks + others + excluded


async def assign(
    client: PlatformClient, submission_id: str, who: str, *, remove: bool, any_domain: bool
) -> tuple[dict, dict, str]:
    """Assign (or with `remove`, unassign) the user named or identified by `who`; returns the
    submission after it, the user, and what happened ("Assigned", "Unassigned", ...)."""
    submission = (await client.get(f"/v1/submissions/{submission_id}")).data
    users = await list_users(client)
    reviewer = find_user(users, who)
    path = f"/v1/submissions/{submission['id']}/reviewers"
    if remove:
        was = any(r["id"] == reviewer["id"] for r in submission["reviewers"])
        reply = await client.request("DELETE", f"{path}/{reviewer['id']}")
        return reply.data, reviewer, "Unassigned" if was else "Was not assigned:"
    bounty = (await client.get(f"/v1/bounties/{submission['bounty_id']}")).data
    check_can_review(reviewer, submission, bounty, users, any_domain=any_domain)
    reply = await client.post(path, {"reviewer_id": reviewer["id"]}, idempotency_key=new_key())
    return reply.data, reviewer, "Assigned"
