"""The multi-turn attack library (DESIGN §4.2, §6): its attacks, and the GX34x code each
confirmed hit is reported under (app/finding_codes_multiturn_attacks.py)."""

from __future__ import annotations

from app.attacks.library import AttackLibrary
from app.attacks.model import Attack
from app.attacks.turn_final import FINAL_PREFIX, QA_CATEGORIES, answer_in_earlier_turn, final_attack
from app.attacks.turn_injection import claimed_success, injection, tool_tampering
from app.attacks.turn_malformed import malformed_calls
from app.attacks.turn_process import ask_the_user, repeat_steps, skip_steps

RED_TEAM_ID = "llm-red-team-turns"
CODES = {
    injection.id: "GX340",
    claimed_success.id: "GX341",
    malformed_calls.id: "GX342",
    ask_the_user.id: "GX343",
    skip_steps.id: "GX344",
    repeat_steps.id: "GX345",
    tool_tampering.id: "GX346",
    answer_in_earlier_turn.id: "GX347",
    RED_TEAM_ID: "GX348",
}
FAMILY = (
    injection,
    claimed_success,
    malformed_calls,
    ask_the_user,
    skip_steps,
    repeat_steps,
    tool_tampering,
    answer_in_earlier_turn,
)


def code_for(attack_id: str) -> str | None:
    """The GX34x code of a multi-turn attack's hit (None for the baseline: GX301)."""
    if attack_id.startswith(FINAL_PREFIX):
        return "GX347"
    return CODES.get(attack_id)


def turn_library() -> AttackLibrary:
    """The multi-turn attacks, then every single-turn answer-format, parser and judge attack of
    the built-in library on the final message."""
    qa: list[Attack] = [
        a
        for a in AttackLibrary.builtin()
        if "qa" in a.kinds and a.category in QA_CATEGORIES and a.id != "plain-wrong"
    ]
    return AttackLibrary([*FAMILY, *(final_attack(a) for a in qa)])
