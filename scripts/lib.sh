# Shared steps of scripts/run.sh and scripts/test.sh. Source it; do not run it.
# Each step says what it does and fails with a message that says what to install.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VAR="$ROOT/var"
mkdir -p "$VAR"

say() { printf '\033[1m[trainyard]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  # Install Debian packages when we are root; otherwise say exactly what to run.
  if is_root && command -v apt-get >/dev/null; then
    say "installing Debian packages: $*"
    if [ ! -f "$VAR/.apt-updated" ]; then apt-get update -qq && touch "$VAR/.apt-updated"; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    return 1
  fi
}

find_python() {
  # Python 3.11 or 3.12 (what the pinned TensorFlow supports); 3.11 first, as CI runs it.
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null && \
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

ensure_venv() {
  # A virtual environment in .venv with exactly the versions in requirements.lock.
  local py stamp want
  py=$(find_python) || die "Python 3.11 or 3.12 is required (Debian 12: apt-get install python3 python3-venv)"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment in .venv"
    if ! "$py" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      apt_install python3-venv || die "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"
      "$py" -m venv "$VENV"
    fi
  fi
  want=$(sha256sum "$ROOT/requirements.lock" | cut -d' ' -f1)
  stamp="$VENV/.requirements.sha256"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages from requirements.lock (first run takes a few minutes)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r "$ROOT/requirements.lock"
    echo "$want" > "$stamp"
  fi
  # The project itself (pip install -e .): the `trainyard` command, the public `trainyard` package for kind
  # packages and the built-in kinds' entry points. Re-installed whenever pyproject.toml changes, since the
  # kinds are found through the entry points it declares.
  want=$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)
  stamp="$VENV/.project.sha256"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$VENV/bin/trainyard" ]; then
    say "installing the project (pip install -e .): the trainyard command and the built-in model kinds"
    "$VENV/bin/python" -m pip install -q --no-deps -e "$ROOT" || die "pip install -e . failed"
    echo "$want" > "$stamp"
  fi
}

install_kind_package() {
  # A model-kind package from a folder (pip install -e DIR), re-installed when its pyproject.toml changes.
  local dir="$1" want stamp
  want=$(sha256sum "$dir/pyproject.toml" | cut -d' ' -f1)
  stamp="$VENV/.kind-$(basename "$dir").sha256"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing the model-kind package in $dir"
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$dir" || die "pip install -e $dir failed"
    echo "$want" > "$stamp"
  fi
}

redis_ping() { "$VENV/bin/python" - "$1" <<'PY' 2>/dev/null
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
PY
}

STARTED_REDIS=""
ensure_redis() {
  # REDIS_URL if set; else a Redis on 127.0.0.1:6379; else start redis-server (installing it as root).
  if [ -n "${REDIS_URL:-}" ]; then
    redis_ping "$REDIS_URL" || die "REDIS_URL=$REDIS_URL does not answer PING"
    return
  fi
  export REDIS_URL="redis://127.0.0.1:6379/0"
  if redis_ping "$REDIS_URL"; then say "using the Redis already running at $REDIS_URL"; return; fi
  if ! command -v redis-server >/dev/null; then
    apt_install redis-server || die "Redis is needed: install it (sudo apt-get install redis-server) or set REDIS_URL=redis://host:6379/0"
  fi
  mkdir -p "$VAR/redis"
  say "starting redis-server on 127.0.0.1:6379 (data in var/redis, append-only)"
  redis-server --port 6379 --bind 127.0.0.1 --daemonize yes --dir "$VAR/redis" \
    --appendonly yes --maxmemory-policy noeviction --pidfile "$VAR/redis.pid" \
    --logfile "$VAR/redis.log" >/dev/null
  for _ in $(seq 50); do redis_ping "$REDIS_URL" && break; sleep 0.1; done
  redis_ping "$REDIS_URL" || die "redis-server did not start; see var/redis.log"
  STARTED_REDIS=1
}

stop_started_redis() {
  if [ -n "$STARTED_REDIS" ]; then
    say "stopping the redis-server this script started"
    redis-cli -p 6379 shutdown >/dev/null 2>&1 || kill "$(cat "$VAR/redis.pid")" 2>/dev/null || true
  fi
}

ensure_secret_key() {
  # SECRET_KEY signs session cookies: the app refuses to start without a real one (outside debug/test).
  # Generated once into var/secret_key (readable by this user only) and reused on every start.
  if [ -n "${SECRET_KEY:-}" ]; then return; fi
  if [ ! -s "$VAR/secret_key" ]; then
    say "generating a SECRET_KEY in var/secret_key (keep it: changing it signs everyone out)"
    (umask 077 && "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$VAR/secret_key")
  fi
  SECRET_KEY="$(cat "$VAR/secret_key")"
  export SECRET_KEY
}

prepare_environment() {
  # What both commands need first: the virtual environment and a Redis (stopped on exit if we started it).
  cd "$ROOT"
  ensure_venv
  ensure_redis
  trap stop_started_redis EXIT
}
