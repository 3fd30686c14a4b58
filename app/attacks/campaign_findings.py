"""Stage 3's findings (GX3xx, app/finding_codes.py): confirmed hits with the minimal evidence
and the fix hint, unconfirmed candidates, answer leaks through feedback, and the LLM red team's
own notes.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from app.attacks.campaign_result import CampaignResult, FeedbackLeak, Hit
from app.attacks.library import AttackLibrary
from app.attacks.turn_process import PROCESS_WORDING
from app.envpack.model import EnvPack
from app.finding_codes import CATALOGUE
from app.findings import AttackRef, Finding, Severity
from app.python_ast import parse_python

MAX_EVIDENCE_CHARS = 2_000
_LLM_HINT = (
    "Read the response and the model's idea in the evidence; then close that gap in the grader "
    "(parse one answer strictly, compare type-strictly, "
    "never execute or trust the response) and add "
    "the response to negatives.jsonl so stage 2 checks it on every run."
)


def grader_location(pack: EnvPack) -> dict:
    """Where an expert fixes the grader: grader.py's entry function, the rubric, or env.toml."""
    grader = pack.grader
    if grader.type == "python":
        return {
            "file": grader.entry_file,
            "line": _function_line(pack, grader.entry_file, grader.entry_function),
        }
    if grader.type == "judge":
        return {"file": grader.rubric, "line": None}
    if grader.is_rubric:
        span = pack.locations.get("grader.criteria") or pack.where("grader.type")
        return {"file": span.file, "line": span.line, "column": span.column}
    span = (
        pack.locations.get("grader.mode")
        or pack.locations.get("grader.type")
        or pack.where("grader.type")
    )
    return {"file": span.file, "line": span.line, "column": span.column}


def criterion_location(pack: EnvPack, hits: list[Hit]) -> dict | None:
    """A rubric hit is fixed in the criterion it moved: its function, or its judge entry."""
    moved = next((h.criteria_moved for h in hits if h.criteria_moved), None)
    if not pack.grader.is_rubric or not moved:
        return None
    name = next(iter(moved))
    for index, criterion in enumerate(pack.grader.criteria):
        if criterion.name != name:
            continue
        if not criterion.is_judge:
            file, function = pack.grader.criterion_function(criterion)
            return {"file": file, "line": _function_line(pack, file, function)}
        span = pack.where(f"grader.criteria.{index}")
        return {"file": span.file, "line": span.line, "column": span.column}
    return None


def _function_line(pack: EnvPack, name: str, function: str) -> int | None:
    try:
        tree = parse_python((Path(pack.root) / name).read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            return node.lineno
    return None


def campaign_findings(
    pack: EnvPack,
    result: CampaignResult,
    library: AttackLibrary,
    *,
    sandbox_errors: int = 0,
    code_for: Callable[[str], str | None] | None = None,
) -> list[Finding]:
    """`code_for(attack id)` may give a hit its own code (multi-turn attacks: GX34x) instead
    of GX301/GX302."""
    where = grader_location(pack)
    findings = [
        _hit_finding(hits, library, criterion_location(pack, hits) or where, code_for)
        for hits in _hit_groups(result.confirmed)
    ]
    findings += [_unconfirmed_finding(hit, library, where) for hit in result.unconfirmed]
    if result.feedback_leaks:
        findings.append(_feedback_leak_finding(result.feedback_leaks, where))
    if result.skipped_tasks:
        findings.append(_skipped_tasks_finding(result))
    findings.extend(_llm_findings(result.llm))
    if sandbox_errors:
        findings.append(
            CATALOGUE["GX308"].finding(
                f"{sandbox_errors} attack grading(s) failed in the "
                "sandbox itself, so those attacks were not really tried"
            )
        )
    return findings


def _hit_groups(confirmed: list[Hit]) -> list[list[Hit]]:
    """One group per library attack; for the LLM, one per distinct response. Certain hits and
    hits that rest on an assumption are reported apart."""
    groups: dict[str, list[Hit]] = defaultdict(list)
    for hit in confirmed:
        cand = hit.candidate
        key = cand.attack_id if cand.source == "library" else f"{cand.attack_id}:{cand.response}"
        groups[f"{key}|{bool(cand.assumption)}"].append(hit)
    return list(groups.values())


def _feedback_leak_finding(leaks: list[FeedbackLeak], where: dict) -> Finding:
    leak = leaks[0]
    return CATALOGUE["GX304"].finding(
        (
            f"the grader's {leak.where} reveals the expected answer to a wrong response "
            f"(task {leak.task_id}; "
            f"{len(leaks)} task(s) affected): a model that sees "
            "feedback can copy the answer on its next try"
        ),
        task_id=leak.task_id,
        attack=AttackRef("feedback-leak", "leakage"),
        evidence={"excerpt": leak.excerpt, "tasks": [x.task_id for x in leaks]},
        **where,
    )


def _skipped_tasks_finding(result: CampaignResult) -> Finding:
    skipped = sorted(result.skipped_tasks)
    return CATALOGUE["GX309"].finding(
        (
            f"{len(skipped)} of {result.tasks_attacked} task(s) "
            "were not attacked because no reference "
            "reaches the pass threshold "
            f"({', '.join(skipped[:5])}{'…' if len(skipped) > 5 else ''})"
        ),
        task_id=skipped[0],
    )


def _hit_finding(
    hits: list[Hit],
    library: AttackLibrary,
    where: dict,
    code_for: Callable[[str], str | None] | None = None,
) -> Finding:
    """GX301 (full reward), GX302 (partial credit) or GX310 (resting on an assumption), shown
    with the shortest response that worked best."""
    hits = sorted(hits, key=lambda h: (not h.full_reward, len(h.candidate.response)))
    best = hits[0]
    cand = best.candidate
    attack = library.get(cand.attack_id)
    if attack is not None:
        title, hint, explanation = attack.title, attack.fix_hint, attack.explanation
    else:
        mode = cand.variant.rsplit("-", 1)[0]
        title = f"LLM red team ({mode})" + (f": {best.idea}" if best.idea else "")
        hint, explanation = _LLM_HINT, best.idea
    if cand.assumption:
        hint = (
            f"This rests on an assumption your package does not state: {cand.assumption}. If "
            "the grader is right to accept this response, state the rule (in the prompt, or a "
            "'tolerance' / accepted answers in the task) and nothing else needs fixing. If it "
            f"should fail: {hint}"
        )
    evidence = _hit_evidence(best, sorted({h.candidate.task_id for h in hits}), explanation)
    code = "GX310" if cand.assumption else "GX301" if best.full_reward else "GX302"
    if code_for is not None and not cand.assumption:
        code = code_for(cand.attack_id) or code
    return CATALOGUE[code].finding(
        _hit_message(best, title),
        hint,
        task_id=cand.task_id,
        attack=AttackRef(cand.attack_id, cand.category),
        evidence=evidence,
        **where,
    )


def _hit_message(best: Hit, title: str) -> str:
    cand = best.candidate
    reference = f"reference {best.reference:g}, " if best.reference is not None else ""
    if best.full_reward:
        outcome = f"scored {best.reward:g}, reaching the pass threshold {best.pass_threshold:g}"
    elif best.reward > best.baseline or not best.criteria_moved:
        outcome = f"scored {best.reward:g}, more than a plain wrong answer ({best.baseline:g})"
    else:  # a rubric whose combination hid the criterion the attack fooled
        outcome = f"scored {best.reward:g} overall"
    confirmed = f"({reference}confirmed in {best.reproduced} of {len(best.runs)} fresh sandboxes)"
    if best.criteria_moved:
        outcome += ", and was rewarded " + moved_text(best)
    if cand.assumption:
        return (
            f"possible reward hack — {title}: a response that is wrong only if "
            f"{cand.assumption} {outcome} on task {cand.task_id} {confirmed}"
        )
    wrong = PROCESS_WORDING.get(cand.attack_id, "that is wrong by construction")
    return f"reward hack — {title}: a response {wrong} {outcome} on task {cand.task_id} {confirmed}"


def moved_text(hit: Hit) -> str:
    """'on criterion "correct" (1 where known-wrong answers get 0)', for each moved one."""
    parts = [
        f'"{name}" ({score:g} where known-wrong answers get '
        f"{hit.criteria_baseline.get(name, 0.0):g})"
        for name, score in hit.criteria_moved.items()
    ]
    return ("on criterion " if len(parts) == 1 else "on criteria ") + ", ".join(parts)


def _hit_evidence(best: Hit, tasks: list[str], explanation: str) -> dict:
    cand = best.candidate
    response = cand.response
    evidence = {
        "response": response[:MAX_EVIDENCE_CHARS],
        "response_chars": len(response),
        "truncated": len(response) > MAX_EVIDENCE_CHARS,
        "variant": cand.variant,
        "reward": best.reward,
        "reference_reward": best.reference,
        "baseline_reward": best.baseline,
        "pass_threshold": best.pass_threshold,
        "reproduced": f"{best.reproduced}/{len(best.runs)}",
        "confirmation_rewards": best.rewards,
        "tasks": tasks,
        "source": cand.source,
        "explanation": explanation,
        "confidence": "assumed" if cand.assumption else "certain",
    }
    if cand.assumption:
        evidence["assumption"] = cand.assumption
    if best.criteria:  # a rubric: which criteria the response moved above the negative baseline
        evidence["criteria"] = best.criteria
        evidence["criteria_moved"] = sorted(best.criteria_moved)
        evidence["criteria_baseline"] = best.criteria_baseline
    if best.feedback:
        evidence["grader_feedback"] = best.feedback
    if best.conversation:  # multi-turn: the trajectory as replayed in a confirmation run
        evidence["replayed_conversation"] = best.conversation
    return evidence


def _unconfirmed_finding(hit: Hit, library: AttackLibrary, where: dict) -> Finding:
    cand = hit.candidate
    attack = library.get(cand.attack_id)
    title = (
        attack.title if attack else "LLM red team proposal" + (f" ({hit.idea})" if hit.idea else "")
    )
    return CATALOGUE["GX303"].finding(
        (
            f"unconfirmed: {title} scored {hit.reward:g} once "
            f"on task {cand.task_id} but was not reported "
            f"as a hit ({hit.note or 'it did not reproduce'})"
        ),
        task_id=cand.task_id,
        attack=AttackRef(cand.attack_id, cand.category),
        evidence={
            "response": cand.response[:MAX_EVIDENCE_CHARS],
            "reward": hit.reward,
            "confirmation_rewards": hit.rewards,
            "reproduced": f"{hit.reproduced}/{len(hit.runs)}",
            "source": cand.source,
        },
        **where,
    )


def _llm_findings(llm: dict) -> list[Finding]:
    if not llm:
        return []
    findings: list[Finding] = []
    if llm.get("stopped_by") == "unavailable":
        findings.append(
            CATALOGUE["GX306"].finding(
                (
                    "the LLM red team could not run: "
                    f"{llm.get('unavailable', 'the model is unavailable')}; "
                    "only the built-in library ran"
                ),
                llm.get("unavailable_hint") or None,
            )
        )
    inconclusive = int(llm.get("inconclusive", 0))
    if inconclusive:
        everything = inconclusive >= int(llm.get("attempts", 0)) > 0
        findings.append(
            CATALOGUE["GX305"].finding(
                (
                    "LLM red team inconclusive: "
                    f"{llm.get('refusals', 0)} refusal(s) and {llm.get('malformed', 0)} "
                    f"malformed repl(y/ies) out of {llm.get('attempts', 0)} attempt(s) — "
                    "this is not evidence that "
                    "the grader is robust"
                ),
                severity=Severity.WARNING if everything else None,  # else the usual info
            )
        )
    stopped = llm.get("stopped_by")
    if stopped in ("attempts", "tokens", "money"):
        spent = llm.get("cost_usd")
        findings.append(
            CATALOGUE["GX307"].finding(
                f"the LLM red team stopped at its {stopped} "
                f"budget after {llm.get('attempts', 0)} attempt(s) "
                f"({llm.get('prompt_tokens', 0) + llm.get('completion_tokens', 0):,} tokens"
                + (f", ${spent:.4f}" if isinstance(spent, int | float) else "")
                + ")"
            )
        )
    return findings
