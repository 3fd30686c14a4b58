#!/bin/bash
# Wrong: samples missing from one reader are counted as flagged.
mkdir -p /app/qc
cat > /app/qc/summary.json <<'JSON'
{"samples": 8, "ok": 4, "flag": 4, "missing_a": 0, "missing_b": 0, "flagged": ["S02", "S06", "S07", "S08"], "max_rel_diff": 0.062}
JSON
