"""`AttackLibrary`: the registry of built-in attacks, by id and category."""

from __future__ import annotations

from collections.abc import Iterable

from app.attacks import (
    answer_format,
    code_execution,
    environment,
    judge_attacks,
    leakage,
    mutations,
    parser,
    resource,
)
from app.attacks.baseline import plain_wrong
from app.attacks.model import CATEGORIES, Attack
from app.envpack.model import EnvPack
from app.errors import UserError


class AttackLibrary:
    def __init__(self, attacks: Iterable[Attack]) -> None:
        self._attacks: dict[str, Attack] = {}
        for item in attacks:
            if item.id in self._attacks:
                raise ValueError(f"two attacks share the id {item.id!r}")
            self._attacks[item.id] = item

    @classmethod
    def builtin(cls) -> AttackLibrary:
        return cls(
            (
                plain_wrong,
                *answer_format.ATTACKS,
                *mutations.ATTACKS,
                *parser.ATTACKS,
                *judge_attacks.ATTACKS,
                *code_execution.ATTACKS,
                *environment.ATTACKS,
                *leakage.ATTACKS,
                *resource.ATTACKS,
            )
        )

    def __iter__(self):
        return iter(self._attacks.values())

    def __len__(self) -> int:
        return len(self._attacks)

    def get(self, attack_id: str) -> Attack | None:
        return self._attacks.get(attack_id)

    def by_category(self, category: str) -> list[Attack]:
        return [a for a in self if a.category == category]

    def applicable(self, pack: EnvPack, categories: Iterable[str] = ()) -> list[Attack]:
        wanted = set(check_categories(categories)) or set(CATEGORIES)
        return [a for a in self if a.category in wanted and a.applies_to(pack)]


def check_categories(categories: Iterable[str]) -> list[str]:
    """The categories a user asked for, or a UserError naming the valid ones."""
    chosen = [c.strip() for c in categories if c and c.strip()]
    unknown = [c for c in chosen if c not in CATEGORIES]
    if unknown:
        raise UserError(
            f"unknown attack categor{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}",
            f"choose from: {', '.join(CATEGORIES)}",
        )
    return chosen
