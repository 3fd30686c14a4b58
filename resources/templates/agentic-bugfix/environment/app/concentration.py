"""Parse the concentrations lab staff write on sample sheets into mol/L."""

import re

UNITS = {"M": 1.0, "mM": 1e-3, "uM": 1e-6, "nM": 1e-9, "pM": 1e-12}
_PATTERN = re.compile(r"^(\d+)\s*([A-Za-z]+)$")


def parse_concentration(text: str) -> float:
    """'2.5 mM' -> 0.0025 (mol/L)."""
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"not a concentration: {text!r}")
    number, unit = match.groups()
    return int(number) * UNITS[unit.lower()]
