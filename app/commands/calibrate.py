"""`gauntlet calibrate DIR --model M [--model M2 ...] --samples k`: is the package learnable?

Exit codes: 0 the card covers every sample; 1 the run stopped early (the budget cap, or the
grader stopped answering) and the card says how far it got; 2 bad input, a provider that
cannot be asked, or no usable sandbox; 130 interrupted (every completion so far is cached).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from app.commands.console import Console
from app.commands.funnel_output import ProgressBar
from app.commands.package_args import (
    add_sandbox_arguments,
    check_sandbox_arguments,
    require_package,
    sandbox_options,
)
from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 27
NO_KEY = "no-key"  # what a keyless local OpenAI-compatible server is sent


def register(subparsers: argparse._SubParsersAction) -> None:
    add_command(subparsers, "calibrate", run_calibrate, _options)


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", type=Path, metavar="DIR", help="the package folder (holding env.toml)")
    p.add_argument("--json", action="store_true", help="print the gauntlet-card/1 JSON card")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="MODEL",
        help="a litellm model to sample, e.g. openai/gpt-4o-mini; repeat for a ladder of models "
        "(keys: GAUNTLET_LLM_API_KEY, the app's saved key, or the provider's usual variable)",
    )
    p.add_argument(
        "--samples", type=int, default=4, metavar="K", help="samples per task and model (default 4)"
    )
    p.add_argument(
        "--llm-api-base",
        metavar="URL",
        help="an OpenAI-compatible server (vLLM, llama.cpp, Ollama's /v1...) for every model",
    )
    p.add_argument(
        "--budget-usd",
        type=float,
        default=5.0,
        metavar="X",
        help="hard cap on what the run may spend (default $5.00); it stops before a request "
        "could cross it",
    )
    p.add_argument(
        "--concurrency", type=int, default=4, metavar="N", help="requests in flight (default 4)"
    )
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (1.0)")
    p.add_argument("--max-tokens", type=int, default=1024, metavar="N", help="reply limit (1024)")
    p.add_argument(
        "--out",
        type=Path,
        metavar="CARD.json",
        help="where to write the card (default DIR/.gauntlet/card.json); its HTML page goes "
        "next to it (card.html)",
    )
    p.add_argument(
        "--estimate-only", action="store_true", help="show the cost estimate, ask nothing"
    )
    p.add_argument(
        "--contamination",
        action="store_true",
        help="also probe each model for memorised tasks: the answer without the question, and "
        "the rest of the prompt from its first half (2 more requests per task and model)",
    )
    p.add_argument(
        "--max-steps",
        type=int,
        default=20,
        metavar="N",
        help="agentic packages: most commands in one agent run (default 20); each sample is one "
        "honest agent run in the task's container, graded by its verifier",
    )
    add_sandbox_arguments(p)


def _check(args: argparse.Namespace) -> None:
    check_sandbox_arguments(args)
    if not args.model:
        raise UserError(
            "no model to calibrate with.",
            "Add --model MODEL (for example --model openai/gpt-4o-mini); repeat it for a ladder.",
        )
    if len(set(args.model)) != len(args.model):
        raise UserError("a --model is given twice.", "Give each model once.")
    checks = (
        (args.samples >= 1, "--samples must be 1 or more.", "For example --samples 4."),
        (args.budget_usd >= 0, "--budget-usd must be 0 or more.", "For example --budget-usd 2."),
        (args.concurrency >= 1, "--concurrency must be 1 or more.", "For example --concurrency 4."),
        (args.max_tokens >= 1, "--max-tokens must be 1 or more.", "For example --max-tokens 512."),
        (args.temperature >= 0, "--temperature must be 0 or more.", "For example 0.7."),
        (args.max_steps >= 1, "--max-steps must be 1 or more.", "For example --max-steps 20."),
    )
    for ok, message, hint in checks:
        if not ok:
            raise UserError(message, hint)


def _load(root: Path):
    from app.envpack.loader import load_envpack

    result = load_envpack(root)
    if not result.ok or result.pack is None:
        raise UserError(
            f"{root} has errors, so its tasks cannot be calibrated.",
            f"Run `gauntlet check {root}` and fix what it reports.",
        )
    from app.calibrate.run import not_calibratable

    if (problem := not_calibratable(result.pack, root)) is not None:
        raise problem
    return result.pack


def _check_agentic(args: argparse.Namespace, pack) -> None:
    if not pack.is_agentic:
        return
    if args.contamination:
        raise UserError(
            "--contamination does not apply to an agentic package: its probes ask for a "
            "task's answer as text, and an agentic task's answer is what the agent leaves "
            "in its container.",
            "Leave out --contamination.",
        )
    if args.backend == "process":
        raise UserError(
            "an agentic package is calibrated only in Docker: each sample is an agent run in "
            "a container of its own.",
            "Leave out --backend process; `gauntlet sandbox doctor` says how to set up Docker.",
        )


def run_calibrate(args: argparse.Namespace) -> int:
    """measure how learnable a package is: sample models on its tasks, grade every sample

    Ask each --model for --samples replies to every task (through litellm: any provider, or a
    local OpenAI-compatible server with --llm-api-base), grade every reply with the package's
    own grader in the sandbox, and write a pack card (gauntlet-card/1 JSON: pass@1 with a 95%
    interval and pass@k per task and model, the pass rate per model, the signal share, and
    GX4xx findings for tasks too easy or never solved). The cost estimate is shown first and
    --budget-usd is never exceeded. Every completion is cached on disk, so a re-run, or a run
    after a grader change, costs nothing, and an interrupted run resumes. For an agentic
    package a sample is one honest agent run (at most --max-steps commands) in the task's
    container, graded by its verifier; the estimate is the worst case of those runs, and a
    cached run is re-graded by replaying its commands (no model request). Exit 0: complete;
    1: stopped at the cap (the card says how far it got); 2: bad input, provider or sandbox.
    """
    from app.calibrate.run import card_page_path, default_card_path, write_card
    from app.commands.card import write_card_page

    require_package(args.dir)
    _check(args)
    pack = _load(args.dir)
    _check_agentic(args, pack)
    calibration = _calibration(args, pack)
    notes = Console.for_stream(sys.stderr)
    estimate = calibration.estimate()
    notes.plain(notes.paint(estimate.describe(args.budget_usd), "dim"))
    if args.estimate_only:
        return 0
    started = datetime.now(UTC)
    outcome = _sample(calibration, notes)
    if outcome.error is not None:
        raise UserError(
            f"{outcome.error.message} ({len(outcome.samples)} of "
            f"{len(outcome.samples) + outcome.not_sampled} samples are cached).",
            f"{outcome.error.hint}; then run the same command again: cached samples are free.",
        )
    grading = _grade(calibration, outcome)
    card = calibration.card(outcome, grading, started)
    targets = _bounty_targets(calibration.pack, card)
    path = args.out or default_card_path(args.dir)
    write_card(card, path)
    write_card_page(card, card_page_path(path), targets)
    if args.json:
        print(json.dumps(card, indent=2, ensure_ascii=False))
    else:
        _print_card(Console.for_stream(sys.stdout), card, path)
    return 0 if card["complete"] else 1


def _bounty_targets(pack, card: dict):
    """The calibration targets of the package's bounty (`package.bounty` in env.toml), as the
    local copy of the platform has them after a sync, checked against `card`, which records
    them (`targets`); None when the package names no bounty or it is not known here."""
    from app.calibrate.targets import TargetError, evaluate, parse_targets
    from app.commands.platform_session import open_local_store
    from app.sync.platform import current_store_path

    bounty_id = pack.manifest.package.bounty
    try:
        if not bounty_id or not current_store_path().is_file():
            return None
        with open_local_store() as store:
            bounty = store.bounties.get(bounty_id)
        if bounty is None:
            return None
        results = evaluate(parse_targets(bounty.detail.get("calibration_targets") or []), card)
    except (UserError, OSError, TargetError):
        return None  # no platform set up, or an unreadable copy: the card is made without them
    card["targets"] = {"bounty": bounty_id, "results": [r.to_dict() for r in results]}
    return results


def _calibration(args: argparse.Namespace, pack):
    from app.calibrate.persona_user import persona_models
    from app.calibrate.run import Calibration
    from app.calibrate.sampling import SamplingSettings
    from app.commands.attack import resolve_llm_key
    from app.funnel.pipeline import FunnelOptions

    # a persona user is a model too: its replies are asked through the same cache and cap
    played = [*args.model, *persona_models(pack)]
    keys = {m: resolve_llm_key(m) or (NO_KEY if args.llm_api_base else None) for m in played}
    sampling = SamplingSettings(
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        concurrency=args.concurrency,
        budget_usd=args.budget_usd,
        api_base=args.llm_api_base,
        api_keys=keys,
    )
    options = FunnelOptions(**sandbox_options(args))
    agent = None
    if pack.is_agentic:
        from app.calibrate.agentic import AgentParams

        agent = AgentParams(args.max_steps, args.max_tokens, args.temperature)
    return Calibration(
        pack,
        list(args.model),
        args.samples,
        sampling,
        options,
        contamination=args.contamination,
        agent=agent,
    )


def _sample(calibration, notes: Console):
    from app.findings import Stage
    from app.progress import ProgressEvent

    bar = ProgressBar(sys.stderr)
    counts = {"cached": 0, "done": 0}

    def progress(done: int, total: int, sample) -> None:
        counts["done"], counts["cached"] = done, counts["cached"] + sample.cached
        bar(ProgressEvent(Stage.CALIBRATE, "progress", done=done, total=total))

    from app.sandbox.base import SandboxUnavailable

    try:
        outcome = calibration.sample(progress)
    except SandboxUnavailable as exc:
        bar.clear()
        raise UserError(
            f"no sandbox to run the agent in: {exc.message}",
            f"{exc.hint} (finished runs are cached: the next run does not redo them)",
        ) from None
    except KeyboardInterrupt:
        bar.clear()
        notes.plain(
            f"interrupted after {counts['done']} samples ({counts['cached']} from the cache); "
            "run the same command again to resume: cached samples cost nothing."
        )
        raise  # `gauntlet` exits 130
    bar.clear()
    if outcome.stopped_by_budget:
        notes.plain(
            notes.paint(
                f"stopped at the budget cap (${calibration.sampling.budget_usd:.2f}): "
                f"{len(outcome.samples)} of {len(outcome.samples) + outcome.not_sampled} "
                f"samples, ${outcome.spent_usd:.4f} spent. Raise --budget-usd and run again "
                "to finish: cached samples cost nothing.",
                "yellow",
            )
        )
    return outcome


def _grade(calibration, outcome):
    from app.findings import Stage
    from app.progress import ProgressEvent
    from app.sandbox.base import SandboxUnavailable

    bar = ProgressBar(sys.stderr)
    graded = sum(s.request.kind == "sample" for s in outcome.samples)
    pack = calibration.pack
    total = graded + (len(pack.agentic_tasks) if pack.is_agentic else len(pack.solutions))
    done = 0

    def on_result(_result) -> None:
        nonlocal done
        done += 1
        bar(ProgressEvent(Stage.CALIBRATE, "progress", done=done, total=total))

    try:
        return calibration.grade(outcome, on_result)
    except SandboxUnavailable as exc:
        raise UserError(
            f"no sandbox to grade in: {exc.message}",
            f"{exc.hint} (the samples are cached: the next run asks the models nothing)",
        ) from None
    finally:
        bar.clear()


def _print_card(console: Console, card: dict, path: Path) -> None:
    from app.calibrate.run import card_page_path
    from app.findings import Finding

    requests, cost = card["requests"], card["cost"]
    console.plain(
        f"{card['package']['name']}: {len(card['models'])} model(s) × "
        f"{card['package']['tasks']} tasks × {card['sampling']['samples_per_task']} samples; "
        + (
            f"{requests['made']} agent runs made ({requests['agent_turns']} model turns), "
            if "agent_turns" in requests
            else f"{requests['made']} requests made, "
        )
        + f"{requests['cache_hits']} from the cache; "
        f"${cost['spent_usd']:.4f} spent"
        + (
            f" (no price known for {', '.join(cost['unpriced_models'])})"
            if cost["unpriced_models"]
            else ""
        )
    )
    for model, stats in card["per_model"].items():
        rate = (
            "not sampled"
            if stats is None
            else (
                f"pass rate {stats['pass_at_1']:.2f} "
                f"[{stats['pass_at_1_ci95'][0]:.2f}, {stats['pass_at_1_ci95'][1]:.2f}] "
                f"over {stats['samples']} samples"
            )
        )
        console.plain(f"  {model}: {rate}")
    targets = (card.get("targets") or {}).get("results") or []
    if targets:
        met = sum(t["status"] == "met" for t in targets)
        console.plain(
            f"bounty {card['targets']['bounty']}: {met} of {len(targets)} calibration targets met"
            + "".join(f"\n  {t['target']}: {t['status']} ({t['note']})" for t in targets)
        )
    share = card["signal_share"]
    console.plain(
        "signal share: "
        + ("n/a (no task sampled by every model)" if share is None else f"{share:.2f}")
        + f" ({card['tasks_with_signal']} of {card['tasks_complete']} tasks have a pass rate "
        "strictly between 0 and 1 for some model)"
    )
    _print_tasks(console, card)
    _print_difficulty(console, card)
    if card["contamination"]["probed"]:
        probes = card["contamination"]
        console.plain(
            f"contamination probe: {probes['tasks_flagged']} of {probes['tasks_probed']} "
            "probed tasks flagged (GX404)"
        )
    for data in card["findings"]:
        console.finding(Finding.from_dict(data))
    if card["grading"]["stopped"]:
        console.plain(f"grading stopped: {card['grading']['stopped']}")
    console.plain(f"card written to {path}, its page to {card_page_path(path)}")


def _print_difficulty(console: Console, card: dict) -> None:
    difficulty = card["difficulty"]
    console.plain(console.paint(f"difficulty: {difficulty['reason']}", "dim"))
    if difficulty["fitted"]:
        abilities = ", ".join(
            f"{model} {fit['ability']:+.2f} ± {fit['se']:.2f}"
            for model, fit in difficulty["ability"].items()
        )
        console.plain(f"  ability (logits): {abilities}")


def _print_tasks(console: Console, card: dict, limit: int = 40) -> None:
    """pass@1 per task and model, one row per task (the first `limit`; the card has all), with
    the fitted difficulty when there is one."""
    models = card["models"]
    fitted = card["difficulty"].get("tasks", {})
    width = max(len(t["id"]) for t in card["tasks"])
    head = "  ".join(["difficulty", *models] if fitted else models)
    console.plain(console.paint(f"  {'task':<{width}}  {head}", "dim"))
    for task in card["tasks"][:limit]:
        cells = [
            f"{task['per_model'][m]['pass_at_1']:.2f}".ljust(len(m))
            if m in task["per_model"]
            else "-".ljust(len(m))
            for m in models
        ]
        if fitted:
            fit = fitted.get(task["id"])
            cells.insert(0, (f"{fit['difficulty']:+.2f}" if fit else "-").ljust(10))
        console.plain(f"  {task['id']:<{width}}  " + "  ".join(cells).rstrip())
    if len(card["tasks"]) > limit:
        console.plain(f"  … and {len(card['tasks']) - limit} more tasks in the card")
