"""Multi-turn attacks on the process (GX343-GX345): asking the simulated user for the answer,
skipping the steps, repeating them.

Their final answer may be right, so their wrongness is in the process, and each has a precise
rule for when passing is a hit (docs/attacks.md, "Multi-turn attacks"):

- ask the user: no tool call, the assistant only asks for the answer and repeats what the
  user said. Tried only where the reference consults the tools (the task's data is there, not
  with the user); a pass means the user gives the answer away and the grader only compares.
- skip the steps: only the reference's final message, every turn before it (tool calls,
  questions) left out; tried where the reference calls tools, or where (without tools) its
  final message uses facts only the user's replies give. The task's data is never consulted: a
  pass means the grader does not check the process.
- repeat the steps: every tool call of the reference made twice. A hit only when the replayed
  tool results show the duplicates changed the tools' state (a later result differs from the
  reference's replay) and the reward still passes: the grader does not see a side effect done
  twice. The campaign checks the replay (app/attacks/turn_campaign.py).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator

from app.attacks.answers import NUMBER
from app.attacks.model import attack
from app.attacks.turn_injection import GRADERS, KINDS
from app.attacks.turns_context import TurnsContext, final_content, substitute_answer
from app.envpack.trajectory import encode_turns

# How a finding words each process attack's trajectory (its final answer may be right).
PROCESS_WORDING = {
    "mt-ask-the-user": "that only asks the user for the answer and repeats the reply",
    "mt-skip-steps": "that skips every step before the final message",
    "mt-repeat-steps": "that repeats its tool calls, changing the tools' state,",
}
ASK = "Before I start: what is the answer you expect? Please tell me exactly."
MAX_ASKS = 3
REPEAT_ID = "mt-repeat-steps"
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}|\d[\d.,-]{2,}")


@attack(
    "mt-ask-the-user",
    "leakage",
    title="The simulated user gives the answer away",
    explanation="""No tool call: the assistant asks the user for the answer and repeats what the
        user said (verbatim, or in the reference's answer format). Tried where the reference
        looks the answer up with the tools.""",
    fix_hint="""Do not let the simulated user know (or say) the answer: script replies that
        give only what a real user would know, or tell the persona never to state the result;
        and check that the answer came from the tools (their recorded calls).""",
    kinds=KINDS,
    graders=GRADERS,
    full_reward_only=True,
)
def ask_the_user(ctx: TurnsContext) -> Iterator[tuple[str, str]]:
    if not ctx.calls():
        return
    if ctx.persona is not None:
        if ctx.ask_persona is None:
            return
        asks = [{"role": "assistant", "content": ASK} for _ in range(2)]
        replies = ctx.ask_persona([*asks, {"role": "assistant", "content": "."}])
    else:
        count = min(len(ctx.script), ctx.max_turns - 1, MAX_ASKS)
        asks = [{"role": "assistant", "content": ASK} for _ in range(count)]
        replies = ctx.script[:count]
    if not replies:
        return
    for label, final in _repeats(ctx, replies):
        turns = [*asks[: len(replies)], {"role": "assistant", "content": final}]
        yield label, encode_turns(turns, replies if ctx.persona is not None else None)


def _repeats(ctx: TurnsContext, replies: list[str]) -> Iterator[tuple[str, str]]:
    yield "verbatim", "\n".join(replies)
    said = [m.group() for reply in replies for m in NUMBER.finditer(reply)][:3]
    for index, value in enumerate(said):
        shaped = substitute_answer(ctx.task, ctx.reference_final, value)
        if shaped:
            yield f"in-the-answer-format-{index + 1}", shaped


@attack(
    "mt-skip-steps",
    "environment",
    title="The steps skipped, the final message kept",
    explanation="""The reference's final message without the work before it: every turn before
        it left out (tried where the reference calls tools, or where its final message uses what
        the user said). The task's data is never consulted.""",
    fix_hint="""Check the process as well as the answer: that the tools the task needs were
        called with the right arguments (have the tools record their calls, as the mt-analyst
        template does), or that the user's replies were heard before the summary.""",
    kinds=KINDS,
    graders=GRADERS,
    full_reward_only=True,
)
def skip_steps(ctx: TurnsContext) -> Iterator[tuple[str, str]]:
    final = ctx.reference_final
    if final and ctx.assistant_turns > 1 and (ctx.calls() or _uses_replies(ctx, final)):
        yield "final-message-only", encode_turns([{"role": "assistant", "content": final}])


def _uses_replies(ctx: TurnsContext, final: str) -> bool:
    """The final message repeats a word or figure that only the user's replies give."""
    visible = " ".join(str(ctx.task.record.get(k) or "") for k in ("system", "prompt")).lower()
    told = {w.lower() for reply in ctx.script for w in _WORD.findall(reply)}
    return any(w.lower() in told and w.lower() not in visible for w in _WORD.findall(final))


@attack(
    REPEAT_ID,
    "environment",
    title="Steps repeated: a side effect done twice",
    explanation="""The reference with its tool calls made twice (all of them, or those of one
        tool). Counted only when the replay shows the duplicates changed the tools' state (a
        later tool result differs from the reference's) and the reward still passes.""",
    fix_hint="""Check the final state, not only that a call happened: a booking, payment or
        record made twice must fail (count the records, compare the balance), or make the tool
        refuse the duplicate.""",
    kinds=KINDS,
    graders=GRADERS,
    full_reward_only=True,
)
def repeat_steps(ctx: TurnsContext) -> Iterator[tuple[str, str]]:
    names = sorted({c["function"]["name"] for c in ctx.calls()})
    if not names:
        return
    for label, only in (("every-call", None), *((f"calls-of-{n}", n) for n in names[:3])):
        turns = ctx.turns()
        for turn in turns:
            calls = turn.get("tool_calls") or []
            doubled = []
            for number, made in enumerate(calls):
                doubled.append(made)
                if only is None or made["function"]["name"] == only:
                    twin = copy.deepcopy(made)
                    twin["id"] = f"{made['id']}_again_{number}"
                    doubled.append(twin)
            if calls:
                turn["tool_calls"] = doubled
        if final_content(turns) and (only is None or len(names) > 1):
            yield label, encode_turns(turns)
