"""Funnel stage 3: adversarial stress-testing.

Runs the built-in attack library (and, when a model is configured, the LLM red team) against
the package's grader in the sandbox, confirms every candidate hit in fresh sandboxes (2 of 3
must reproduce) and reports confirmed hits as GX3xx findings. The pipeline only calls this
stage when stage 2 passed, so a broken environment is reported as broken, not as hacked.
"""

from __future__ import annotations

from app.attacks.campaign import AttackCampaign, GradeFn
from app.attacks.campaign_findings import campaign_findings
from app.attacks.library import AttackLibrary, check_categories
from app.attacks.redteam import DEFAULT_ATTEMPTS, DEFAULT_USD, RedTeam, RedTeamBudget
from app.envpack.model import EnvPack
from app.errors import UserError
from app.finding_codes import FindingSink
from app.findings import Finding, Stage
from app.funnel.pipeline import FunnelOptions
from app.funnel.report import StageResult, StageStatus, stage_status_for
from app.funnel.verify import not_answering_finding
from app.progress import CancelToken, ProgressCallback, ignore_progress
from app.sandbox.base import BackendInfo, GradingItem, GradingResult, SandboxUnavailable
from app.sandbox.guard import GradingGuard, StageStopped, guard_for

NO_MODEL_NOTE = (
    "no model configured: only the built-in attack "
    "library ran (use --llm MODEL to add the LLM red team)"
)


def run_attack_stage(
    pack: EnvPack,
    options: FunnelOptions,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> tuple[StageResult, list[Finding]]:
    cancel = cancel or CancelToken()
    try:
        categories = check_categories(options.attack_categories)
    except UserError as exc:
        return _not_run(exc), []
    library = AttackLibrary.builtin()
    try:
        grade, info, sandbox_errors, guard = open_grading(pack, options, cancel)
    except SandboxUnavailable as exc:
        return _not_run(exc), []

    campaign = AttackCampaign(
        pack,
        grade,
        library=library,
        categories=categories,
        confirm_runs=options.confirm_runs,
        progress=progress,
        cancel=cancel,
    )
    red_team = _red_team(campaign, options)
    try:
        result = campaign.run(red_team)
    except SandboxUnavailable as exc:
        return _not_run(exc), []
    except StageStopped as stop:
        return _stopped(pack, info, stop.guard)

    findings = campaign_findings(pack, result, library, sandbox_errors=sandbox_errors[0])
    details = {
        "backend": info.name,
        "weak_backend": info.weak,
        "library": {
            "attacks": len(library),
            "applicable": len(library.applicable(pack, categories)),
            "categories": categories or "all",
        },
        **result.summary(),
        "llm": result.llm or {"model": None, "note": NO_MODEL_NOTE},
    }
    if guard is not None:
        details["budget"] = guard.summary()
    if info.weak:
        details["backend_note"] = (
            info.description or "the process backend isolates less than Docker"
        )
    return StageResult(Stage.ATTACK, stage_status_for(findings), details=details), findings


def _not_run(exc: UserError | SandboxUnavailable) -> StageResult:
    """The stage could not start or went on without a sandbox: an error, with the reason."""
    return StageResult(
        Stage.ATTACK, StageStatus.ERROR, details={"reason": exc.message, "hint": exc.hint}
    )


def _red_team(campaign: AttackCampaign, options: FunnelOptions) -> RedTeam | None:
    """The LLM red team when the user chose a model, within its budget; else built-ins only."""
    if not options.llm_model:
        return None
    return RedTeam(
        campaign,
        model=options.llm_model,
        api_key=options.llm_api_key,
        api_base=options.llm_api_base,
        budget=RedTeamBudget(
            attempts=options.max_llm_attempts or DEFAULT_ATTEMPTS,
            usd=options.budget_usd if options.budget_usd is not None else DEFAULT_USD,
        ),
    )


def _stopped(
    pack: EnvPack, info: BackendInfo, guard: GradingGuard
) -> tuple[StageResult, list[Finding]]:
    sink = FindingSink(Stage.ATTACK)
    not_answering_finding(pack, sink, guard)
    details = {"backend": info.name, "weak_backend": info.weak, "budget": guard.summary()}
    return StageResult(Stage.ATTACK, stage_status_for(sink.findings), details=details), (
        sink.findings
    )


def open_grading(
    pack: EnvPack, options: FunnelOptions, cancel: CancelToken
) -> tuple[GradeFn, BackendInfo, list[int], GradingGuard | None]:
    """A grading function over the chosen sandbox backend: each call is one fresh batch.
    Also returns a counter of gradings the sandbox itself failed (not the grader), and the
    stage's guard (None for judge graders), which raises `StageStopped` once it stopped."""
    from app.sandbox.backends import backend_for

    # judge graders are graded on the host by the backend's JudgeGrader, with these credentials
    grader = backend_for(options)
    sandbox_errors = [0]
    guard = None if pack.grader.type == "judge" else guard_for(pack, options.jobs)

    def grade(target: EnvPack, items: list[GradingItem], on_result) -> list[GradingResult]:
        if guard is not None:
            guard.admit(len(items))
        results = grader.grade_batch(
            target, items, on_result=on_result, cancel=cancel, jobs=options.jobs, guard=guard
        )
        if guard is not None and guard.stopped:
            raise StageStopped(guard)
        sandbox_errors[0] += sum(1 for r in results if r.error == "sandbox")
        return results

    return grade, grader.info, sandbox_errors, guard
