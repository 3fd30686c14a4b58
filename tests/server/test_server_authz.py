"""Who may see and change what: tokens, roles, ownership and assignment."""

from __future__ import annotations

import pytest
from support.platform_testkit import BACKENDS

from app.platform.clock import utcnow
from app.platform.models import Token

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_missing_forged_expired_and_revoked_tokens_are_refused(live):
    assert live.author.get("/v1/me").json() == {
        "id": live.author.id,
        "name": "author",
        "role": "author",
    }
    missing = live.anonymous().get("/v1/me")
    assert _problem(missing, 401)["type"].endswith("unauthorized")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    forged = live.as_token("gst_" + "A" * 43).get("/v1/bounties")
    assert _problem(forged, 401) and 'error="invalid_token"' in forged.headers["www-authenticate"]
    # A real token with one character changed is just as unknown.
    tampered = live.author.token[:-1] + ("a" if live.author.token[-1] != "a" else "b")
    _problem(live.as_token(tampered).get("/v1/me"), 401)
    _problem(
        live.anonymous().client.get("/v1/me", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401
    )

    expiring = live.add_user("short-lived", "author", expires_in_days=1)
    assert expiring.get("/v1/me").status_code == 200
    with live.platform.write() as session:
        session.query(Token).filter(Token.user_id == expiring.id).update({"expires_at": utcnow()})
    assert "expired" in _problem(expiring.get("/v1/me"), 401)["detail"]

    revoked = live.add_user("revoked", "author")
    with live.platform.write() as session:
        session.query(Token).filter(Token.user_id == revoked.id).update({"revoked_at": utcnow()})
    assert "revoked" in _problem(revoked.get("/v1/me"), 401)["detail"]


def test_tokens_are_stored_hashed(live):
    with live.platform.read() as session:
        stored = {t.token_sha256 for t in session.query(Token).all()}
    assert live.author.token not in stored
    import hashlib

    assert hashlib.sha256(live.author.token.encode()).hexdigest() in stored


def test_lab_role_is_needed_to_post_bounties(live):
    body = {"title": "x", "domain": "law", "reward": 1, "deadline": "2099-01-01T00:00:00Z"}
    for api in (live.author, live.reviewer):
        assert _problem(api.post("/v1/bounties", body), 403)["type"].endswith("forbidden")
    assert live.lab.post("/v1/bounties", body).status_code == 201
    assert live.admin.post("/v1/bounties", body).status_code == 201
    bounty = live.bounty()
    # Only the owning lab may change it.
    _problem(live.lab2.patch(f"/v1/bounties/{bounty['id']}", {"reward": 5}, if_match='"1"'), 403)
    _problem(live.author.patch(f"/v1/bounties/{bounty['id']}", {"reward": 5}, if_match='"1"'), 403)


def test_an_author_cannot_read_or_change_another_authors_submission(live):
    bounty = live.bounty()
    revision = live.author.submit(bounty["id"], {"env.toml": b"mine\n", "secret.txt": b"my work"})
    sid = revision["submission_id"]
    other = live.author2
    for path in (
        f"/v1/submissions/{sid}",
        f"/v1/submissions/{sid}/revisions",
        f"/v1/submissions/{sid}/revisions/1",
        f"/v1/submissions/{sid}/revisions/1/report",
        f"/v1/submissions/{sid}/threads",
        f"/v1/submissions/{sid}/reviews",
    ):
        assert other.get(path).status_code == 404, path
    assert sid not in {s["id"] for s in other.get("/v1/submissions").json()["items"]}
    assert other.get(f"/v1/blobs/{revision['files']['secret.txt']}").status_code == 404
    etag = live.author.get(f"/v1/submissions/{sid}").headers["etag"]
    manifest = other.upload({"env.toml": b"hijack\n"})
    assert (
        other.post(
            f"/v1/submissions/{sid}/revisions", {"files": manifest}, if_match=etag
        ).status_code
        == 404
    )
    assert (
        other.post(
            f"/v1/submissions/{sid}/transition", {"to": "withdrawn"}, if_match=etag
        ).status_code
        == 404
    )
    assert (
        other.post(f"/v1/submissions/{sid}/threads", {"revision": 1, "body": "hi"}).status_code
        == 404
    )
    assert live.author.submission(sid)["state"] == "checking"
    # The owner can read their own blobs through the revision.
    assert live.author.get(f"/v1/blobs/{revision['files']['secret.txt']}").content == b"my work"


def test_a_blob_cannot_be_probed_named_or_read_by_knowing_its_hash(live):
    """Proof of possession: another author who learns a hash neither learns that the blob
    exists, nor can name it in a revision (and so download it), until they upload the bytes."""
    bounty = live.bounty()
    secret = b"API_TOKEN=very-private-value\n"
    sha = live.author.submit(bounty["id"], {"env.toml": b"a\n", "secret.env": secret})["files"][
        "secret.env"
    ]
    other = live.author2
    assert other.post("/v1/blobs/batch", {"sha256": [sha]}).json()["missing"] == [sha]
    created = other.post("/v1/submissions", {"bounty_id": bounty["id"]}).json()
    etag = other.get(f"/v1/submissions/{created['id']}").headers["etag"]
    named = other.post(
        f"/v1/submissions/{created['id']}/revisions",
        {"files": {**other.upload({"env.toml": b"b\n"}), "stolen.env": sha}},
        if_match=etag,
    )
    assert named.status_code == 422 and named.json()["missing"] == [sha], named.text
    assert other.get(f"/v1/blobs/{sha}").status_code == 404
    # Holding the bytes is the proof: then the blob is theirs to name and read.
    assert other.put(f"/v1/blobs/{sha}", content=secret).status_code == 201
    assert other.post("/v1/blobs/batch", {"sha256": [sha]}).json()["missing"] == []
    assert other.get(f"/v1/blobs/{sha}").content == secret


def test_a_reviewer_only_sees_and_reviews_what_is_assigned(live):
    bounty = live.bounty()
    revision = live.author.submit(bounty["id"], {"env.toml": b"v1\n"})
    sid = revision["submission_id"]
    live.pass_check(sid, 1)
    reviewer = live.reviewer
    assert reviewer.get(f"/v1/submissions/{sid}").status_code == 404
    assert (
        reviewer.post(
            f"/v1/submissions/{sid}/reviews", {"revision": 1, "verdict": "approve"}
        ).status_code
        == 404
    )
    # Reviewers cannot assign themselves; another lab cannot assign for this bounty.
    assert (
        reviewer.post(f"/v1/submissions/{sid}/reviewers", {"reviewer_id": reviewer.id}).status_code
        == 404
    )
    assert (
        live.lab2.post(f"/v1/submissions/{sid}/reviewers", {"reviewer_id": reviewer.id}).status_code
        == 404
    )
    assert (
        live.author.post(
            f"/v1/submissions/{sid}/reviewers", {"reviewer_id": reviewer.id}
        ).status_code
        == 403
    )
    assigned = live.lab.post(f"/v1/submissions/{sid}/reviewers", {"reviewer_id": reviewer.id})
    assert assigned.status_code == 200 and [r["id"] for r in assigned.json()["reviewers"]] == [
        reviewer.id
    ]
    # Assigning an author as reviewer is refused.
    assert (
        live.lab.post(
            f"/v1/submissions/{sid}/reviewers", {"reviewer_id": live.author2.id}
        ).status_code
        == 422
    )
    assert reviewer.get(f"/v1/submissions/{sid}").status_code == 200
    assert reviewer.get(f"/v1/blobs/{revision['files']['env.toml']}").content == b"v1\n"
    assert live.reviewer2.get(f"/v1/submissions/{sid}").status_code == 404
    # A reviewer cannot push revisions or withdraw.
    etag = reviewer.get(f"/v1/submissions/{sid}").headers["etag"]
    manifest = reviewer.upload({"env.toml": b"x"})
    _problem(
        reviewer.post(f"/v1/submissions/{sid}/revisions", {"files": manifest}, if_match=etag), 403
    )
    _problem(
        reviewer.post(f"/v1/submissions/{sid}/transition", {"to": "withdrawn"}, if_match=etag), 403
    )
    assert (
        reviewer.post(
            f"/v1/submissions/{sid}/reviews", {"revision": 1, "verdict": "approve"}
        ).status_code
        == 201
    )
    # Once unassigned, it is invisible again.
    live.lab.delete(f"/v1/submissions/{sid}/reviewers/{reviewer.id}")
    assert reviewer.get(f"/v1/submissions/{sid}").status_code == 404


def test_authors_cannot_submit_as_labs_and_users_admin_only(live):
    assert live.lab.post("/v1/submissions", {"bounty_id": live.bounty()["id"]}).status_code == 403
    body = {"name": "newcomer", "role": "author"}
    assert live.lab.post("/v1/users", body).status_code == 403
    created = live.admin.post("/v1/users", body)
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    assert live.as_token(created.json()["token"]).get("/v1/me").json()["name"] == "newcomer"
    assert live.author.get("/v1/users").status_code == 403
    reviewers = live.lab.get("/v1/users", params={"role": "reviewer"}).json()["items"]
    assert {u["name"] for u in reviewers} == {"reviewer", "reviewer2"}


def test_oversized_json_bodies_are_refused_before_they_are_stored(make_live):
    """A client_report (stored and shown to reviewers) cannot be made arbitrarily large."""
    live = make_live(max_json_bytes=64 * 1024)
    bounty = live.bounty()
    created = live.author.post("/v1/submissions", {"bounty_id": bounty["id"]}).json()
    etag = live.author.get(f"/v1/submissions/{created['id']}").headers["etag"]
    manifest = live.author.upload({"env.toml": b"a\n"})
    huge = {"notes": "x" * (200 * 1024)}
    refused = live.author.post(
        f"/v1/submissions/{created['id']}/revisions",
        {"files": manifest, "client_report": huge},
        if_match=etag,
    )
    assert refused.status_code == 413 and refused.json()["limit"] == 64 * 1024, refused.text
    chunked = live.author.post(
        "/v1/blobs/batch",
        content=iter([b'{"sha256": [', b'"' + b"0" * 64 + b'",' * 1, b" " * (100 * 1024), b"]}"]),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413, chunked.text
    assert live.author.get(f"/v1/submissions/{created['id']}").json()["current_revision"] is None
    # Blob uploads keep their own, larger per-file limit.
    assert (
        live.author.put(
            "/v1/blobs/" + __import__("hashlib").sha256(b"y" * 100_000).hexdigest(),
            content=b"y" * 100_000,
        ).status_code
        == 201
    )


def test_the_servers_sqlite_file_is_private(tmp_path, database_url):
    import stat

    from app.platform.db import make_engine

    if not database_url.startswith("sqlite"):
        return  # a file mode only matters for the SQLite file
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'platform.sqlite3'}")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
    engine.dispose()
    for path in (tmp_path / "data").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
