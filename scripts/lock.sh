#!/usr/bin/env bash
# Re-pin requirements.lock from requirements.in in a clean virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --upgrade pip
"$tmp/venv/bin/pip" install -q -r requirements.in
{ echo "# Exact versions installed by scripts/run.sh and scripts/test.sh (pip freeze of requirements.in)."
  "$tmp/venv/bin/pip" freeze --exclude-editable; } > requirements.lock
rm -rf "$tmp"
echo "requirements.lock updated"
