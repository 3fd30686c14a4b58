#!/bin/bash
set -euo pipefail
python3 -c "import csv; print(sum(int(r['b']) for r in csv.DictReader(open('/app/data.csv'))))" > /app/total.txt
