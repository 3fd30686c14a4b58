#!/bin/bash
set -euo pipefail
grep -v ERROR /app/app.log > /tmp/clean.log
cat /tmp/clean.log > /app/app.log
