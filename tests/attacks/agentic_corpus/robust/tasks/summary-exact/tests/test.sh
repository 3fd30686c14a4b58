#!/bin/bash
# Sound: every value of the summary is compared.
set -euo pipefail
export PATH=/usr/bin:/bin
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP
mkdir -p /logs/verifier
rm -f /logs/verifier/reward.txt /logs/verifier/reward.json
echo 0 > /logs/verifier/reward.txt
cd /tests
/usr/bin/python3 -I -c "import json, os, sys; p = '/app/out/summary.json'; sys.exit(1 if os.path.islink(p) else 0 if json.load(open(p)) == {'rows': 2, 'total_b': 12} else 1)"
echo 1 > /logs/verifier/reward.txt
