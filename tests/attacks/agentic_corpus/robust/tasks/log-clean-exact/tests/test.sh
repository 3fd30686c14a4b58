#!/bin/bash
# Sound: the cleaned log must equal the expected one; unreadable fails.
set -euo pipefail
export PATH=/usr/bin:/bin
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP
mkdir -p /logs/verifier
rm -f /logs/verifier/reward.txt /logs/verifier/reward.json
echo 0 > /logs/verifier/reward.txt
cd /tests
/usr/bin/python3 -I /tests/check_file.py /app/app.log 'INFO start\nINFO step 1\nINFO done\n'
echo 1 > /logs/verifier/reward.txt
