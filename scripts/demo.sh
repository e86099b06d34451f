#!/usr/bin/env bash
# The main job: set-up (idempotent), then the loopback demo. Extra arguments go
# to the demo (see --help); results land in ./out/demo.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
VENV=${UOISC_VENV:-$ROOT/.venv}
# shellcheck disable=SC1091
source "$VENV/uoisc-env.sh"
cd "$ROOT"
exec python -m gnuradio.uoisc.apps.uoisc_cli demo --out out/demo "$@"
