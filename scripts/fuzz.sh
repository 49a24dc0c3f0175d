#!/usr/bin/env bash
# A longer fuzz run than CI's: every target of tests/test_fuzz.py with N examples
# each (default 2000) and fresh randomness. Usage: scripts/fuzz.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
export NEWSWEAVE_FUZZ_EXAMPLES="${1:-2000}" NEWSWEAVE_FUZZ_RANDOM=1
exec .venv/bin/pytest -q -p no:cacheprovider tests/test_fuzz.py --durations=0 -x
