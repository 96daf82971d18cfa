#!/usr/bin/env bash
# Builds .cache/engines/: the pinned vLLM and SGLang wheels' Python sources, and a venv with what their
# argument parsers and configuration checks import. tests/test_render_startable.py runs the engines'
# own code there (tests/engines/*_check.py). Idempotent: a finished step is skipped.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$root/.cache/engines"
mkdir -p "$dir"
VLLM=0.33.0
SGLANG=0.5.23

for pkg in "vllm==$VLLM" "sglang==$SGLANG"; do
  name=${pkg%%==*}; ver=${pkg##*==}; dest="$dir/$name-$ver"
  [ -f "$dest/.done" ] && continue
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --disable-pip-version-check "$pkg" -d "$tmp"
  rm -rf "$dest" && mkdir -p "$dest"
  # The Python sources and dist-info only: compiled kernels need a GPU and are stood in for.
  python3 - "$tmp"/*.whl "$dest" <<'PY'
import sys, zipfile
whl, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    z.extractall(dest, [n for n in z.namelist() if not n.endswith((".so", ".cubin", ".fatbin"))])
PY
  sha256sum "$tmp"/*.whl | sed "s#$tmp/##" > "$dest/WHEEL.sha256"
  rm -rf "$tmp"
  touch "$dest/.done"
done

if [ ! -f "$dir/venv/.done" ]; then
  rm -rf "$dir/venv"
  python3 -m venv "$dir/venv"
  # torch and its CUDA libraries come from the machine's wheel store through pip; the rest, pinned
  # exactly (a freeze, so no resolution), through uv's parallel downloads.
  "$dir/venv/bin/pip" install -q --disable-pip-version-check torch==2.14.1 torchvision==0.29.1
  "${UV:-uv}" pip install -q --no-deps --python "$dir/venv/bin/python" -r "$root/tests/engines/requirements.txt"
  touch "$dir/venv/.done"
fi
