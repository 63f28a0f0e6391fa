#!/usr/bin/env bash
# `make run`: migrate, collect static files, then serve with gunicorn on APP_PORT (8000).
# A development SECRET_KEY is made once and kept in .venv, unless SECRET_KEY is set.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SECRET_KEY:-}" ]; then
  key_file=.venv/dev-secret-key
  [ -s "$key_file" ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' >"$key_file"
  SECRET_KEY=$(cat "$key_file")
  export SECRET_KEY
fi
export LOG_FORMAT="${LOG_FORMAT:-console}"

# A database that cannot be reached must not keep the service down: it starts
# anyway (degraded /health, fallback admin sign-in if configured, runbook section 4)
# and the migration is left for when the database answers.
if ! .venv/bin/python manage.py migrate --no-input; then
  echo "run: migrate failed (see above); serving anyway: /health shows the database state," \
       "run 'python manage.py diagnose' for the cause, and 'make run' again once it is fixed." >&2
fi
.venv/bin/python manage.py collectstatic --no-input -v 0
exec .venv/bin/gunicorn -c gunicorn.conf.py
