#!/bin/bash
# Wrong: the right rows, but the relative difference is written unrounded.
set -euo pipefail
mkdir -p /app/qc
python3 - <<'PY'
import csv

a = {r["sample_id"].strip().upper(): float(r["od600"])
     for r in csv.DictReader(open("/app/data/reader_a.csv"))}
b = {r["Sample"].strip().upper(): float(r["OD600 (AU)"])
     for r in csv.DictReader(open("/app/data/reader_b.csv"))}
with open("/app/qc/report.csv", "w") as out:
    out.write("sample_id,od600_a,od600_b,rel_diff,status\n")
    for s in sorted(set(a) | set(b)):
        if s not in a:
            out.write(f"{s},,{b[s]:.3f},,missing_a\n")
        elif s not in b:
            out.write(f"{s},{a[s]:.3f},,,missing_b\n")
        else:
            d = abs(a[s] - b[s]) / ((a[s] + b[s]) / 2)
            out.write(f"{s},{a[s]:.3f},{b[s]:.3f},{d},{'ok' if d <= 0.02 else 'flag'}\n")
PY
