#!/usr/bin/env bash
# Run the whole test suite against real Redis, real Celery workers, SQLite and PostgreSQL.
# Extra arguments go to pytest (e.g. scripts/test.sh -k api).
# --long (first argument; the nightly run): the API fuzzing of tests/api runs many more, randomised examples,
# the fault soak 200 jobs with 40 random kills instead of 40 with 8, and coverage is measured (below);
# the seed is printed, and TRAINYARD_FUZZ_SEED=<seed> replays a run (scripts/test.sh --long tests/api: fuzzing only).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
extra=()
if [ "${1:-}" = "--long" ]; then
  shift
  export TRAINYARD_FUZZ=long
  export TRAINYARD_SOAK_JOBS="${TRAINYARD_SOAK_JOBS:-200}"  # the soak: 200 jobs instead of CI's 40,
  export TRAINYARD_SOAK_FAULTS="${TRAINYARD_SOAK_FAULTS:-40}"  # and 40 random kills instead of 8
  export COVERAGE="${COVERAGE:-1}"
  seed="${TRAINYARD_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
  say "long fuzzing, seed $seed (replay: TRAINYARD_FUZZ_SEED=$seed scripts/test.sh --long ...)"
  extra+=("--hypothesis-seed=$seed")
fi
prepare_environment
# The example kind package (docs/kinds.md): its own tests run with the suite, and tests/kinds trains it on a
# real worker, as a team's kind would be installed on the hosts.
install_kind_package "$ROOT/examples/trainyard-attention"

# PostgreSQL for the tests that run on both databases (TEST_POSTGRES_URL overrides).
# The password only matters where PostgreSQL was installed by this script (see below); trust auth ignores it.
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql+psycopg://postgres:postgres@127.0.0.1:5432/test}"
pg_ready() { "$VENV/bin/python" -c "import sqlalchemy as s; s.create_engine('$TEST_POSTGRES_URL').connect().close()" 2>/dev/null; }
if ! pg_ready; then
  fresh=""
  if ! command -v pg_ctlcluster >/dev/null && apt_install postgresql; then fresh=1; fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    say "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
    for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
    if [ -n "$fresh" ]; then  # a new cluster: give postgres a password and create the test database
      su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
      su postgres -c "createdb test" >/dev/null 2>&1 || true
    fi
  fi
  pg_ready || say "PostgreSQL at $TEST_POSTGRES_URL is not reachable: its tests will be skipped (CI fails them)"
fi

# The fault-injection and two-host tests start private redis-servers and network namespaces of their own.
if ! command -v redis-server >/dev/null; then
  apt_install redis-server || say "redis-server is not installed: the fault-injection tests will fail"
fi
if ! command -v ip >/dev/null; then
  apt_install iproute2 || say "ip (iproute2) is not installed: the two-host test will fail"
fi

# Debian's chromium for the browser tests (Playwright's own browser download does not work offline).
if ! command -v chromium >/dev/null; then
  apt_install chromium || say "chromium is not installed: browser tests will be skipped"
fi
if command -v docker-compose >/dev/null || apt_install docker-compose; then :; else
  say "docker-compose is not installed: the compose file check will be skipped"
fi

"$VENV/bin/ruff" check app workers tests bench trainyard trainyard_client examples migrations/env.py
# The import contracts in pyproject.toml ([tool.importlinter]): which layer may import which.
"$VENV/bin/lint-imports"
# Coverage, in the nightly run (--long) or with COVERAGE=1: every Python process of the run measures itself
# (pyproject.toml [tool.coverage.run]): pytest, the Celery workers and their pool children, beat, serve. Each
# writes its own file under var/coverage; they are combined and reported after the tests. Not on CI's run:
# Python 3.11's tracer made the suite's processes a third slower (docs/operations.md), past its 30 minutes.
coverage_dir=""
if [ "${COVERAGE:-0}" = 1 ]; then
  coverage_dir="$VAR/coverage"
  rm -rf "$coverage_dir" && mkdir -p "$coverage_dir"
  export COVERAGE_PROCESS_START="$ROOT/pyproject.toml" COVERAGE_FILE="$coverage_dir/.coverage"
fi
status=0
# worksteal: a worker that runs out of tests takes pending ones from the other, so the slow fault scenarios at
# the end of the suite are shared instead of queued behind one worker. --durations: where the time went.
"$VENV/bin/pytest" -n "${PYTEST_WORKERS:-2}" --dist worksteal --durations=25 ${extra[@]+"${extra[@]}"} "$@" \
  || status=$?
if [ -n "$coverage_dir" ]; then
  unset COVERAGE_PROCESS_START
  cov() { "$VENV/bin/coverage" "$1" --rcfile="$ROOT/pyproject.toml" "${@:2}"; }
  if cov combine -q "$coverage_dir"; then
    cov report --sort=cover || true
    say "coverage: total $(cov report --format=total)%, workers/ $(cov report --include='workers/*' --format=total)%," \
        "app/ $(cov report --include='app/*' --format=total)% (all processes; data in var/coverage)"
  else
    say "coverage: no data to combine"
  fi
fi
exit "$status"
