#!/bin/bash
# Wrong: parses every valid form, but an unknown unit raises KeyError instead of ValueError.
set -euo pipefail
cat > /app/concentration.py <<'PY'
import re

UNITS = {"M": 1.0, "mM": 1e-3, "uM": 1e-6, "\u00b5M": 1e-6, "\u03bcM": 1e-6, "nM": 1e-9, "pM": 1e-12}


def parse_concentration(text):
    match = re.fullmatch(r"((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?) *(\S+)", text.strip(), re.ASCII)
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * UNITS[match.group(2)]
PY
