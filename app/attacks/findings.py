"""Stage 3's findings (GX3xx): confirmed hits with the minimal evidence and the fix hint,
unconfirmed candidates, answer leaks through feedback, and the LLM red team's own notes.

| code  | severity | meaning |
| GX301 | error    | confirmed hit: a wrong-by-construction response reaches the pass threshold |
| GX302 | error    | confirmed hit: scores above a plain wrong answer (partial credit for a hack) |
| GX303 | info     | candidate hit not reproduced in 2 of 3 fresh sandboxes (or not verifiable) |
| GX304 | warning  | the grader's feedback or metrics reveal the expected answer |
| GX305 | warning/info | LLM red team got refusals or malformed replies: inconclusive |
| GX306 | warning  | the LLM red team could not run (no key, unknown model, provider unreachable) |
| GX307 | info     | the LLM red team stopped at its budget |
| GX308 | warning  | some attack gradings failed in the sandbox itself; results are incomplete |
| GX309 | warning  | tasks left out because their own reference does not pass (stage 2's finding) |
| GX310 | warning  | confirmed hit, wrong only under an assumption the package does not state |
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from app.attacks.campaign import CampaignResult, Hit
from app.attacks.library import AttackLibrary
from app.envpack.model import EnvPack
from app.findings import AttackRef, Finding, Severity, Stage

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
    span = (
        pack.locations.get("grader.mode")
        or pack.locations.get("grader.type")
        or pack.where("grader.type")
    )
    return {"file": span.file, "line": span.line, "column": span.column}


def _function_line(pack: EnvPack, name: str, function: str) -> int | None:
    try:
        tree = ast.parse((Path(pack.root) / name).read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            return node.lineno
    return None


def campaign_findings(
    pack: EnvPack, result: CampaignResult, library: AttackLibrary, *, sandbox_errors: int = 0
) -> list[Finding]:
    where = grader_location(pack)
    findings: list[Finding] = []
    groups: dict[str, list[Hit]] = defaultdict(list)
    for hit in result.confirmed:
        # one finding per library attack; for the LLM, one per distinct response
        key = (
            hit.candidate.attack_id
            if hit.candidate.source == "library"
            else f"{hit.candidate.attack_id}:{hit.candidate.response}"
        )
        # certain hits and hits that rest on an assumption are reported apart
        groups[f"{key}|{bool(hit.candidate.assumption)}"].append(hit)
    for hits in groups.values():
        findings.append(_hit_finding(pack, hits, library, where))
    for hit in result.unconfirmed:
        findings.append(_unconfirmed_finding(hit, library, where))
    if result.feedback_leaks:
        leak = result.feedback_leaks[0]
        findings.append(
            Finding(
                code="GX304",
                severity=Severity.WARNING,
                stage=Stage.ATTACK,
                message=(
                    f"the grader's {leak.where} reveals the expected answer to a wrong response "
                    f"(task {leak.task_id}; "
                    f"{len(result.feedback_leaks)} task(s) affected): a model that sees "
                    "feedback can copy the answer on its next try"
                ),
                hint=(
                    "Say *that* the answer is wrong (and perhaps why), "
                    "never what the right answer is."
                ),
                task_id=leak.task_id,
                attack=AttackRef("feedback-leak", "leakage"),
                evidence={
                    "excerpt": leak.excerpt,
                    "tasks": [x.task_id for x in result.feedback_leaks],
                },
                **where,
            )
        )
    if result.skipped_tasks:
        skipped = sorted(result.skipped_tasks)
        findings.append(
            Finding(
                code="GX309",
                severity=Severity.WARNING,
                stage=Stage.ATTACK,
                message=(
                    f"{len(skipped)} of {result.tasks_attacked} task(s) "
                    "were not attacked because no reference "
                    "reaches the pass threshold "
                    f"({', '.join(skipped[:5])}{'…' if len(skipped) > 5 else ''})"
                ),
                hint=(
                    "Run `gauntlet verify` (or `gauntlet run`) and fix the references first; "
                    "a broken task says nothing about hacks."
                ),
                task_id=skipped[0],
            )
        )
    findings.extend(_llm_findings(result.llm))
    if sandbox_errors:
        findings.append(
            Finding(
                code="GX308",
                severity=Severity.WARNING,
                stage=Stage.ATTACK,
                message=(
                    f"{sandbox_errors} attack grading(s) failed in the "
                    "sandbox itself, so those attacks were not really tried"
                ),
                hint="Run `gauntlet sandbox doctor`, then run the attacks again.",
            )
        )
    return findings


def _hit_finding(pack: EnvPack, hits: list[Hit], library: AttackLibrary, where: dict) -> Finding:
    hits = sorted(hits, key=lambda h: (not h.full_reward, len(h.candidate.response)))
    best = hits[0]
    cand = best.candidate
    attack = library.get(cand.attack_id)
    full = best.full_reward
    if attack is not None:
        title, hint, explanation = attack.title, attack.fix_hint, attack.explanation
    else:
        mode = cand.variant.rsplit("-", 1)[0]
        title = f"LLM red team ({mode})" + (f": {best.idea}" if best.idea else "")
        hint, explanation = _LLM_HINT, best.idea
    reference = f"reference {best.reference:g}, " if best.reference is not None else ""
    outcome = (
        f"scored {best.reward:g}, reaching the pass threshold {best.pass_threshold:g}"
        if full
        else f"scored {best.reward:g}, more than a plain wrong answer ({best.baseline:g})"
    )
    tasks = sorted({h.candidate.task_id for h in hits})
    message = (
        f"reward hack — {title}: a response that is wrong "
        f"by construction {outcome} on task {cand.task_id} "
        f"({reference}confirmed in {best.reproduced} of {len(best.runs)} fresh sandboxes)"
    )
    if cand.assumption:
        message = (
            f"possible reward hack — {title}: a response that is wrong only if "
            f"{cand.assumption} {outcome} on task {cand.task_id} "
            f"({reference}confirmed in {best.reproduced} of {len(best.runs)} fresh sandboxes)"
        )
        hint = (
            f"This rests on an assumption your package does not state: {cand.assumption}. If "
            "the grader is right to accept this response, state the rule (in the prompt, or a "
            "'tolerance' / accepted answers in the task) and nothing else needs fixing. If it "
            f"should fail: {hint}"
        )
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
    if best.feedback:
        evidence["grader_feedback"] = best.feedback
    return Finding(
        code="GX310" if cand.assumption else "GX301" if full else "GX302",
        severity=Severity.WARNING if cand.assumption else Severity.ERROR,
        stage=Stage.ATTACK,
        message=message,
        hint=hint,
        task_id=cand.task_id,
        attack=AttackRef(cand.attack_id, cand.category),
        evidence=evidence,
        **where,
    )


def _unconfirmed_finding(hit: Hit, library: AttackLibrary, where: dict) -> Finding:
    cand = hit.candidate
    attack = library.get(cand.attack_id)
    title = (
        attack.title if attack else "LLM red team proposal" + (f" ({hit.idea})" if hit.idea else "")
    )
    return Finding(
        code="GX303",
        severity=Severity.INFO,
        stage=Stage.ATTACK,
        message=(
            f"unconfirmed: {title} scored {hit.reward:g} once "
            f"on task {cand.task_id} but was not reported "
            f"as a hit ({hit.note or 'it did not reproduce'})"
        ),
        hint=(
            "A grader that rewards a response only sometimes is flaky; "
            "make grading deterministic (see GX2xx)."
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
            Finding(
                code="GX306",
                severity=Severity.WARNING,
                stage=Stage.ATTACK,
                message=(
                    "the LLM red team could not run: "
                    f"{llm.get('unavailable', 'the model is unavailable')}; "
                    "only the built-in library ran"
                ),
                hint=llm.get("unavailable_hint") or "check the model name and its API key",
            )
        )
    inconclusive = int(llm.get("inconclusive", 0))
    if inconclusive:
        everything = inconclusive >= int(llm.get("attempts", 0)) > 0
        findings.append(
            Finding(
                code="GX305",
                severity=Severity.WARNING if everything else Severity.INFO,
                stage=Stage.ATTACK,
                message=(
                    "LLM red team inconclusive: "
                    f"{llm.get('refusals', 0)} refusal(s) and {llm.get('malformed', 0)} "
                    f"malformed repl(y/ies) out of {llm.get('attempts', 0)} attempt(s) — "
                    "this is not evidence that "
                    "the grader is robust"
                ),
                hint=(
                    "Try another model (one that accepts authorised "
                    "security testing) or a larger budget."
                ),
            )
        )
    stopped = llm.get("stopped_by")
    if stopped in ("attempts", "tokens", "money"):
        spent = llm.get("cost_usd")
        findings.append(
            Finding(
                code="GX307",
                severity=Severity.INFO,
                stage=Stage.ATTACK,
                message=(
                    f"the LLM red team stopped at its {stopped} "
                    f"budget after {llm.get('attempts', 0)} attempt(s) "
                    f"({llm.get('prompt_tokens', 0) + llm.get('completion_tokens', 0):,} tokens"
                    + (f", ${spent:.4f}" if isinstance(spent, int | float) else "")
                    + ")"
                ),
                hint="Raise --budget-usd (or the attempt limit) for a deeper search.",
            )
        )
    return findings
