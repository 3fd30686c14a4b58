"""From graded samples to the card's numbers and the GX4xx findings.

Per task and model: pass@1 with its Wilson interval, and pass@k. Per model: the pass rate over
every sample. Per package: the signal share, and difficulty and discrimination from an
item-response fit (app/calibrate/irt.py) when there are enough models.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from typing import Any

from app.calibrate.formats import checks_format, format_failure
from app.calibrate.grading import Graded, Grading
from app.calibrate.irt import difficulty_block
from app.calibrate.stats import has_signal, rate_summary, signal_share
from app.calibrate.transcript import conversation_failure
from app.envpack.model import EnvPack
from app.finding_codes import FindingSink
from app.findings import Finding, Stage

FAILURES_SHOWN = 3  # per task, in the card: enough to see why, small enough to read
MIN_FAILURES_FOR_FORMAT = 2  # one odd reply is not a pattern
EXCERPT_CHARS = 300


def analyse(pack: EnvPack, models: list[str], k: int, grading: Grading) -> dict[str, Any]:
    """The card's statistics and findings (as dicts) for `pack` under `models`."""
    by_task: dict[str, dict[str, list[Graded]]] = defaultdict(lambda: defaultdict(list))
    by_model: dict[str, list[Graded]] = defaultdict(list)
    for graded in grading.graded:
        request = graded.sample.request
        by_task[request.task_id][request.model].append(graded)
        by_model[request.model].append(graded)
    tasks = [
        _task_entry(pack, task_id, models, k, by_task.get(task_id, {}), grading)
        for task_id in task_ids(pack)
    ]
    sampled = {t["id"]: t for t in tasks if t["complete"]}
    partly = {t["id"]: t for t in tasks if t["per_model"]}  # some model sampled it
    findings = _findings(pack, sampled)
    return {
        "per_model": {
            model: _summary(by_model[model], k) if by_model.get(model) else None for model in models
        },
        "signal_share": signal_share(
            {tid: [m["pass_at_1"] for m in t["per_model"].values()] for tid, t in sampled.items()}
        ),
        "tasks_complete": len(sampled),
        "tasks_with_signal": sum(1 for t in sampled.values() if t["signal"]),
        "difficulty": difficulty_block(
            models,
            {
                tid: {m: (s["passed"], s["samples"]) for m, s in t["per_model"].items()}
                for tid, t in partly.items()
            },
        ),
        "format_checked": checks_format(pack.grader),
        "format_note": _format_note(pack),
        "tasks": tasks,
        "findings": [f.to_dict() for f in findings],
    }


def task_ids(pack: EnvPack) -> list[str]:
    """The ids of the tasks a calibration samples: the tasks file's, or an agentic package's
    task folders."""
    if pack.is_agentic:
        return [task.id for task in pack.agentic_tasks]
    return [task.id for task in pack.tasks]


def task_tags(pack: EnvPack, task_id: str) -> list[str]:
    """A task's tags: its record's `tags` list, or an agentic task's task.toml
    `[metadata] tags`; [] when it has none (or they cannot be read)."""
    tags: Any = None
    if pack.is_agentic:
        task = pack.agentic_task(task_id)
        path = pack.root / task.folder / "task.toml" if task is not None else None
        if path is not None and path.is_file():
            try:
                metadata = tomllib.loads(path.read_text(encoding="utf-8")).get("metadata")
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                metadata = None
            tags = metadata.get("tags") if isinstance(metadata, dict) else None
    else:
        task = pack.task(task_id)
        tags = task.record.get("tags") if task is not None else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _format_note(pack: EnvPack) -> str:
    if pack.is_agentic:
        return (
            "not applicable: an agentic task's answer is the state the agent leaves in its "
            "container, which the verifier reads; there is no reply form to get wrong"
        )
    if checks_format(pack.grader):
        return "told by the grader's own parser"
    return "not told: only the match grader in numeric or choice mode can say"


def _summary(graded: list[Graded], k: int) -> dict[str, Any]:
    return rate_summary(sum(g.passed for g in graded), len(graded), k)


def _task_entry(
    pack: EnvPack,
    task_id: str,
    models: list[str],
    k: int,
    per_model: dict[str, list[Graded]],
    grading: Grading,
) -> dict[str, Any]:
    stats = {model: _summary(per_model[model], k) for model in models if per_model.get(model)}
    task = None if pack.is_agentic else pack.task(task_id)
    record = task.record if task is not None else {}
    failing = [g for model in models for g in per_model.get(model, []) if not g.passed]
    formats = [format_failure(pack.grader, record, g.sample.text) for g in failing]
    failures = [
        {
            "model": g.sample.request.model,
            "sample": g.sample.request.index,
            "response": g.sample.text[:EXCERPT_CHARS],
            "reward": g.result.reward,
            "feedback": (g.result.feedback or g.result.detail)[:EXCERPT_CHARS],
            "error": g.result.error,
            "format_failure": wrong_form,
        }
        for g, wrong_form in zip(failing, formats, strict=True)
    ]
    if pack.is_multi_turn:  # the conversation, not its encoding (app/calibrate/transcript.py)
        failures = [conversation_failure(f, g) for f, g in zip(failures, failing, strict=True)]
    return {
        "id": task_id,
        "per_model": stats,
        "complete": len(stats) == len(models),
        "signal": has_signal(s["pass_at_1"] for s in stats.values()),
        "reference_passes": grading.reference_passes.get(task_id),
        "failures": failures[:FAILURES_SHOWN],
        "failures_total": len(failures),
        "format_failures": sum(f is True for f in formats) if checks_format(pack.grader) else None,
    }


def _findings(pack: EnvPack, tasks: dict[str, dict[str, Any]]) -> list[Finding]:
    sink = FindingSink(Stage.CALIBRATE)
    for task_id, entry in tasks.items():
        rates = {model: s["pass_at_1"] for model, s in entry["per_model"].items()}
        where = _where(pack, task_id)
        evidence = {"pass_rates": rates}
        if all(rate == 1.0 for rate in rates.values()):
            sink.report(
                "GX401",
                f"task '{task_id}': every model passed every sample ({_listing(rates)})",
                evidence=evidence,
                **where,
            )
        elif all(rate == 0.0 for rate in rates.values()) and entry["reference_passes"]:
            sink.report(
                "GX402",
                f"task '{task_id}': no model passed any sample, though its reference passes",
                evidence={**evidence, "failures": entry["failures"]},
                **where,
            )
        _format_finding(sink, entry, where)
    return sink.findings


def _format_finding(sink: FindingSink, entry: dict[str, Any], where: dict[str, Any]) -> None:
    """GX403: more than half of the task's failing samples were not in the form the grader
    reads (only where that can be told: see app/calibrate/formats.py)."""
    wrong_form, failing = entry["format_failures"], entry["failures_total"]
    if wrong_form is None or failing < MIN_FAILURES_FOR_FORMAT or wrong_form * 2 <= failing:
        return
    examples = [f["response"] for f in entry["failures"] if f["format_failure"]]
    sink.report(
        "GX403",
        f"task '{entry['id']}': {wrong_form} of {failing} failing samples were not in the "
        "form the grader reads",
        evidence={"format_failures": wrong_form, "failures": failing, "examples": examples},
        **where,
    )


def _where(pack: EnvPack, task_id: str) -> dict[str, Any]:
    """Where a task's finding points: its line in the tasks file, or its instruction.md."""
    if pack.is_agentic:
        task = pack.agentic_task(task_id)
        file = task.path("instruction.md") if task is not None else None
        return {"task_id": task_id, "file": file, "line": None}
    task = pack.task(task_id)
    line = task.line if task is not None else None
    return {"task_id": task_id, "file": pack.manifest.tasks_path, "line": line}


def _listing(rates: dict[str, float]) -> str:
    return ", ".join(sorted(rates))
