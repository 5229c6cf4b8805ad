#!/usr/bin/env bash
# Set up everything `sim` needs on a fresh machine, idempotently:
#   - a Python >= 3.12 virtual environment in .venv (Mesa 3.5 needs 3.12+),
#   - the package with its dev, explore, ui, fast and ema extras,
#   - Debian's chromium (for the browser tests and screenshots),
#   - Solara's front-end assets, served locally (the UI works offline).
# Usage: bash scripts/setup.sh        (SIM_SKIP_BROWSER=1 skips chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local c v
  for c in python3.12 python3.13 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  # pyenv installs that are present but not selected (their shims refuse to run)
  for v in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12* "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*; do
    if [ -x "$v/bin/python3" ]; then echo "$v/bin/python3"; return 0; fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY=$(find_python) || { echo "setup: need Python >= 3.12 (python3.12 or a pyenv 3.12/3.13)" >&2; exit 1; }
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install --quiet -e ".[dev,explore,ui,fast,ema]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import sim, mesa, numpy, scipy, pandas, pyarrow" || { echo "setup: install failed" >&2; exit 1; }

if [ "${SIM_SKIP_BROWSER:-0}" != "1" ] && [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    echo "setup: installing Debian's chromium"
    $SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: no apt-get; browser tests will be skipped" >&2
  fi
fi

if [ -f scripts/install_ui_assets.sh ]; then
  bash scripts/install_ui_assets.sh .venv/bin/python
fi
echo "setup: ready (.venv/bin/sim)"
