"""`gauntlet attack DIR` (structural checks, then stage 3: the attack library and, with
--llm, the LLM red team) and `gauntlet run DIR` (the whole funnel, stages 1–3).

Exit codes: 0 no confirmed hit and no error; 1 confirmed hits or other errors in the input;
2 not a package, or no usable sandbox; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.commands.console import Console
from app.commands.funnel_output import run_and_print
from app.commands.package_args import (
    add_package_arguments,
    add_sandbox_arguments,
    check_sandbox_arguments,
    require_package,
    sandbox_options,
)
from app.commands.subcommand import add_command
from app.errors import UserError
from app.findings import Stage

ORDER = 25
API_KEY_ENV = "GAUNTLET_LLM_API_KEY"


def register(subparsers: argparse._SubParsersAction) -> None:
    attack = add_command(subparsers, "attack", run_attack, _common, stages=(Stage.ATTACK,))
    attack.add_argument(
        "--only",
        nargs="+",
        metavar="CATEGORY",
        default=[],
        help="attack categories to run: answer-format, parser, judge, code-execution, "
        "environment, leakage, resource (default: all)",
    )
    add_command(
        subparsers, "run", run_funnel, _common, stages=(Stage.VERIFY, Stage.ATTACK), only=[]
    )


def _common(p: argparse.ArgumentParser) -> None:
    add_package_arguments(p)
    p.add_argument(
        "--html",
        type=Path,
        metavar="OUT.html",
        help="also write the report as a self-contained HTML page with charts",
    )
    p.add_argument(
        "--llm",
        metavar="MODEL",
        help="add the LLM red team with this litellm model, "
        "e.g. openai/gpt-4o-mini (its key: the provider's usual environment variable, "
        f"{API_KEY_ENV}, or the key saved in the app's settings)",
    )
    p.add_argument(
        "--llm-api-base",
        metavar="URL",
        help="an OpenAI-compatible server for --llm (vLLM, llama.cpp, Ollama's /v1...)",
    )
    p.add_argument(
        "--budget-usd",
        type=float,
        metavar="X",
        help="most the LLM red team may spend "
        "(default: $1.00); the estimate is shown before it starts",
    )
    p.add_argument(
        "--max-llm-attempts", type=int, metavar="N", help="most LLM proposals (default: 12)"
    )
    p.add_argument(
        "--save-trajectories",
        type=Path,
        metavar="OUT.json",
        help="agentic packages: write the LLM red-team agent's runs to this file, for the "
        "app's trajectory viewer (File → Open trajectory…), instead of into the report",
    )
    add_sandbox_arguments(p)


def _check_numbers(args: argparse.Namespace) -> None:
    check_sandbox_arguments(args)
    if args.budget_usd is not None and not (args.budget_usd >= 0):
        raise UserError(
            "--budget-usd must be a number of dollars, 0 or more.", "For example --budget-usd 0.50."
        )
    if args.max_llm_attempts is not None and args.max_llm_attempts < 1:
        raise UserError(
            "--max-llm-attempts must be 1 or more.", "Leave it out for the default (12)."
        )
    llm_only = args.budget_usd is not None or args.max_llm_attempts or args.llm_api_base
    if (llm_only or args.save_trajectories) and not args.llm:
        raise UserError(
            "--budget-usd, --max-llm-attempts, --llm-api-base and --save-trajectories only "
            "apply to the LLM red team.",
            "Add --llm MODEL (for example --llm openai/gpt-4o-mini).",
        )
    saved = args.save_trajectories
    if saved is not None and (saved.is_dir() or not saved.resolve().parent.is_dir()):
        raise UserError(
            f"--save-trajectories {saved}: not a file in an existing folder.",
            "Give a file name in a folder that exists, for example --save-trajectories runs.json.",
        )


def resolve_llm_key(model: str | None) -> str | None:
    """The key for `model`: GAUNTLET_LLM_API_KEY, else the app's keychain entry for the provider.
    else the provider's usual variable (OPENAI_API_KEY, ...), read here because the funnel
    clears API keys from its process environment before grading. Never printed."""
    from app.sandbox.hostguard import provider_key_from_environment

    if not model:
        return None
    if os.environ.get(API_KEY_ENV):
        return os.environ[API_KEY_ENV]
    provider = model.split("/", 1)[0] if "/" in model else model
    try:
        from app.sync.credentials import CredentialStore, llm_key_name

        stored = CredentialStore(timeout_s=5).get(llm_key_name(provider))
    except Exception:  # noqa: BLE001 - no keychain is fine: the environment may have it
        stored = None
    return stored or provider_key_from_environment(model)


def run_funnel(args: argparse.Namespace) -> int:
    """run the whole verification funnel (structure, sandbox verification, attacks)

    Stages 1–3: structural checks, sandboxed verification, adversarial stress-testing. Stage 3
    is skipped when stage 2 fails: a broken environment is reported as broken, not as hacked.
    Exit 0: pass; 1: errors or confirmed hits; 2: not a package, or no usable sandbox.
    """
    return run_attack(args)  # the same run as `attack`, with stage 2 and every category


def run_attack(args: argparse.Namespace) -> int:
    """stress-test the grader with reward-hack attacks (funnel stage 3)

    Try the built-in reward-hack attacks (and, with --llm, an LLM red team) against the
    package's grader in a sandbox; every hit is confirmed in fresh sandboxes before it is
    reported. Exit 0: no confirmed hit; 1: confirmed hits or errors; 2: not a package, or no
    usable sandbox.
    """
    from app.attacks.library import check_categories
    from app.funnel.pipeline import FunnelOptions
    from app.funnel.report import StageStatus, Verdict

    require_package(args.dir)
    _check_numbers(args)
    categories = check_categories(args.only)
    options = FunnelOptions(
        **sandbox_options(args),
        llm_model=args.llm,
        llm_api_key=resolve_llm_key(args.llm),
        llm_api_base=args.llm_api_base,
        budget_usd=args.budget_usd,
        max_llm_attempts=args.max_llm_attempts,
        attack_categories=categories,
        trajectories_path=args.save_trajectories,
    )
    report = run_and_print(
        args, args.stages, options, _print_stage, notes=True, print_evidence=_print_working_response
    )
    if args.html is not None:
        from app.commands.report import write_page

        write_page(report, args.html)
    if report.verdict == Verdict.ERROR or any(s.status == StageStatus.ERROR for s in report.stages):
        return 2
    return 1 if report.errors() else 0


def _print_working_response(console: Console, finding) -> None:
    """Under a reward hack (GX301/GX302), the response that earned the reward, cut at 300."""
    evidence = finding.evidence or {}
    if finding.code not in ("GX301", "GX302") or "response" not in evidence:
        return
    shown = (
        evidence["response"]
        if len(evidence["response"]) <= 300
        else evidence["response"][:300] + "…"
    )
    console.plain(
        console.paint(
            (
                "    response that worked "
                f"({evidence.get('response_chars', len(shown))} chars): {shown!r}"
            ),
            "dim",
        )
    )


def _print_stage(console: Console, stage) -> None:
    details = stage.details or {}
    attack_summary = stage.name == Stage.ATTACK and "categories" in details
    colour = {"pass": "green", "warn": "yellow", "skipped": "dim"}.get(str(stage.status), "red")
    console.plain(
        f"{stage.name}: "
        f"{console.paint(str(stage.status), colour)} ({stage.duration_s:.1f} s)"
        f"{_stage_extra(details, attack_summary=attack_summary)}"
    )
    if attack_summary:
        _print_attack_categories(console, details["categories"])
        _print_llm_red_team(console, details.get("llm") or {})


def _stage_extra(details: dict, *, attack_summary: bool) -> str:
    """What follows a stage's status: the attack counts, or why it stopped; then its budget."""
    from app.sandbox.guard import describe_budget

    extra = ""
    if attack_summary:
        extra = (
            f" — {details.get('gradings', 0)} gradings in "
            f"{details.get('sandbox_batches', 0)} sandbox batch(es) "
            f"({details.get('backend', '?')}); confirmed hits: "
            f"{details.get('confirmed_hits', 0)}, "
            f"unconfirmed: {details.get('unconfirmed_hits', 0)}"
        )
        if details.get("assumed_hits"):
            extra += f", resting on an unstated assumption (GX310): {details['assumed_hits']}"
    elif details.get("reason"):
        extra = f" — {details['reason']}" + (
            f"\n  hint: {details['hint']}" if details.get("hint") else ""
        )
    if details.get("budget"):
        extra += f"\n  {describe_budget(details['budget'])}"
    return extra


def _print_attack_categories(console: Console, categories: dict) -> None:
    for category, stats in categories.items():
        if stats.get("attacks") or stats.get("candidates"):
            mark = (
                console.paint("HIT", "red")
                if stats.get("confirmed")
                else console.paint("ok ", "green")
            )
            console.plain(
                f"  [{mark}] {category:15s} {stats['attacks']:2d} attack(s), "
                f"{stats['candidates']:4d} response(s) tried, "
                f"{stats['confirmed']} confirmed"
            )


def _print_llm_red_team(console: Console, llm: dict) -> None:
    if llm.get("model"):
        spent = (
            f"${llm['cost_usd']:.4f}"
            if isinstance(llm.get("cost_usd"), int | float)
            else "cost unknown"
        )
        console.plain(
            f"  LLM red team ({llm['model']}): "
            f"{llm.get('attempts', 0)} attempt(s), {spent}, "
            f"{llm.get('inconclusive', 0)} inconclusive, stopped: "
            f"{llm.get('stopped_by', '?')}"
        )
    elif llm.get("note"):
        console.plain(console.paint(f"  {llm['note']}", "dim"))
