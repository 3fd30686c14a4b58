"""Runs the funnel's stages in order and assembles one report.

Stage 1 (structure) always runs; stage 2 (verify) is skipped when stage 1 has errors; stage 3
(attack) is skipped when stage 2 did not pass cleanly, so a broken environment is reported as
broken, not as hacked. Each stage lives in its own module and has the same shape:

    run_<stage>_stage(pack, options, progress=..., cancel=...) -> (StageResult, [Finding])
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.findings import Finding, Stage
from app.funnel.report import PackageRef, Report, StageResult, StageStatus, stage_status_for
from app.progress import Cancelled, CancelToken, ProgressCallback, ProgressEvent, ignore_progress

ALL_STAGES: tuple[Stage, ...] = (Stage.STRUCTURE, Stage.VERIFY, Stage.ATTACK)


@dataclass(slots=True)
class FunnelOptions:
    """What the user chose for this run (CLI flags, UI settings, server worker config)."""

    backend: str = "auto"  # "auto" | "docker" | "process"
    jobs: int | None = None  # parallel gradings inside the sandbox; None = backend default
    image: str | None = None  # sandbox image override
    # None: decided by where the package came from (app.envpack.provenance); True only for a
    # package created on this machine, never by default.
    own_package: bool | None = None
    force_weak_backend: bool = False  # allow the process backend for a foreign package
    # Build a foreign package's environment/Dockerfile (hardened, offline): the operator's call.
    allow_package_dockerfile: bool = False
    llm_model: str | None = None  # LLM red team model (litellm string); None = built-ins only
    # Resolved by the caller (CLI/UI) from the keychain or environment; never written to disk.
    llm_api_key: str | None = field(default=None, repr=False)
    llm_api_base: str | None = None  # e.g. a local OpenAI-compatible server
    # Without a key, may a judge use the provider's usual environment variables? Yes for a user
    # on their own machine; never on the platform, where only the operator's key may be spent.
    llm_from_environment: bool = True
    budget_usd: float | None = None
    max_llm_attempts: int | None = None
    # Where the LLM agent's trajectories go (agentic packages); None: inline in the report.
    trajectories_path: Path | None = None
    attack_categories: list[str] = field(default_factory=list)  # empty = all
    confirm_runs: int = 3


def run_funnel(
    path: str | Path,
    stages: tuple[Stage, ...] = ALL_STAGES,
    options: FunnelOptions | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> Report:
    """Run `stages` (always preceded by structure) on the package at `path`."""
    from app.envpack.bundle import package_digest
    from app.envpack.provenance import is_own
    from app.funnel.structure import run_structure_stage
    from app.sandbox.hostguard import harden_host_process

    options = options or FunnelOptions()
    cancel = cancel or CancelToken()
    root = Path(path)
    harden_host_process()  # graders run next to this process: no keys to read, no ptrace
    if options.own_package is None:
        options = dataclasses.replace(options, own_package=is_own(root))
    report = Report(package=PackageRef(path=str(root)))

    started = time.perf_counter()
    progress(ProgressEvent(Stage.STRUCTURE, "stage-start"))
    loaded, structure_findings = run_structure_stage(root)
    structure = StageResult(
        Stage.STRUCTURE, stage_status_for(structure_findings), time.perf_counter() - started
    )
    report.add_stage(structure, structure_findings)
    _emit_findings(progress, Stage.STRUCTURE, structure_findings)
    progress(ProgressEvent(Stage.STRUCTURE, "stage-end", message=str(structure.status)))

    pack = loaded.pack
    if pack is not None:
        report.package.name = pack.manifest.package.name
        report.package.version = pack.manifest.package.version
        try:
            report.package.digest = package_digest(root)
        except OSError:
            report.package.digest = ""

    runnable = pack is not None and structure.status in (StageStatus.PASS, StageStatus.WARN)
    for stage in stages:
        if stage == Stage.STRUCTURE:
            continue
        if not runnable:
            report.stages.append(
                StageResult(stage, StageStatus.SKIPPED, details={"reason": _skip_reason(report)})
            )
            continue
        result, findings = _run_stage(stage, pack, options, progress, cancel)
        report.add_stage(result, findings)
        if result.status not in (StageStatus.PASS, StageStatus.WARN):
            runnable = False
    return report


def _run_stage(stage, pack, options, progress, cancel) -> tuple[StageResult, list[Finding]]:
    if pack.is_agentic and stage == Stage.VERIFY:
        from app.funnel.agentic_verify import run_agentic_verify_stage as run
    elif pack.is_agentic:
        from app.funnel.agentic_attack import run_agentic_attack_stage as run
    elif stage == Stage.VERIFY:
        from app.funnel.verify import run_verify_stage as run
    elif pack.is_multi_turn:
        from app.funnel.multiturn_attack import run_multiturn_attack_stage as run
    else:
        from app.funnel.attack import run_attack_stage as run
    started = time.perf_counter()
    progress(ProgressEvent(stage, "stage-start"))
    try:
        cancel.raise_if_cancelled()
        result, findings = run(pack, options, progress=progress, cancel=cancel)
    except Cancelled:
        result = StageResult(stage, StageStatus.ERROR, details={"reason": "cancelled by the user"})
        findings = []
    result.duration_s = time.perf_counter() - started
    _emit_findings(progress, stage, findings)
    progress(ProgressEvent(stage, "stage-end", message=str(result.status)))
    return result, findings


def _skip_reason(report: Report) -> str:
    failed = [
        s
        for s in report.stages
        if s.status not in (StageStatus.PASS, StageStatus.WARN, StageStatus.SKIPPED)
    ]
    if failed:
        return f"skipped because stage '{failed[-1].name}' did not pass"
    return "skipped because an earlier stage did not pass"


def _emit_findings(progress: ProgressCallback, stage: Stage, findings: list[Finding]) -> None:
    for finding in findings:
        progress(ProgressEvent(stage, "finding", finding=finding))
