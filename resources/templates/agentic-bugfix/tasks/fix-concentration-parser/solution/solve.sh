#!/bin/bash
# Reference solution: rewrite the parser to the specification.
set -euo pipefail
cat > /app/concentration.py <<'PY'
"""Parse the concentrations lab staff write on sample sheets into mol/L."""

import re

UNITS = {"M": 1.0, "mM": 1e-3, "uM": 1e-6, "\u00b5M": 1e-6, "\u03bcM": 1e-6, "nM": 1e-9, "pM": 1e-12}
_PATTERN = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))? *(\S+)", re.ASCII)


def parse_concentration(text: str) -> float:
    """'2.5 mM' -> 0.0025 (mol/L)."""
    if not isinstance(text, str):
        raise ValueError(f"not a concentration: {text!r}")
    match = _PATTERN.fullmatch(text.strip())
    if not match or match.group(3) not in UNITS:
        raise ValueError(f"not a concentration: {text!r}")
    mantissa, exponent, unit = match.groups()
    number = float(mantissa + (f"e{exponent}" if exponent else ""))
    return number * UNITS[unit]
PY
