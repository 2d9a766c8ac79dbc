#!/usr/bin/env bash
# Start the whole platform: install what is missing, start Redis if none runs, migrate,
# then run web + serve + worker + beat (Procfile) until Ctrl-C.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
prepare_environment
ensure_secret_key

export PORT="${PORT:-5000}"
# Migrates, registers the built-in datasets and, on the first start, creates the admin account and
# prints its password once (or takes TRAINYARD_ADMIN_PASSWORD).
"$VENV/bin/flask" --app app trainyard init
say "dashboard: http://127.0.0.1:${PORT}/   (Ctrl-C stops web, serve, worker and beat)"
# honcho gives web $PORT; it forwards Ctrl-C / SIGTERM to every process and waits for them.
"$VENV/bin/honcho" --no-colour -f Procfile start -p "$PORT"
