"""`gauntlet agent DIR --task ID --model M`: the LLM agent on one task of an agentic package, by
hand: the red team (get the reward without doing the task) or the honest baseline. Prints the
cost estimate first, then each step, then the reward and, for the red team, its findings
(GX329-GX331).

Exit codes: 0 no confirmed hack; 1 a confirmed hack (GX329); 2 bad input, the provider or the
sandbox unusable; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.commands.console import Console
from app.commands.package_args import add_sandbox_arguments, require_package, sandbox_options
from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 27


def register(subparsers: argparse._SubParsersAction) -> None:
    add_command(subparsers, "agent", run_agent_command, _options)


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", type=Path, metavar="DIR", help="the agentic package (holding env.toml)")
    p.add_argument("--task", required=True, metavar="ID", help="the task to run (tasks/ID/)")
    p.add_argument(
        "--model",
        required=True,
        metavar="M",
        help="a litellm model, e.g. openai/gpt-4o-mini (its key: the provider's usual "
        "environment variable, GAUNTLET_LLM_API_KEY, or the key saved in the app's settings)",
    )
    p.add_argument("--api-base", metavar="URL", help="an OpenAI-compatible server for --model")
    role = p.add_mutually_exclusive_group()
    role.add_argument("--red-team", action="store_true", help="try to get the reward without "
                      "doing the task (the default)")  # fmt: skip
    role.add_argument("--honest", action="store_true", help="the baseline: try to do the task")
    p.add_argument(
        "--white-box", action="store_true", help="red team: let the model read tests/ too"
    )
    p.add_argument("--max-steps", type=int, metavar="N", help="most commands (default: 20)")
    p.add_argument(
        "--budget-usd", type=float, metavar="X", help="most dollars to spend (default: $1.00)"
    )
    p.add_argument("--estimate-only", action="store_true", help="print the cost estimate and stop")
    p.add_argument("--save", type=Path, metavar="FILE.json", help="write the trajectory here")
    add_sandbox_arguments(p)


def run_agent_command(args: argparse.Namespace) -> int:
    """run the LLM agent (red team or honest baseline) on one task of an agentic package

    The model gets the task's instruction (with --white-box, the verifier's files too) and a
    shell tool run in the task's hardened container; then the verifier gives the reward. A
    red-team reward above the floor is replayed in fresh containers (2 of 3) and the step that
    earned it is found. Needs your own model provider (or a local OpenAI-compatible server):
    without one, `gauntlet attack` runs the built-in cheating agents only. The estimate is
    printed first and --budget-usd is never exceeded. Exit 0: no confirmed hack; 1: a
    confirmed hack (GX329); 2: bad input, provider or sandbox.
    """
    from app.attacks.redteam_agent import estimate, opening
    from app.commands.attack import resolve_llm_key
    from app.funnel.agentic_redteam import agent_settings
    from app.funnel.pipeline import FunnelOptions

    pack, task = _load(args)
    options = FunnelOptions(
        **sandbox_options(args),
        llm_model=args.model,
        llm_api_key=resolve_llm_key(args.model),
        llm_api_base=args.api_base,
        budget_usd=args.budget_usd,
        max_llm_attempts=args.max_steps,
    )
    settings = agent_settings(options, white_box=args.white_box)
    settings.honest = args.honest
    console = Console.for_stream(sys.stdout)
    tests = pack.root / task.folder / "tests"
    console.plain(estimate(settings, opening(task, tests, settings)).describe(settings.budget))
    if args.estimate_only:
        return 0
    return _run(console, pack, task, settings, options, args.save)


def _run(console: Console, pack, task, settings, options, save: Path | None) -> int:
    from app.attacks.trajectory import save_trajectories
    from app.finding_codes import FindingSink
    from app.findings import Stage
    from app.funnel.agentic_redteam import attack_one, closing_line, report_trajectory
    from app.progress import CancelToken
    from app.sandbox.base import SandboxUnavailable
    from app.sandbox.docker_backend import docker_client

    def show(index: int, step) -> None:
        console.plain(console.paint(f"$ [{index + 1}] {step.command[:500]}", "dim"))
        console.plain(f"  exit {step.exit_code}: {' '.join(step.output.split())[-300:]}")

    if options.backend == "process":
        raise UserError("The agent runs only in Docker.", "Leave out --backend process.")
    try:
        client = docker_client()
        trajectory = attack_one(client, pack, task, settings, options, CancelToken(), show)
    except SandboxUnavailable as exc:
        raise UserError(f"The sandbox could not run the agent: {exc}", exc.hint or "") from exc
    console.plain(closing_line(trajectory))
    if trajectory.replayed_rewards:
        console.plain(f"replayed rewards: {trajectory.replayed_rewards}")
    if save is not None:
        save_trajectories([trajectory], save)
        console.plain(f"trajectory written to {save}")
    sink = FindingSink(Stage.ATTACK)
    report_trajectory(pack, task, trajectory, sink)
    for finding in sink.findings:
        console.finding(finding)
    if trajectory.stopped.startswith("error"):
        return 2
    return 1 if any(f.code == "GX329" for f in sink.findings) else 0


def _load(args: argparse.Namespace):
    from app.envpack.loader import load_envpack

    require_package(args.dir)
    if args.max_steps is not None and args.max_steps < 1:
        raise UserError("--max-steps must be 1 or more.", "Leave it out for the default (20).")
    if args.budget_usd is not None and not (args.budget_usd >= 0):
        raise UserError("--budget-usd must be 0 or more dollars.", "For example --budget-usd 0.5.")
    result = load_envpack(args.dir)
    pack = result.pack
    if not result.ok or pack is None:
        raise UserError(
            f"{args.dir} has errors.", f"Run `gauntlet check {args.dir}` and fix what it reports."
        )
    if not pack.is_agentic:
        raise UserError(
            f"{args.dir} is not an agentic package (kind = {pack.manifest.kind!r}).",
            "For qa/code packages, use `gauntlet attack DIR --llm MODEL`.",
        )
    task = pack.agentic_task(args.task)
    if task is None:
        known = ", ".join(sorted(t.id for t in pack.agentic_tasks))
        raise UserError(f"No task {args.task!r} in {args.dir}.", f"Its tasks: {known}.")
    return pack, task
