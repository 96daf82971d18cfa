#!/usr/bin/env bash
# Builds .cache/clients/venv: AIPerf from PyPI, the benchmark client the calibration end-to-end test
# (tests/test_calibrate_e2e.py) runs against tests/calibrate/sim_server.py. Its own venv: AIPerf's
# dependencies (transformers, pandas, ...) stay out of qwen-plan's. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$root/.cache/clients"
AIPERF=0.13.0
[ -f "$dir/venv/.done" ] && [ "$(cat "$dir/venv/.done")" = "aiperf==$AIPERF" ] && exit 0
rm -rf "$dir/venv"
mkdir -p "$dir"
python3 -m venv "$dir/venv"
if [ -n "${UV:-}" ] && [ -x "${UV}" ]; then
  "$UV" pip install -q --python "$dir/venv/bin/python" "aiperf==$AIPERF"
else
  "$dir/venv/bin/pip" install -q --disable-pip-version-check "aiperf==$AIPERF"
fi
echo "aiperf==$AIPERF" > "$dir/venv/.done"
