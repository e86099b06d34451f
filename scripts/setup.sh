#!/usr/bin/env bash
# Set up gr-uoisc on Debian 12: Debian's GNU Radio 3.10, one Python venv that
# sees GNU Radio's bindings and the project's pip packages, and the module
# built and installed into that venv. Idempotent: a second run takes seconds.
#
#   scripts/setup.sh            # venv in ./.venv, build in ./build
#   UOISC_VENV=/opt/uoisc scripts/setup.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${UOISC_VENV:-$ROOT/.venv}
BUILD=${UOISC_BUILD:-$ROOT/build}
APT_PACKAGES=(gnuradio gnuradio-dev cmake g++ python3-venv python3-dev)

log() { printf '[setup] %s\n' "$*" >&2; }

# 1. Debian packages (only what is missing).
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    log "installing Debian packages: ${missing[*]} (about 2 minutes)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
        python3-numpy python3-scipy python3-matplotlib python3-pil python3-zmq >/dev/null
fi

# 2. One venv on Debian's python3 that also sees /usr/lib/python3/dist-packages
#    (GNU Radio, numpy 1.24, scipy, matplotlib, Pillow with OpenJPEG, pyzmq).
if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV"
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
PY="$VENV/bin/python"

# 3. pip packages, re-installed only when the requirement files change.
stamp="$VENV/.uoisc-requirements.sha256"
want=$(cat "$ROOT/requirements/"*.txt "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing pip packages into $VENV"
    # (the filter hides pip's notes about this machine's empty local mirrors)
    "$PY" -m pip install -q -c "$ROOT/requirements/constraints.txt" -r "$ROOT/requirements/requirements.txt" \
        2> >(grep -v "^WARNING: Location 'file:" >&2)
    # The training package (python/uoisc_train), editable so a checkout is live.
    "$PY" -m pip install -q --no-deps --no-build-isolation -e "$ROOT"
    echo "$want" >"$stamp"
fi

# 4. Build and install the GNU Radio module into the venv prefix.
# (CMake's chatter, e.g. GrVersion's "git describe" miss in an untagged clone,
# goes to a log that is shown only when a step fails)
cmake_log="$VENV/uoisc-cmake.log"
{ cmake -S "$ROOT" -B "$BUILD" -DCMAKE_INSTALL_PREFIX="$VENV" -DPYTHON_EXECUTABLE="$PY" &&
    cmake --build "$BUILD" -j2 && cmake --install "$BUILD"; } >"$cmake_log" 2>&1 ||
    { cat "$cmake_log" >&2; log "CMake failed (log: $cmake_log)"; exit 1; }
# A module or block file renamed or removed in the source must not linger in the venv:
# a stale copy once hid an import that only a clean clone showed to be broken.
find "$VENV" \( -path '*/gnuradio/uoisc/*.py' -o -path '*/gnuradio/uoisc/*.py[co]' -o -path '*/grc/blocks/uoisc_*.block.yml' \) -type f |
    { grep -vxFf "$BUILD/install_manifest.txt" || true; } | while read -r stale; do
        log "removing $stale (no longer installed by the build)"
        rm -f "$stale"
    done

# 5. Environment for GRC, grcc and the tests.
cat >"$VENV/uoisc-env.sh" <<ENV
# Source this to use gr-uoisc from a shell: PATH, GRC blocks, Python.
export PATH="$VENV/bin:\$PATH"
export GRC_BLOCKS_PATH="$VENV/share/gnuradio/grc/blocks\${GRC_BLOCKS_PATH:+:\$GRC_BLOCKS_PATH}"
export PYTHONPATH="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')\${PYTHONPATH:+:\$PYTHONPATH}"
ENV
log "ready: source $VENV/uoisc-env.sh"
