#!/bin/bash
set -euo pipefail
python3 -c "import csv; assert sum(int(r['b']) for r in csv.DictReader(open('/app/data.csv'))) == 12; print('1 passed')" > /app/test-results.txt
