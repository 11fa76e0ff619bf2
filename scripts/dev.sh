#!/usr/bin/env bash
# The embedded default in one command: a virtualenv with the web app's requirements (no torch), a migrated
# SQLite database, the demo dataset and users (the login is printed), then the app on 127.0.0.1:8000.
# No PostgreSQL, Redis or workers needed: without CELERY_BROKER_URL, tasks run in-process after each commit.
# Environment: DATABASE_URL (default: SQLite file db.sqlite3), PRMWEB_ADDR (default 127.0.0.1:8000),
# PYTHON (the interpreter that creates .venv, default python3; Python 3.11+).
set -euo pipefail
cd "$(dirname "$0")/.."

addr=${PRMWEB_ADDR:-127.0.0.1:8000}
export DJANGO_SETTINGS_MODULE=prmweb.settings.base

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "${PYTHON:-python3}" -m venv .venv
fi
stamp=".venv/.base-installed-$(sha256sum requirements.txt | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "== installing requirements.txt"
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt >.venv/pip.log 2>&1; then
    grep -v "is ignored" .venv/pip.log >&2
    exit 1
  fi
  touch "$stamp"
fi

echo "== migrating the database (${DATABASE_URL:-sqlite: db.sqlite3})"
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py collectstatic --noinput -v 0
echo "== loading the demo"
.venv/bin/python manage.py load_demo --base-url "http://$addr"
echo "== serving http://$addr/ (Ctrl-C stops)"
exec .venv/bin/python manage.py runserver "$addr"
