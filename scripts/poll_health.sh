#!/usr/bin/env bash
# Poll /health until the database is connected (runbook section 9).
#   scripts/poll_health.sh [--url U] [--timeout S] [--interval S]
# Exit 0 as soon as /health says "database": "connected", 1 at the timeout, 2 on bad
# arguments. Needs only bash, curl and python3.
set -euo pipefail

usage() {
  cat <<USAGE
Usage: scripts/poll_health.sh [--url URL] [--timeout SECONDS] [--interval SECONDS]

Polls URL (default http://127.0.0.1:\${APP_PORT:-8000}/health) until its "database"
field is "connected".
  --url URL           the /health address to poll
  --timeout SECONDS   give up after this long (default 120)
  --interval SECONDS  wait between attempts (default 5)
  -h, --help          this text
Exit status: 0 connected, 1 timed out, 2 bad arguments.
USAGE
}

url="http://127.0.0.1:${APP_PORT:-8000}/health"
timeout=120
interval=5

die_usage() { printf 'poll_health: %s\n' "$1" >&2; usage >&2; exit 2; }
is_number() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }

while [ $# -gt 0 ]; do
  case "$1" in
    --url) [ $# -ge 2 ] || die_usage "--url needs a value"; url=$2; shift 2 ;;
    --url=*) url=${1#*=}; shift ;;
    --timeout) [ $# -ge 2 ] || die_usage "--timeout needs a value"; timeout=$2; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --interval) [ $# -ge 2 ] || die_usage "--interval needs a value"; interval=$2; shift 2 ;;
    --interval=*) interval=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown argument: $1" ;;
  esac
done
is_number "$timeout" || die_usage "--timeout must be a number of seconds, not '$timeout'"
is_number "$interval" || die_usage "--interval must be a number of seconds, not '$interval'"
[[ $url =~ ^https?:// ]] || die_usage "--url must start with http:// or https://, not '$url'"
command -v curl >/dev/null || { echo "poll_health: curl is required" >&2; exit 2; }
command -v python3 >/dev/null || { echo "poll_health: python3 is required" >&2; exit 2; }

# The "database" field of a /health body, or what went wrong instead.
database_field() {
  python3 -c '
import json, sys
try:
    print(json.load(sys.stdin).get("database") or "no-database-field")
except Exception:
    print("not-json")'
}

now() { python3 -c 'import time; print(time.monotonic())'; }
elapsed_since() { python3 -c "import sys, time; print(f'{time.monotonic() - float(sys.argv[1]):.0f}')" "$1"; }
# remaining START TIMEOUT CAP [FLOOR]: seconds left before the timeout, within [FLOOR, CAP].
remaining() {
  python3 -c "import sys, time; a = [float(x) for x in sys.argv[1:]]; floor = a[3] if len(a) > 3 else 0.0
print(f'{max(floor, min(a[2], a[1] - (time.monotonic() - a[0]))):.2f}')" "$@"
}
past() { python3 -c "import sys, time; sys.exit(0 if time.monotonic() - float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$1" "$2"; }

if [ -t 1 ]; then tty=1; else tty=0; fi
show() {
  if [ "$tty" = 1 ]; then printf '\r\033[K%s' "$1"; else printf '%s\n' "$1"; fi
}

start=$(now)
attempts=0
last="none"
while :; do
  attempts=$((attempts + 1))
  # Each request is bounded by what is left of the timeout (1 to 10 s).
  if body=$(curl -sS --max-time "$(remaining "$start" "$timeout" 10 1)" "$url" 2>/dev/null); then
    last=$(printf '%s' "$body" | database_field)
  else
    last="unreachable"
  fi
  show "poll_health: ${url}  elapsed $(elapsed_since "$start")s  attempts ${attempts}  database=${last}"
  if [ "$last" = connected ]; then
    [ "$tty" = 1 ] && printf '\n'
    printf 'poll_health: database connected after %ss (%s attempts)\n' "$(elapsed_since "$start")" "$attempts"
    exit 0
  fi
  if past "$start" "$timeout"; then
    [ "$tty" = 1 ] && printf '\n'
    printf 'poll_health: timed out after %ss (%s attempts); last database=%s\n' \
      "$(elapsed_since "$start")" "$attempts" "$last" >&2
    printf 'poll_health: see the runbook, section 3 (database connectivity), or run: python manage.py diagnose\n' >&2
    exit 1
  fi
  # Never sleep past the timeout: the last attempt comes at the deadline, not after it.
  sleep "$(remaining "$start" "$timeout" "$interval")"
done
