"""The worst case of a stage is bounded by design (app/sandbox/guard.py), on a simulated runner
and clock: with timeout_s = 600 and 100 tasks a grader that never answers, or crashes on every
call, costs a couple of time limits, not gradings × timeout_s."""

from __future__ import annotations

import math

import pytest
from support.bounded_packages import ANSWERS, CRASHES, NEVER_ANSWERS, write_package
from support.simulated_runner import Ledger, SimClock, crashes, never_answers, simulated_start

from app.envpack.loader import load_envpack
from app.findings import Severity
from app.funnel.pipeline import FunnelOptions
from app.sandbox.base import BackendInfo, GradingItem
from app.sandbox.batch_run import rejudge_parallel, run_batch
from app.sandbox.guard import STOP_BUDGET, STOP_UNANSWERED, GradingGuard, guard_for
from app.sandbox.limits import limits_for


def _pack(tmp_path, grader=ANSWERS, *, timeout_s=600, tasks=100):
    result = load_envpack(write_package(tmp_path / "pkg", grader, timeout_s=timeout_s, tasks=tasks))
    assert result.pack is not None, result.findings
    return result.pack


def _items(pack, expect_answer=True):
    return [
        GradingItem(f"ref:{t.id}", t.record, t.record["answer"], expect_answer=expect_answer)
        for t in pack.tasks
    ] + [GradingItem(f"empty:{t.id}", t.record, "") for t in pack.tasks]


@pytest.mark.parametrize("outcome_name", ["never-answers", "crashes"])
@pytest.mark.parametrize("timeout_s", [10, 600])
def test_a_grader_that_does_not_answer_costs_two_time_limits(tmp_path, outcome_name, timeout_s):
    pack = _pack(tmp_path, timeout_s=timeout_s)
    clock, ledger = SimClock(), Ledger()
    outcome = never_answers(timeout_s) if outcome_name == "never-answers" else crashes
    limits = limits_for(pack, None)
    guard = GradingGuard(timeout_s=timeout_s, parallel=limits.jobs, clock=clock)
    items = _items(pack)
    guard.admit(2 * len(items))  # the stage's two runs
    results = run_batch(
        pack, items, simulated_start(clock, ledger, outcome), limits=limits, guard=guard
    )
    assert guard.stopped == STOP_UNANSWERED
    # Two rounds of gradings side by side, then everything else is skipped, in one sandbox.
    assert clock.now <= 2 * timeout_s
    if outcome_name == "never-answers":
        assert ledger.sandboxes == 1
        assert len(ledger.graded) <= guard.max_unanswered + limits.jobs
    else:  # quick crashes are re-run alone before they count: K more gradings, no more
        assert ledger.sandboxes <= 1 + rejudge_parallel(limits)
        assert len(ledger.graded) <= len(items) + guard.max_unanswered + limits.jobs
    skipped = [r for r in results if r.error == "skipped"]
    assert len(skipped) == guard.skipped >= len(items) - len(ledger.graded)
    if skipped:
        assert "in a row" in skipped[0].detail
    # the stage's second run (flakiness) is never started: see the stage test below
    assert {r.error for r in results} <= {"timeout", "crash", "skipped"}


def test_attack_responses_built_to_hang_do_not_stop_the_stage(tmp_path):
    pack = _pack(tmp_path, timeout_s=600, tasks=100)
    clock, ledger = SimClock(), Ledger()
    limits = limits_for(pack, None)
    guard = GradingGuard(timeout_s=600, parallel=limits.jobs, clock=clock)
    # Ten attack responses in a row make the grader hang; the other gradings answer at once.
    items = _items(pack, expect_answer=False)[:10] + _items(pack)[10:]

    def outcome(key):
        hangs = key.startswith("ref:") and int(key.removeprefix("ref:t")) < 10
        return (600, {"error": "timeout"}) if hangs else (0.1, {"raw": 0.0})

    guard.admit(len(items))
    results = run_batch(
        pack, items, simulated_start(clock, ledger, outcome), limits=limits, guard=guard
    )
    assert guard.stopped is None, guard.reason()
    assert [r.error for r in results[:10]] == ["timeout"] * 10
    assert all(r.ok for r in results[10:])


def test_timed_out_gradings_are_rejudged_side_by_side(tmp_path):
    pack = _pack(tmp_path, timeout_s=10, tasks=8)
    clock, ledger = SimClock(), Ledger()
    limits = limits_for(pack, None)
    items = _items(pack)  # only the refs time out; no guard, so nothing stops the batch

    def outcome(key):
        return (10, {"error": "timeout"}) if key.startswith("ref:") else (0.1, {"raw": 0.0})

    results = run_batch(pack, items, simulated_start(clock, ledger, outcome), limits=limits)
    assert [r.error for r in results[:8]] == ["timeout"] * 8
    # One sandbox for the batch, then the eight suspects alone in as many sandboxes side by
    # side as this machine has room for (cores and free memory for the package's limits).
    side_by_side = rejudge_parallel(limits)
    assert ledger.sandboxes == 1 + min(side_by_side, 8)
    assert len(ledger.graded) == len(items) + 8


def test_a_grader_that_answers_just_in_time_stops_at_the_stage_budget(tmp_path):
    pack = _pack(tmp_path, timeout_s=600)
    clock, ledger = SimClock(), Ledger()
    limits = limits_for(pack, None)
    guard = GradingGuard(timeout_s=600, parallel=limits.jobs, clock=clock)
    items = _items(pack)
    guard.admit(2 * len(items))
    results = run_batch(
        pack,
        items,
        simulated_start(clock, ledger, lambda key: (590, {"raw": 0.0})),
        limits=limits,
        guard=guard,
    )
    assert guard.stopped == STOP_BUDGET
    expected = 120 + guard.max_unanswered * 600 + math.ceil(2 * len(items) / limits.jobs) * 60
    assert guard.budget_s == expected
    assert clock.now <= guard.budget_s + 600
    assert any(r.error == "skipped" for r in results)
    assert "time budget" in guard.reason()


class _SimulatedBackend:
    """The real run_batch over the simulated runner, for a whole stage at timeout_s = 600."""

    info = BackendInfo(name="simulated", weak=False)

    def __init__(self, outcome):
        self.clock, self.ledger, self.outcome = SimClock(), Ledger(), outcome

    def grade_batch(self, pack, items, *, on_result=None, cancel=None, jobs=None, guard=None):
        start = simulated_start(self.clock, self.ledger, self.outcome)
        limits = limits_for(pack, jobs)
        return run_batch(
            pack, items, start, limits=limits, on_result=on_result, cancel=cancel, guard=guard
        )


@pytest.mark.parametrize("grader", [NEVER_ANSWERS, CRASHES], ids=["never-answers", "crashes"])
def test_verify_stage_at_600_s_stops_early_with_one_finding(tmp_path, monkeypatch, grader):
    from app.funnel import verify

    pack = _pack(tmp_path, grader, timeout_s=600)
    backend = _SimulatedBackend(never_answers(600) if grader is NEVER_ANSWERS else crashes)
    monkeypatch.setattr(verify, "backend_for", lambda options: backend)
    # The real guard runs on the real clock; the simulated runner answers at once, so the
    # stop must come from the count of gradings that did not answer, not from time.
    stage, findings = verify.run_verify_stage(pack, FunnelOptions())
    assert [f.code for f in findings] == ["GX214"]
    (finding,) = findings
    assert finding.severity == Severity.ERROR and "does not answer" in finding.message
    assert finding.file == "env.toml" and finding.line is not None  # at timeout_s
    budget = stage.details["budget"]
    assert budget["stopped"] == "unanswered" and budget["timeout_s"] == 600
    gradings = len(verify.build_items(pack)[0])
    assert budget["skipped"] >= gradings - len(backend.ledger.graded)
    graded = len(backend.ledger.graded)
    if grader is NEVER_ANSWERS:
        assert graded <= budget["stop_after_unanswered"] + budget["parallel"]
    else:  # quick crashes are re-run alone before they count
        assert graded <= gradings + budget["stop_after_unanswered"] + budget["parallel"]
    assert stage.details["flakiness_checked"] is False
    shown = len(finding.evidence["gradings"])  # K, plus any under way beside them
    stop_after = budget["stop_after_unanswered"]
    assert stop_after <= shown < stop_after + budget["parallel"], (shown, budget)


def test_guard_for_uses_the_packages_time_limit_and_parallelism(tmp_path):
    pack = _pack(tmp_path, timeout_s=600)
    guard = guard_for(pack, None)
    assert guard.timeout_s == 600 and guard.parallel == limits_for(pack, None).jobs
    assert guard.max_unanswered == max(3, guard.parallel + 1)
