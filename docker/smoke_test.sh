#!/usr/bin/env bash
# Smoke-test a built image with a real Docker engine (the deploy workflow's build job,
# before the push): it starts as a non-root user, answers /ready and /health on port
# 8000, and serves the admin CSS with a long cache lifetime.
#   docker/smoke_test.sh IMAGE
set -euo pipefail

image=${1:?usage: docker/smoke_test.sh IMAGE}
name="smoke-$$"
port=18000

cleanup() { docker logs "$name" >&2 || true; docker rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT

docker run -d --name "$name" -p "127.0.0.1:$port:8000" -e SECRET_KEY=smoke-test-only-key-of-32-characters-or-more "$image" >/dev/null

for _ in $(seq 60); do
  if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then break; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/ready"; echo

# No database is configured: /health must still answer 200 (degraded), quickly.
curl -fsS --max-time 5 "http://127.0.0.1:$port/health"; echo

uid=$(docker exec "$name" id -u)
[ "$uid" != 0 ] || { echo "smoke test: the container runs as root" >&2; exit 1; }

css=$(curl -fsS "http://127.0.0.1:$port/admin/login/" | grep -o '/static/admin/css/base\.[0-9a-f]*\.css' | head -n 1)
[ -n "$css" ] || { echo "smoke test: no hashed admin CSS on /admin/login/" >&2; exit 1; }
headers=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$port$css")
grep -qi '^cache-control:.*max-age=[0-9]\{8,\}' <<<"$headers" || {
  echo "smoke test: $css has no long cache lifetime:" >&2; echo "$headers" >&2; exit 1; }

status=$(docker inspect --format '{{.State.Health.Status}}' "$name" 2>/dev/null || echo none)
echo "smoke test: passed (uid $uid, HEALTHCHECK status: $status)"
