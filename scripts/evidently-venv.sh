#!/usr/bin/env bash
# A separate venv with Evidently 0.7 for the compatibility tests and the benchmark.
# Evidently needs pandas < 3, so it can never share kubedrift's environment; nor
# is it ever a runtime dependency. Idempotent: the venv is rebuilt only when the
# pinned requirement below changes.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${EVIDENTLY_VENV:-.venv-evidently}"
REQUIREMENT="evidently==0.7.23 pandas<3 pyarrow"
PYTHON="${PYTHON:-python3}"
if [[ -f "$VENV/.installed" && "$(cat "$VENV/.installed")" == "$REQUIREMENT" ]]; then
  exit 0
fi
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# shellcheck disable=SC2086  # the requirement is a list of specifiers
"$VENV/bin/pip" install -q $REQUIREMENT
echo "$REQUIREMENT" > "$VENV/.installed"
