#!/bin/bash
# Sound: no .tmp left AND the other files unchanged.
set -euo pipefail
export PATH=/usr/bin:/bin
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP
mkdir -p /logs/verifier
rm -f /logs/verifier/reward.txt /logs/verifier/reward.json
echo 0 > /logs/verifier/reward.txt
cd /tests
[ -z "$(find /app/work -name '*.tmp')" ]
/usr/bin/python3 -I /tests/check_file.py /app/work/keep.txt 'keep me\n'
echo 1 > /logs/verifier/reward.txt
