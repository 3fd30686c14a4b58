#!/bin/bash
# Wrong: a stub with the right header and no rows.
mkdir -p /app/qc
echo "sample_id,od600_a,od600_b,rel_diff,status" > /app/qc/report.csv
