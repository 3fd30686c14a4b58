"""A schema-driven fuzz of the whole API (schemathesis + hypothesis against the real server):
valid and invalid inputs to every operation, as different roles, never a 5xx, and every error
is problem+json."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import GenerationMode

EXAMPLES_PER_OPERATION = 20


def _seed(live) -> dict[str, object]:
    bounty = live.bounty()
    revision = live.author.submit(
        bounty["id"], {"env.toml": b'schema = "gauntlet/1"\n', "tasks.jsonl": b'{"id": "t1"}\n'}
    )
    sid = revision["submission_id"]
    live.lab.post(f"/v1/submissions/{sid}/reviewers", {"reviewer_id": live.reviewer.id})
    thread = live.reviewer.post(
        f"/v1/submissions/{sid}/threads",
        {"revision": 1, "path": "tasks.jsonl", "start_line": 1, "body": "?"},
    ).json()
    return {
        "bounty_id": bounty["id"],
        "submission_id": sid,
        "thread_id": thread["id"],
        "number": 1,
        "sha256": revision["files"]["env.toml"],
        "reviewer_id": live.reviewer.id,
    }


@pytest.mark.slow
def test_fuzzing_every_operation_never_gives_a_server_error(live):
    known = _seed(live)
    schema = schemathesis.openapi.from_dict(live.anonymous().get("/openapi.json").json())
    tokens = [
        live.admin.token,
        live.author.token,
        live.reviewer.token,
        live.lab.token,
        "gst_forged",
    ]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    failures: list[str] = []
    calls = 0

    def fuzz(operation) -> None:
        nonlocal calls
        names = {p.name for p in operation.path_parameters} if operation.path_parameters else set()
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if names:  # also aim at things that exist, to get past the 404s
            fixed = {name: known[name] for name in names if name in known}
            if fixed:
                strategies.append(
                    operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed)
                )

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.generate],
        )
        @hypothesis.given(case=st.one_of(strategies), token=st.sampled_from(tokens))
        def run(case, token):
            nonlocal calls
            calls += 1
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"fuzz-{calls}"}
            response = case.call(base_url=live.url, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{operation.method.upper()} {operation.path}: {response.status_code} "
                    f"{response.text[:200]} for {case.path_parameters} "
                    f"{case.query} {str(case.body)[:200]}"
                )
            elif response.status_code >= 400:
                content_type = response.headers.get("content-type") or [""]  # schemathesis: lists
                assert content_type[0].startswith("application/problem+json"), (
                    f"{operation.method.upper()} {operation.path} "
                    f"answered {response.status_code} without problem+json"
                )

        run()

    for operation in operations:
        fuzz(operation)
    assert calls >= len(operations) * 10
    assert not failures, "\n".join(failures[:20])
    # The server is still healthy and consistent afterwards.
    assert live.anonymous().get("/v1/health").json()["status"] == "ok"
    assert live.author.get(f"/v1/submissions/{known['submission_id']}").status_code == 200
