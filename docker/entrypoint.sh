#!/usr/bin/env bash
# Container entrypoint: optionally wait for the database and migrate, then `exec` the
# command (gunicorn by default) so that it runs as PID 1 and receives the platform's
# SIGTERM for a graceful stop.
#
#   MIGRATE_ON_START=true    run `manage.py migrate` first (default false: the
#                            deploy workflow migrates before it switches the image)
#   WAIT_FOR_DB_TIMEOUT=S    wait up to S seconds for the database first (default 0:
#                            no wait; 60 when migrating). Without a migration the
#                            service starts anyway: /health reports the database.
set -euo pipefail

say() { printf 'entrypoint: %s\n' "$*" >&2; }

# Each variable is parsed where every other one is: infinityai/config.py (one value a
# line; a bad one stops the start naming the variable, exit 2).
values=$(python -m infinityai.config get MIGRATE_ON_START WAIT_FOR_DB_TIMEOUT) || exit 2
{ read -r migrate; read -r wait_seconds; } <<<"$values"
if [ "$migrate" = true ] && [ "$wait_seconds" = 0 ]; then wait_seconds=60; fi

if [ "$wait_seconds" != 0 ]; then
  if ! python manage.py wait_for_db --timeout "$wait_seconds"; then
    if [ "$migrate" = true ]; then
      say "MIGRATE_ON_START=true but the database did not answer within ${wait_seconds}s: not starting"
      exit 1
    fi
    say "starting without the database; /health reports its state"
  fi
fi

if [ "$migrate" = true ]; then
  python manage.py migrate --no-input
fi

exec "$@"
