#!/usr/bin/env bash
# Run the whole test suite (and the static checks) — the README's test command; .ci/run calls it too.
# Uses its own virtualenv, .venv-test (never the .venv that scripts/dev.sh serves from, so it can run while
# the app is being served), and installs the pinned requirements there when they changed.
# Database: DATABASE_URL when set, else PostgreSQL on 127.0.0.1:5432 when it answers, else in-memory SQLite
# (PostgreSQL-only tests then skip). pytest creates and drops its own test_<name> database: the database
# named in the URL is never used and need not exist. PRMWEB_TEST_ENV_ONLY=1: prepare .venv-test and stop.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=${PYTHON:-python3}
venv=.venv-test
[ -x $venv/bin/python ] || "$python_bin" -m venv $venv
reqs="requirements.txt requirements/models.txt requirements/dev.txt"
stamp="$venv/.installed-$(cat $reqs | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "== installing pinned requirements into $venv (first run: about 1.9 GB, a few minutes)"
  $venv/bin/python -m pip install -q --upgrade "pip==25.3" 2>&1 | grep -v "is ignored" || true
  $venv/bin/python -m pip install -q $(printf -- '-r %s ' $reqs) 2>&1 | grep -v "is ignored" || true
  $venv/bin/python -c "import django, torch, playwright" && touch "$stamp"
fi

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "!! chromium is missing: browser tests will be skipped (apt-get install chromium)"
  fi
fi
if [ -n "${PRMWEB_TEST_ENV_ONLY:-}" ]; then
  echo "== $venv is ready"
  exit 0
fi

if [ -z "${DATABASE_URL:-}" ]; then
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/prmweb"
  else
    export DATABASE_URL="sqlite://:memory:"
  fi
fi
case "$DATABASE_URL" in
  sqlite*) echo "== database: in-memory SQLite (PostgreSQL-only tests skip)" ;;
  *) echo "== database: test_${DATABASE_URL##*/} on ${DATABASE_URL%/*} (pytest creates and drops it)" ;;
esac

export DJANGO_SETTINGS_MODULE=prmweb.settings.test
echo "== ruff"
$venv/bin/ruff check .
$venv/bin/ruff format --check .
echo "== django checks"
$venv/bin/python manage.py check
# Models against migrations needs no database: in-memory SQLite, so no database must exist for it.
DATABASE_URL="sqlite://:memory:" $venv/bin/python manage.py makemigrations --check --dry-run
echo "== mypy"
$venv/bin/mypy .
echo "== import contracts (pyproject.toml [tool.importlinter])"
$venv/bin/lint-imports
echo "== pytest"
$venv/bin/python -m pytest "$@"
