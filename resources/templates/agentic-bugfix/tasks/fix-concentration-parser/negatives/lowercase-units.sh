#!/bin/bash
# Wrong: decimals fixed, but units still compared case-insensitively ("mm" accepted, "M" broken).
set -euo pipefail
cat > /app/concentration.py <<'PY'
import re

UNITS = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "nm": 1e-9, "pm": 1e-12}
_PATTERN = re.compile(r"^\s*(\d*\.?\d+)\s*([A-Za-z]+)\s*$")


def parse_concentration(text):
    match = _PATTERN.match(text)
    if not match or match.group(2).lower() not in UNITS:
        raise ValueError(text)
    return float(match.group(1)) * UNITS[match.group(2).lower()]
PY
