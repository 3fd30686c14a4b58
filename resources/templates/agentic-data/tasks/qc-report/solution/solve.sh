#!/bin/bash
# Reference solution: reconcile the two readers with the standard library only.
set -euo pipefail
mkdir -p /app/qc
python3 - <<'PY'
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


def fmt(value):
    return "" if value is None else f"{value:.3f}"


with open("/app/qc/report.csv", "w", encoding="utf-8") as out:
    out.write("sample_id,od600_a,od600_b,rel_diff,status\n")
    for sample, value_a, value_b, diff, status in rows:
        out.write(f"{sample},{fmt(value_a)},{fmt(value_b)},{fmt(diff)},{status}\n")
PY
