"""Exit 0 when /app/total.txt holds exactly 12 (the sum of column b)."""

import sys

try:
    with open("/app/total.txt", encoding="utf-8") as handle:
        text = handle.read()
except OSError:
    sys.exit(1)
sys.exit(0 if text.strip() == "12" else 1)
