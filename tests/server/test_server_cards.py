"""Pack cards on the platform: a bounty states calibration targets (checked, 422 when bad); a
revision carries its pack card as a blob; the reviewer and the lab fetch it as JSON (with the
bounty's targets met, not met or not measurable) or as the HTML page; and `gauntlet submit`
sends the package's .gauntlet/card.json with the submission. All against the real server."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from support.card_samples import HOSTILE_REPLY, sample_card
from support.platform_testkit import BACKENDS
from support.review_setup import Roles, start_local

TASKS = b'{"id": "t1", "prompt": "2+2?", "answer": "4"}\n'
TARGETS = [
    {"metric": "signal_share", "comparator": ">=", "value": 0.6, "model": "openai/half"},
    {"metric": "tasks", "comparator": ">=", "value": 10},
    {"metric": "pass_rate", "comparator": ">", "value": 0.5, "model": "lab/reference"},
]


def _push_with_card(live, bounty_id: str, card: bytes | None) -> tuple[str, httpx.Response]:
    author = live.author
    sid = author.post("/v1/submissions", {"bounty_id": bounty_id}).json()["id"]
    files = {"tasks.jsonl": TASKS, **({"\x00": card} if card is not None else {})}
    manifest = author.upload(files)
    body = {"files": {"tasks.jsonl": manifest["tasks.jsonl"]}}
    if card is not None:
        body["card"] = manifest["\x00"]
    etag = author.get(f"/v1/submissions/{sid}").headers["etag"]
    return sid, author.post(f"/v1/submissions/{sid}/revisions", body, if_match=etag)


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_bounty_targets_are_stored_checked_and_editable(live):
    bounty = live.bounty(calibration_targets=TARGETS)
    assert bounty["calibration_targets"][0] == TARGETS[0]
    assert bounty["calibration_targets"][1] == {"metric": "tasks", "comparator": ">=", "value": 10}
    assert live.bounty()["calibration_targets"] == []  # optional
    bad = live.lab.post(
        "/v1/bounties",
        {**_bounty_body(), "calibration_targets": [{"metric": "vibes", "comparator": ">="}]},
    )
    assert bad.status_code == 422
    problem = bad.json()
    assert "calibration target 1: metric 'vibes' is not one of" in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", "calibration_targets"]
    url = f"/v1/bounties/{bounty['id']}"
    etag = live.lab.get(url).headers["etag"]
    changed = live.lab.patch(
        url,
        {"calibration_targets": [{"metric": "pass_rate", "comparator": "<=", "value": 0.9}]},
        if_match=etag,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["calibration_targets"][0]["metric"] == "pass_rate"
    etag = changed.headers["etag"]
    refused = live.lab.patch(
        url, {"calibration_targets": [{"metric": "pass_rate", "comparator": "<=", "value": 9}]},
        if_match=etag,
    )  # fmt: skip
    assert refused.status_code == 422 and "a share between 0 and 1" in refused.json()["detail"]


def _bounty_body() -> dict:
    return {
        "title": "Geometry",
        "domain": "biology",
        "reward": 10,
        "deadline": "2099-01-01T00:00:00Z",
    }


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_reviewer_and_the_lab_read_the_card_with_the_targets_checked(live):
    bounty = live.bounty(calibration_targets=TARGETS)
    card = json.dumps(sample_card()).encode()
    sid, pushed = _push_with_card(live, bounty["id"], card)
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["card"] == hashlib.sha256(card).hexdigest()
    assert "\x00" not in json.dumps(pushed.json()["files"])  # the card is not a package file
    live.pass_check(sid, 1)
    live.lab.post(f"/v1/submissions/{sid}/reviewers", {"reviewer_id": live.reviewer.id})
    for reader in (live.reviewer, live.lab, live.author):
        got = reader.get(f"/v1/submissions/{sid}/revisions/1/card")
        assert got.status_code == 200, got.text
        data = got.json()
        assert data["card"]["package"]["name"] == "geometry-qa"
        assert [t["status"] for t in data["targets"]] == ["not met", "met", "not measurable"]
        assert data["targets"][0]["measured"] == pytest.approx(2 / 12)
    page = live.reviewer.get(f"/v1/submissions/{sid}/revisions/1/card.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "Bounty targets (1 of 3 met)" in page.text and "<svg" in page.text
    assert HOSTILE_REPLY not in page.text and "&lt;script&gt;" in page.text
    stranger = live.add_user("other-author", "author")
    assert stranger.get(f"/v1/submissions/{sid}/revisions/1/card").status_code == 404


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_no_card_is_a_404_and_a_bad_card_is_refused(live):
    bounty = live.bounty()
    sid, pushed = _push_with_card(live, bounty["id"], None)
    assert pushed.status_code == 201 and pushed.json()["card"] is None
    missing = live.author.get(f"/v1/submissions/{sid}/revisions/1/card")
    assert missing.status_code == 404 and "did not run `gauntlet calibrate`" in missing.text
    other = live.add_user("second-author", "author")
    live.users["author"], saved = other, live.author
    try:
        _sid, bad = _push_with_card(live, bounty["id"], b'{"schema": "gauntlet-report/1"}')
    finally:
        live.users["author"] = saved
    assert bad.status_code == 422
    assert "not a gauntlet-card/1 pack card" in bad.json()["detail"]
    assert bad.json()["errors"][0]["loc"] == ["body", "card"]


def test_gauntlet_submit_sends_the_packages_card(tmp_path, monkeypatch, capsys):
    from app.envpack.templates import create_from_template

    embedded = start_local(tmp_path / "platform")
    try:
        roles = Roles(embedded, tmp_path, monkeypatch, capsys)
        package = create_from_template("qa-exact", tmp_path / "pkg")
        (package / ".gauntlet").mkdir(exist_ok=True)
        (package / ".gauntlet" / "card.json").write_text(json.dumps(sample_card()))
        sid = roles.submit(package, tmp_path / "platform")
        headers = {"Authorization": f"Bearer {embedded.tokens['lab']}"}
        with httpx.Client(base_url=embedded.url, headers=headers) as lab:
            got = lab.get(f"/v1/submissions/{sid}/revisions/1/card")
        assert got.status_code == 200, got.text
        assert got.json()["card"] == sample_card()
    finally:
        embedded.stop()


def test_gauntlet_bounty_takes_targets_and_refuses_bad_ones(tmp_path, monkeypatch, capsys):
    embedded = start_local(tmp_path / "platform")
    try:
        roles = Roles(embedded, tmp_path, monkeypatch, capsys)
        base = ("bounty", "create", "--title", "Geometry", "--domain", "chemistry",
                "--reward", "100", "--deadline", "2099-06-30")  # fmt: skip
        code, out, err = roles(
            "lab", *base, "--target", "signal_share>=0.6@openai/gpt-4o-mini",
            "--target", "tasks >= 50",
        )  # fmt: skip
        assert code == 0, err
        assert "calibration targets: signal_share >= 0.6 on openai/gpt-4o-mini; tasks >= 50" in out
        code, out, err = roles("lab", *base, "--json", "--target", "signal_share=>0.6")
        assert code == 2 and "is not a target like signal_share>=0.6" in err
        assert "--target signal_share=>0.6" in err and "Traceback" not in err
        code, out, err = roles("lab", *base, "--target", "pass_rate>=60")
        assert code == 2 and "a share between 0 and 1" in err
    finally:
        embedded.stop()
