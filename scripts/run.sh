#!/usr/bin/env bash
# `make run`: migrate, collect static files, then serve with gunicorn on APP_PORT (8000).
#
# SECRET_KEY, when not set in the environment:
# - no .env yet: a development key is written to a new .env (mode 600; gitignored and
#   dockerignored), so `.venv/bin/python manage.py ...` reads the same key as the server;
# - ENV_FILE (.env by default) with a SECRET_KEY line: that key is used (the service
#   reads the file itself);
# - otherwise: a development key kept in .venv/dev-secret-key is given to the server
#   only, and a one-line hint says how to make manage.py commands see it too.
set -euo pipefail
cd "$(dirname "$0")/.."

new_key() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))'; }

if [ -z "${SECRET_KEY:-}" ]; then
  env_file=${ENV_FILE-.env}
  if [ "$env_file" = .env ] && [ ! -e .env ]; then
    key=$(new_key)
    (
      umask 077
      printf '%s\n' \
        "# Written by scripts/run.sh (make run) for development on this machine only." \
        "# SECRET_KEY: a development signing key generated here; never use it in production." \
        "# manage.py commands and the server read this file (ENV_FILE); real environment variables win." \
        "SECRET_KEY=$key" >.env
    )
    chmod 600 .env
    echo "run: wrote .env with a generated development SECRET_KEY (mode 600, not committed)" >&2
  elif [ -n "$env_file" ] && [ -f "$env_file" ] && grep -Eq '^(export )?SECRET_KEY=.' "$env_file"; then
    :  # the service reads it from that file
  else
    key_file=.venv/dev-secret-key
    [ -s "$key_file" ] || new_key >"$key_file"
    SECRET_KEY=$(cat "$key_file")
    export SECRET_KEY
    echo "run: no SECRET_KEY in the environment or ${env_file:-ENV_FILE (empty)}: the server uses the" \
         "development key in $key_file, manage.py commands will not (add a SECRET_KEY line to ${env_file:-.env})" >&2
  fi
fi
export LOG_FORMAT="${LOG_FORMAT:-console}"

# A database that cannot be reached must not keep the service down: it starts
# anyway (degraded /health, fallback admin sign-in if configured, runbook section 4)
# and the migration is left for when the database answers. An invalid setting
# (exit 2, the message above names the variable) would stop the server too: stop here.
status=0
.venv/bin/python manage.py migrate --no-input || status=$?
if [ "$status" -eq 2 ]; then
  exit 2
elif [ "$status" -ne 0 ]; then
  echo "run: migrate failed (see above); serving anyway: /health shows the database state," \
       "run 'python manage.py diagnose' for the cause, and 'make run' again once it is fixed." >&2
fi
.venv/bin/python manage.py collectstatic --no-input -v 0
exec .venv/bin/gunicorn -c gunicorn.conf.py
