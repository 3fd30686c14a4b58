"""Funnel stage 3 for multi-turn packages (DESIGN §4.2, §6): the multi-turn attack campaign
(app/attacks/turn_campaign.py) and, with a model, the multi-turn LLM red team
(app/attacks/turn_redteam.py). Confirmed hits are GX340-GX348 (one code per attack family),
the rest of stage 3's codes (unconfirmed, feedback leaks, budget...) as for qa packages.
"""

from __future__ import annotations

from typing import Any

from app.attacks.campaign_findings import campaign_findings
from app.attacks.library import check_categories
from app.attacks.redteam import DEFAULT_ATTEMPTS, DEFAULT_USD, RedTeamBudget
from app.attacks.turn_campaign import TurnCampaign
from app.attacks.turn_library import code_for
from app.envpack.model import EnvPack
from app.errors import UserError
from app.finding_codes import CATALOGUE
from app.findings import Finding, Stage
from app.funnel.attack import NO_MODEL_NOTE, _not_run, _stopped, open_grading
from app.funnel.pipeline import FunnelOptions
from app.funnel.report import StageResult, stage_status_for
from app.progress import CancelToken, ProgressCallback, ignore_progress
from app.sandbox.base import SandboxUnavailable
from app.sandbox.guard import StageStopped


def run_multiturn_attack_stage(
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
    try:
        grade, info, sandbox_errors, guard = open_grading(pack, options, cancel)
    except SandboxUnavailable as exc:
        return _not_run(exc), []
    campaign = TurnCampaign(
        pack,
        grade,
        ask_persona=persona_asker(options),
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
    findings = campaign_findings(
        pack, result, campaign.library, sandbox_errors=sandbox_errors[0], code_for=code_for
    )
    findings += _persona_findings(campaign.persona_problems)
    details: dict[str, Any] = {
        "backend": info.name,
        "weak_backend": info.weak,
        "library": {
            "attacks": len(campaign.library),
            "applicable": len(campaign.library.applicable(pack, categories)),
            "categories": categories or "all",
            "multi_turn": True,
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


def persona_asker(options: FunnelOptions):
    """The persona user's replies to a trajectory, asked on the host with the run's LLM key
    (remembered, so the sandbox's replay and every confirmation hear the same user)."""
    from app.sandbox.judge import JudgeGrader
    from app.sandbox.persona import PersonaUnavailable, persona_of, persona_replies

    judge = JudgeGrader(
        api_key=options.llm_api_key,
        api_base=options.llm_api_base,
        use_environment=options.llm_from_environment,
    )

    def ask(task: dict, turns: list[dict]) -> list[str]:
        persona = persona_of(task)
        if persona is None:
            raise PersonaUnavailable(f"task {task.get('id')!r} has no persona user")
        return persona_replies(task, persona, turns, judge)

    return ask


def _persona_findings(problems: dict[str, str]) -> list[Finding]:
    if not problems:
        return []
    task_id, why = next(iter(problems.items()))
    return [
        CATALOGUE["GX349"].finding(
            f"the persona user of {len(problems)} task(s) could not be asked for the "
            f"ask-the-user attack (task {task_id}: {why})",
            task_id=task_id,
        )
    ]


def _red_team(campaign: TurnCampaign, options: FunnelOptions):
    """The multi-turn LLM red team when the user chose a model; else built-ins only."""
    if not options.llm_model:
        return None
    from app.attacks.turn_redteam import TurnRedTeam

    return TurnRedTeam(
        campaign,
        model=options.llm_model,
        api_key=options.llm_api_key,
        api_base=options.llm_api_base,
        budget=RedTeamBudget(
            attempts=options.max_llm_attempts or DEFAULT_ATTEMPTS,
            usd=options.budget_usd if options.budget_usd is not None else DEFAULT_USD,
        ),
    )
