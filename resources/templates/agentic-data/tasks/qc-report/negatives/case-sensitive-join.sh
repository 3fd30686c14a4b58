#!/bin/bash
# Wrong: joins on the raw ids, so "S01" and "s01" never meet and every sample looks missing.
set -euo pipefail
mkdir -p /app/qc
python3 - <<'PY'
import csv

a = {r["sample_id"]: float(r["od600"]) for r in csv.DictReader(open("/app/data/reader_a.csv"))}
b = {r["Sample"]: float(r["OD600 (AU)"]) for r in csv.DictReader(open("/app/data/reader_b.csv"))}
with open("/app/qc/report.csv", "w") as out:
    out.write("sample_id,od600_a,od600_b,rel_diff,status\n")
    for s in sorted(set(a) | set(b)):
        if s not in a:
            out.write(f"{s.upper()},,{b[s]:.3f},,missing_a\n")
        elif s not in b:
            out.write(f"{s.upper()},{a[s]:.3f},,,missing_b\n")
PY
