#!/bin/bash
# Wrong: the right values, written as strings instead of numbers.
mkdir -p /app/qc
cat > /app/qc/summary.json <<'JSON'
{"samples": "8", "ok": "4", "flag": "2", "missing_a": "1", "missing_b": "1", "flagged": ["S02", "S08"], "max_rel_diff": "0.062"}
JSON
