"""Who may review: nobody their own submission, whatever their role; reviewers carry the
domains they are vetted in, which the lab's `gauntlet assign` picks them by."""

from __future__ import annotations

import pytest
from support.platform_testkit import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def test_nobody_reviews_their_own_submission_even_an_admin(live):
    bounty = live.bounty()
    # An admin may author (roles are checked with admin as a superuser) ...
    revision = live.admin.submit(bounty["id"], {"env.toml": b"v1\n"})
    sid = revision["submission_id"]
    live.pass_check(sid, 1)
    # ... but the lab cannot make them its reviewer ...
    refused = live.lab.post(f"/v1/submissions/{sid}/reviewers", {"reviewer_id": live.admin.id})
    assert refused.status_code == 422 and "their own submission" in refused.json()["detail"]
    # ... and their admin rights do not let them judge it either.
    for verdict in ("approve", "comment"):
        review = live.admin.post(
            f"/v1/submissions/{sid}/reviews", {"revision": 1, "verdict": verdict}
        )
        assert review.status_code == 403, review.text
        assert "nobody may review their own submission" in review.json()["detail"]
    assert live.admin.submission(sid)["state"] == "in_review"
    # Another admin still may.
    other = live.add_user("admin2", "admin")
    ok = other.post(f"/v1/submissions/{sid}/reviews", {"revision": 1, "verdict": "approve"})
    assert ok.status_code == 201, ok.text


def test_reviewers_carry_their_domains(live):
    created = live.admin.post(
        "/v1/users",
        {"name": "vetted", "role": "reviewer", "domains": [" Biology", "chemistry", "biology"]},
    )
    assert created.status_code == 201, created.text
    assert created.json()["user"]["domains"] == ["biology", "chemistry"]
    reviewers = live.lab.get("/v1/users", params={"role": "reviewer"}).json()["items"]
    by_name = {u["name"]: u["domains"] for u in reviewers}
    assert by_name == {"reviewer": [], "reviewer2": [], "vetted": ["biology", "chemistry"]}
