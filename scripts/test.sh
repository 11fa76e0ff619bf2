#!/usr/bin/env bash
# Run the whole test suite (and the static checks) — the README's test command; .ci/run calls it too.
# Creates .venv and installs the pinned requirements when they changed. Uses DATABASE_URL when set,
# else PostgreSQL on 127.0.0.1:5432 when it answers, else SQLite (PostgreSQL-only tests then skip).
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
reqs="requirements.txt requirements/models.txt requirements/dev.txt"
stamp=".venv/.installed-$(cat $reqs | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "== installing pinned requirements (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade "pip==25.3" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q $(printf -- '-r %s ' $reqs) 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import django, torch, playwright" && touch "$stamp"
fi

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "!! chromium is missing: browser tests will be skipped (apt-get install chromium)"
  fi
fi

if [ -z "${DATABASE_URL:-}" ] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/prmweb"
fi
echo "== database: ${DATABASE_URL:-sqlite (embedded)}"

export DJANGO_SETTINGS_MODULE=prmweb.settings.test
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== django checks"
.venv/bin/python manage.py check
.venv/bin/python manage.py makemigrations --check --dry-run
echo "== mypy"
.venv/bin/mypy .
echo "== import contracts (pyproject.toml [tool.importlinter])"
.venv/bin/lint-imports
echo "== pytest"
.venv/bin/python -m pytest "$@"
