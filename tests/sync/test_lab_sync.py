"""The lab's sync-layer calls (app.sync.lab, shared by `gauntlet bounty|assign` and the app's
"My bounties" screen) and the bounty field checks (app.sync.lab_fields), against the real local
platform."""

from __future__ import annotations

import asyncio

import pytest
from support.platform_testkit import Api, package_files

from app.errors import UserError
from app.sync import lab, lab_fields
from app.sync.client import PlatformClient
from app.sync.errors import NotAuthorized, StaleVersion
from app.sync.lab_fields import FieldError


def body(**changes) -> dict:
    base = {
        "title": "Enzyme kinetics QA",
        "domain": "biology",
        "tags": ["enzymes"],
        "reward": 5000,
        "currency": "EUR",
        "deadline": lab_fields.deadline("2099-06-30").isoformat(),
        "rubric": [{"id": "correctness", "title": "Correct", "weight": 3.0, "max_score": 5}],
    }
    return {**base, **changes}


def submit(platform, bounty_id: str) -> str:
    """The author submits a real package (first revision) over HTTP; the submission's id."""
    author = Api(platform.url, platform.tokens["author"])
    try:
        created = author.post("/v1/submissions", {"bounty_id": bounty_id}, key="lab-test")
        assert created.status_code == 201, created.text
        author.push(created.json()["id"], package_files("qa-exact"))
        return created.json()["id"]
    finally:
        author.close()


def call(platform, role: str, work):
    async def run():
        async with PlatformClient(platform.url, platform.tokens[role]) as client:
            return await work(client)

    return asyncio.run(run())


def test_post_edit_close_and_list_the_labs_bounties(platform):
    posted = call(platform, "lab", lambda c: lab.post_bounty(c, body()))
    assert posted["status"] == "open" and posted["rubric"][0]["weight"] == 3.0
    bid = posted["id"]

    current, etag = call(platform, "lab", lambda c: lab.read_bounty(c, bid))
    changed = call(platform, "lab", lambda c: lab.edit_bounty(c, current, etag, {"reward": 8000}))
    assert changed["reward"] == 8000 and changed["version"] == current["version"] + 1
    # The same (now old) ETag again: someone changed the bounty since, so it is refused.
    with pytest.raises(StaleVersion):
        call(platform, "lab", lambda c: lab.edit_bounty(c, current, etag, {"reward": 1}))
    assert call(platform, "lab", lambda c: lab.read_bounty(c, bid))[0]["reward"] == 8000

    mine = call(platform, "lab", lab.lab_bounties)
    me = call(platform, "lab", lab.me)
    assert [b["id"] for b in mine][0] == bid and all(b["lab"]["id"] == me["id"] for b in mine)
    # Another lab's bounties are not "mine": the admin posts one, the local lab does not see it.
    other = call(platform, "admin", lab.lab_bounties)
    assert bid not in {b["id"] for b in other}
    assert {b["id"]: b["submissions"] for b in mine}[bid] == 0

    closed, changed_now = call(platform, "lab", lambda c: lab.close_bounty(c, bid))
    assert closed["status"] == "closed" and changed_now
    assert call(platform, "lab", lambda c: lab.close_bounty(c, bid))[1] is False


def test_an_unknown_domain_is_refused_unless_it_is_new(platform):
    with pytest.raises(FieldError) as refused:
        call(platform, "lab", lambda c: lab.post_bounty(c, body(domain="biolgy")))
    error = refused.value
    assert error.field == "domain" and error.where == "--domain"
    assert "Unknown domain 'biolgy'" in error.message and "biology" in error.hint
    assert "--new-domain" in error.hint and "Start a new domain" in error.form_hint
    assert "--new-domain" not in error.form_hint
    posted = call(platform, "lab", lambda c: lab.post_bounty(c, body(domain="x"), new_domain=True))
    assert posted["domain"] == "x" and "x" in call(platform, "lab", lab.known_domains)


def test_submissions_with_their_check_and_assigning_by_domain(platform):
    platform.create_user("chemist", "reviewer", domains=("chemistry",))
    platform.create_user("biologist", "reviewer", domains=("biology",))
    bid = call(platform, "lab", lambda c: lab.post_bounty(c, body()))["id"]
    sid = submit(platform, bid)

    bounty, rows = call(platform, "lab", lambda c: lab.bounty_submissions(c, bid))
    (row,) = rows
    assert bounty["id"] == bid and row["id"] == sid and row["current_revision"] == 1
    assert row["check"]["status"] in ("queued", "running", "passed", "failed", "error")
    assert lab.check_words(row["check"]).startswith(row["check"]["status"])
    assert lab.check_words(None) == "no revision yet"
    assert {b["id"]: b["submissions"] for b in call(platform, "lab", lab.lab_bounties)}[bid] == 1

    users = call(platform, "lab", lab.list_users)
    picks = lab.reviewer_candidates(users, "biology", row)
    # Vetted in biology first (the local reviewer is vetted in every demo domain), then the
    # others, the author last and excluded.
    assert {p.user["name"] for p in picks if p.matches} == {"biologist", "reviewer"}
    assert [p.matches for p in picks] == sorted((p.matches for p in picks), reverse=True)
    assert picks[-1].user["name"] == "you" and "their own submission" in picks[-1].excluded
    assert "chemist" in [p.user["name"] for p in picks if not p.matches and not p.excluded]

    with pytest.raises(UserError, match="not vetted in 'biology'"):
        call(platform, "lab", lambda c: lab.assign(c, sid, "chemist", remove=False,
                                                   any_domain=False))  # fmt: skip
    with pytest.raises(UserError, match="nobody may review their own submission"):
        call(platform, "lab", lambda c: lab.assign(c, sid, "you", remove=False, any_domain=True))
    done, who, verb = call(
        platform, "lab", lambda c: lab.assign(c, sid, "biologist", remove=False, any_domain=False)
    )
    assert verb == "Assigned" and who["name"] == "biologist"
    assert "biologist" in {r["name"] for r in done["reviewers"]}
    done, _, verb = call(
        platform, "lab", lambda c: lab.assign(c, sid, "biologist", remove=True, any_domain=False)
    )
    assert verb == "Unassigned" and "biologist" not in {r["name"] for r in done["reviewers"]}

    # Another role may not see a lab's submissions.
    with pytest.raises((UserError, NotAuthorized), match="Only the lab|not allowed"):
        call(platform, "author", lambda c: lab.bounty_submissions(c, bid))


@pytest.mark.parametrize(
    ("check", "field", "words"),
    [
        (lambda: lab_fields.title("  "), "title", "needs a title"),
        (lambda: lab_fields.domain(""), "domain", "needs a domain"),
        (lambda: lab_fields.tags(["ok", "x" * 41]), "tags", "longer than 40"),
        (lambda: lab_fields.reward("12.5"), "reward", "not a whole amount"),
        (lambda: lab_fields.reward("2000000000"), "reward", "more than"),
        (lambda: lab_fields.currency("euro"), "currency", "not a currency code"),
        (lambda: lab_fields.deadline("2001-01-01"), "deadline", "in the past"),
        (lambda: lab_fields.constraints(["novalue"], {}), "constraints", "not KEY=VALUE"),
        (lambda: lab_fields.criterion("ok", "Ok", "heavy", row=2), "criteria", "not a number"),
        (lambda: lab_fields.criterion("", "!!", "1"), "criteria", "not a criterion id"),
    ],
)
def test_each_field_check_names_its_field_in_words(check, field, words):
    with pytest.raises(FieldError) as refused:
        check()
    assert refused.value.field == field and words in refused.value.message
    assert refused.value.form_hint and "--" not in refused.value.form_hint.replace("--max", "")


def test_criteria_get_stable_ids_and_duplicates_name_their_row():
    assert lab_fields.criterion_id("  Answers are right! ") == "answers-are-right"
    items = [lab_fields.criterion(lab_fields.criterion_id(n), n, "1") for n in ("A b", "a-b")]
    with pytest.raises(FieldError) as refused:
        lab_fields.distinct_criteria(items)
    assert refused.value.row == 1 and "given twice" in refused.value.message
