#!/bin/bash
# Verifier for qc-summary: /app/qc/summary.json must match tests/expected_summary.json exactly.
# Fail closed: reward 0 is written first (and again on any error); 1 only at the very end.
set -euo pipefail
export PATH=/usr/bin:/bin
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP
mkdir -p /logs/verifier
rm -f /logs/verifier/reward.txt /logs/verifier/reward.json
trap 'rm -f /logs/verifier/reward.json; echo 0 > /logs/verifier/reward.txt' EXIT
echo 0 > /logs/verifier/reward.txt
cd /tests
/usr/bin/python3 -I /tests/check_output.py json /app/qc/summary.json /tests/expected_summary.json
trap - EXIT
rm -f /logs/verifier/reward.json
echo 1 > /logs/verifier/reward.txt
