"""The structural finding codes (GX1xx): stage 1's part of the catalogue in app/finding_codes.py.

Every structural finding the loader or a check emits is made by `rule(code).finding(...)`, so a
code always has the same severity, title and default fix hint.
"""

from __future__ import annotations

from app.finding_codes import CATALOGUE, FindingCode
from app.findings import Stage

RULES: dict[str, FindingCode] = {
    code: entry for code, entry in CATALOGUE.items() if entry.stage == Stage.STRUCTURE
}


def rule(code: str) -> FindingCode:
    return RULES[code]
