#!/bin/bash
# Sound: the exact count, from a regular file.
set -euo pipefail
export PATH=/usr/bin:/bin
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP
mkdir -p /logs/verifier
rm -f /logs/verifier/reward.txt /logs/verifier/reward.json
echo 0 > /logs/verifier/reward.txt
cd /tests
/usr/bin/python3 -I /tests/check_file.py /app/count.txt '2\n'
echo 1 > /logs/verifier/reward.txt
