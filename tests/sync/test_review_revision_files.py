"""A reviewer reads two revisions of a submission from the real local platform: only the blobs
the local cache lacks are downloaded, damaged bytes are refused, the checkout is written all at
once and reused, and the changes between the revisions come out as line diffs."""

from __future__ import annotations

import asyncio
import hashlib
import stat

import pytest
from support.fault_proxy import Fault, FaultProxy
from support.review_setup import Roles, start_local

from app.errors import UserError
from app.sync.errors import GarbledResponse
from app.sync.revision_diff import diff_changed, diff_file, diff_revisions
from app.sync.revision_files import (
    checkout_folder,
    fetch_checkout,
    fetch_missing_blobs,
    materialise,
    revision_files,
)

OLD_NOTES = b"Draft notes, dropped in revision 2.\n"


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def two_revisions(tmp_path, gauntlet_home, monkeypatch, capsys):
    """A submission in review with two revisions: r2 edits grader.py, adds notes.md and drops
    draft.md. Yields (embedded platform, submission id)."""
    from app.envpack.templates import create_from_template

    embedded = start_local(tmp_path / "platform")
    try:
        roles = Roles(embedded, tmp_path, monkeypatch, capsys)
        package = create_from_template("qa-python", tmp_path / "pkg")
        (package / "draft.md").write_bytes(OLD_NOTES)
        sid = roles.submit(package, tmp_path / "platform")
        grader = package / "grader.py"
        lines = grader.read_text().splitlines(keepends=True)
        lines[1] = "# checked by hand\n"
        grader.write_text("".join(lines))
        (package / "notes.md").write_text("Why the answers are exact.\n")
        (package / "draft.md").unlink()
        assert roles.submit(package, tmp_path / "platform") == sid
        monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home-app"))
        yield embedded, sid
    finally:
        embedded.stop()


@pytest.fixture
def reviewer(two_revisions, open_session):
    """The reviewer's session through a proxy that counts (and can damage) downloads."""
    embedded, sid = two_revisions
    with FaultProxy(embedded.url) as proxy:
        session = open_session(proxy.url, embedded.tokens["reviewer"], key="reviewer")
        run(session.engine.sync())
        yield session, sid, proxy


def blob_gets(proxy) -> int:
    return proxy.count("GET", "/v1/blobs/")


def test_checkout_downloads_only_missing_blobs_and_is_reused(reviewer):
    session, sid, proxy = reviewer
    store, client, blobs = session.store, session.client, session.engine.blobs
    old = revision_files(store, sid, 1)
    new = revision_files(store, sid, 2)
    assert "draft.md" in old and "notes.md" in new and "draft.md" not in new

    first = run(fetch_checkout(store, client, blobs, sid, 1))
    assert blob_gets(proxy) == len(set(old.values()))
    assert first.root == checkout_folder(store, sid, 1) and first.read("draft.md") == OLD_NOTES
    assert not stat.S_IMODE((first.root / "grader.py").stat().st_mode) & 0o222

    # Revision 2 shares every unchanged file with revision 1: only grader.py and notes.md.
    second = run(fetch_checkout(store, client, blobs, sid, 2))
    assert blob_gets(proxy) == len(set(old.values()) | set(new.values()))
    assert set(new.values()) - set(old.values()) == {new["grader.py"], new["notes.md"]}
    for path, sha in new.items():
        assert hashlib.sha256(second.read(path)).hexdigest() == sha

    # Opened again: the checkout is there, nothing is downloaded, even with the cache emptied.
    blobs.keep_only([])
    before = blob_gets(proxy)
    assert run(fetch_checkout(store, client, blobs, sid, 2)).root == second.root
    assert blob_gets(proxy) == before
    leftovers = [p.name for p in second.root.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_damaged_bytes_are_refused_and_nothing_is_written(reviewer):
    session, sid, proxy = reviewer
    store, client, blobs = session.store, session.client, session.engine.blobs
    files = revision_files(store, sid, 1)
    proxy.add(Fault("garble", method="GET", path_contains="/v1/blobs/", times=-1))
    with pytest.raises(GarbledResponse) as caught:
        run(fetch_checkout(store, client, blobs, sid, 1))
    message = str(caught.value)
    assert "damaged bytes" in message and "Nothing was saved" in message
    assert any(path in message for path in files)
    assert caught.value.hint.startswith("Try again")
    assert not checkout_folder(store, sid, 1).exists()
    assert not any(blobs.has(sha) for sha in files.values())

    proxy.clear()  # the connection is healthy again: the same call now succeeds
    assert run(fetch_checkout(store, client, blobs, sid, 1)).read("draft.md") == OLD_NOTES


def test_a_damaged_cached_blob_is_downloaded_again(reviewer):
    session, sid, proxy = reviewer
    store, client, blobs = session.store, session.client, session.engine.blobs
    files = revision_files(store, sid, 1)
    assert run(fetch_missing_blobs(client, blobs, files)) == len(set(files.values()))
    damaged = files["grader.py"]
    blobs.path_for(damaged).write_bytes(b"not the grader")
    assert run(fetch_missing_blobs(client, blobs, files)) == 1
    assert blobs.read(damaged) is not None


def test_a_half_written_checkout_never_takes_the_final_place(reviewer, tmp_path):
    session, sid, _ = reviewer
    store, blobs = session.store, session.engine.blobs
    files = revision_files(store, sid, 1)
    target = tmp_path / "checkout" / "r1"
    # The blobs are not cached: writing stops at the first file, and the folder is not there.
    with pytest.raises(UserError, match="went missing"):
        materialise(blobs, files, target)
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_an_unknown_revision_or_unsafe_manifest_is_a_clear_error(reviewer):
    session, sid, _ = reviewer
    store = session.store
    with pytest.raises(UserError, match="Revision 9 of submission") as caught:
        revision_files(store, sid, 9)
    assert "Sync first" in caught.value.hint
    rev = store.submissions.revisions(sid)[0]
    hostile = {**rev.data, "submission_id": sid, "number": 1}
    hostile["files"] = {"../../outside.txt": "a" * 64}
    store.submissions.upsert_revision(hostile)
    with pytest.raises(UserError, match="unsafe or malformed") as caught:
        revision_files(store, sid, 1)
    assert "administrator" in caught.value.hint


def test_changes_between_revisions_as_line_diffs(reviewer):
    session, sid, _ = reviewer
    store, client, blobs = session.store, session.client, session.engine.blobs
    old = run(fetch_checkout(store, client, blobs, sid, 1))
    new = run(fetch_checkout(store, client, blobs, sid, 2))
    diffs = {d.path: d for d in diff_revisions(old.files, new.files, old.read, new.read)}
    assert {p: d.change for p, d in diffs.items()} == {
        "grader.py": "modified",
        "notes.md": "added",
        "draft.md": "deleted",
    }
    grader = diffs["grader.py"]
    assert (grader.added, grader.removed) == (1, 1) and len(grader.hunks) == 1
    removed = next(line for line in grader.hunks[0].lines if line.kind == "removed")
    added = next(line for line in grader.hunks[0].lines if line.kind == "added")
    assert (removed.old, removed.new, added.old, added.new) == (2, None, None, 2)
    assert added.text == "# checked by hand"
    assert grader.hunks[0].header.startswith("@@ -1,")
    assert diffs["notes.md"].added == 1 and diffs["notes.md"].hunks[0].header == "@@ -0,0 +1,1 @@"
    assert diffs["draft.md"].removed == 1 and diffs["draft.md"].hunks[0].header == "@@ -1,1 +0,0 @@"
    # Lazily, one file: only its two versions are read.
    read = []
    lazy = diff_changed(old.files, new.files, lambda p: read.append(p) or old.read(p), new.read,
                        "grader.py")  # fmt: skip
    assert lazy == grader and read == ["grader.py"]
    # A first review: every file is new.
    first = diff_revisions(None, new.files, None, new.read)
    assert {d.change for d in first} == {"added"} and len(first) == len(new.files)


def test_line_diff_edge_cases():
    far = "".join(f"line {i}\n" for i in range(1, 41))
    edited = far.replace("line 5\n", "line five\n").replace("line 35\n", "")
    diff = diff_file("a.txt", far.encode(), edited.encode())
    assert len(diff.hunks) == 2 and (diff.added, diff.removed) == (1, 2)
    assert [h.header for h in diff.hunks] == ["@@ -2,7 +2,7 @@", "@@ -32,7 +32,6 @@"]
    last = diff.hunks[1].lines
    assert [(x.old, x.new) for x in last if x.kind == "context"][-1] == (38, 37)
    big = b"x\n" * 30_000
    assert "too large" in diff_file("big.txt", big, big + b"y\n").note
    assert "binary" in diff_file("b.bin", b"\xff\xfe\xfa", b"text\n").note
    assert diff_file("empty.txt", None, b"").note == "empty.txt is empty."
