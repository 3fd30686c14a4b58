#!/bin/bash
# Reference solution: reconcile the two readers and count the statuses.
set -euo pipefail
mkdir -p /app/qc
python3 - <<'PY'
import json

import csv


def readings(path, id_column, value_column):
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            row[id_column].strip().upper(): float(row[value_column])
            for row in csv.DictReader(handle)
        }


a = readings("/app/data/reader_a.csv", "sample_id", "od600")
b = readings("/app/data/reader_b.csv", "Sample", "OD600 (AU)")
rows = []
for sample in sorted(set(a) | set(b)):
    if sample not in a:
        rows.append((sample, None, b[sample], None, "missing_a"))
    elif sample not in b:
        rows.append((sample, a[sample], None, None, "missing_b"))
    else:
        diff = abs(a[sample] - b[sample]) / ((a[sample] + b[sample]) / 2)
        rows.append((sample, a[sample], b[sample], diff, "ok" if diff <= 0.02 else "flag"))
statuses = [row[4] for row in rows]
summary = {"samples": len(rows)}
for status in ("ok", "flag", "missing_a", "missing_b"):
    summary[status] = statuses.count(status)
summary["flagged"] = [row[0] for row in rows if row[4] == "flag"]
summary["max_rel_diff"] = round(max(row[3] for row in rows if row[3] is not None), 3)
with open("/app/qc/summary.json", "w", encoding="utf-8") as out:
    json.dump(summary, out)
PY
