#!/usr/bin/env bash
# The test suite: set-up (idempotent), then the gr_unittest qa tests through
# ctest and the pytest suite (unit, property and end-to-end tests).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
VENV=${UOISC_VENV:-$ROOT/.venv}
BUILD=${UOISC_BUILD:-$ROOT/build}
# shellcheck disable=SC1091
source "$VENV/uoisc-env.sh"
export QT_QPA_PLATFORM=offscreen

status=0
(cd "$BUILD" && ctest --output-on-failure -j2 "$@") || status=$?
(cd "$ROOT" && python -m pytest -q -p no:cacheprovider tests) || status=$?
exit $status
