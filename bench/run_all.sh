#!/usr/bin/env bash
# Every benchmark of bench/README.md, by hand (not part of `make test`):
#   bash bench/run_all.sh [options of bench/run.py, e.g. --duration 15 --json /tmp/bench.json]
# Installs what it needs (the app, wrk, psutil and py-spy), then bench/run.py creates a
# temporary data directory and a fresh PostgreSQL database, migrates, seeds the demo
# organisation, starts each server configuration, measures it and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

make --no-print-directory install
.venv/bin/pip install --quiet -r bench/requirements.txt

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "The benchmarks need wrk: run 'sudo apt-get install wrk'." >&2
    exit 1
  fi
fi

exec .venv/bin/python bench/run.py "$@"
