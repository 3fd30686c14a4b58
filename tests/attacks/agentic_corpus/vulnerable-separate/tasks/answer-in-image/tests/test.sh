#!/bin/bash
# Sound checks; the flaw is in environment/Dockerfile (the answer ships in the image).
set -euo pipefail
export PATH=/usr/bin:/bin
mkdir -p /logs/verifier
echo 0 > /logs/verifier/reward.txt
/usr/bin/python3 -I /tests/check.py
echo 1 > /logs/verifier/reward.txt
