"""The single-turn answer-format attacks on a multi-turn task's final message (GX347): the
reference trajectory with its final message replaced by each qa attack's response (empty,
every option, several answers, NaN, unicode look-alikes, near misses...), and the right answer
said in an earlier turn while the final message commits to a wrong one.

The qa generators read `TurnsContext.final`, a qa context over the references' final
messages, and every response they make passes the correctness guard (correctness.py) on the
final message, so only final messages that cannot be right are tried.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.attacks.model import Attack, attack
from app.attacks.turn_injection import FEW_TASKS, GRADERS, KINDS
from app.attacks.turns_context import TurnsContext

MAX_VARIANTS = 2  # per qa attack and task: keeps the one batch small
# Longer final messages are not tried: checking that they are wrong costs seconds each, and the
# size of a conversation is attacked through a tool's huge argument (turn_malformed.py).
MAX_FINAL_CHARS = 20_000
FINAL_PREFIX = "final-"
QA_CATEGORIES = ("answer-format", "parser", "judge")


def final_attack(qa: Attack) -> Attack:
    """`qa` applied to the final message of the reference trajectory."""

    def generate(ctx: TurnsContext) -> Iterator[tuple[str, str]]:
        made = 0
        for variant, text in qa.generate(ctx.final):
            if made >= MAX_VARIANTS:
                return
            if len(text) <= MAX_FINAL_CHARS and ctx.is_wrong(text):
                made += 1
                yield variant, ctx.with_final(text)

    return Attack(
        id=FINAL_PREFIX + qa.id,
        category=qa.category,
        title=f"Final message: {qa.title[0].lower()}{qa.title[1:]}",
        explanation="The reference's work, with its final message written this way: "
        + qa.explanation,
        fix_hint=qa.fix_hint,
        kinds=KINDS,
        graders=tuple(g for g in qa.graders if g in GRADERS),
        generate=generate,
        full_reward_only=qa.full_reward_only,
        # how the grader parses or judges text does not depend on the task: a few suffice
        max_tasks=min(qa.max_tasks or FEW_TASKS, FEW_TASKS)
        if qa.category != "answer-format"
        else qa.max_tasks,
    )


@attack(
    "mt-answer-in-earlier-turn",
    "answer-format",
    title="The right answer said in an earlier turn, a wrong one at the end",
    explanation="""The reference's final message said early, next to the first tool call (or
        as a turn of its own), and a wrong final message at the end. A grader that takes the
        first answer, or an answer from any message, passes a conversation whose final answer
        is wrong (the way a policy hedges across turns).""",
    fix_hint="""Read the answer from the assistant's last message only, and require exactly
        one answer there.""",
    kinds=KINDS,
    graders=GRADERS,
)
def answer_in_earlier_turn(ctx: TurnsContext) -> Iterator[tuple[str, str]]:
    right, wrong = ctx.reference_final, ctx.wrong_final()
    if not right.strip():
        return
    turns = ctx.turns()
    first = next((t for t in turns if t.get("tool_calls")), None)
    if first is not None:
        first["content"] = right
        yield "beside-a-tool-call", ctx.with_final(wrong, turns)
    if ctx.can_speak_first:
        turns = [{"role": "assistant", "content": right}, *ctx.turns()]
        yield "own-turn", ctx.with_final(wrong, turns)
