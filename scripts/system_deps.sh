#!/usr/bin/env bash
# The system programs the tests run for real, installed from Debian when absent, so that
# `npm ci && npm test` sets itself up on a fresh machine (npm runs this as `pretest`).
#
#   redis-server, redis-cli   the L2, bus and cluster tests start real servers
#   postgresql (initdb)       the knex driver's tests start a real PostgreSQL server
#   valgrind                  only with --leak-check: the engine's leak check in .ci/run
#
# As root it runs apt-get; with passwordless sudo, sudo apt-get; otherwise it names the
# packages to install and fails, rather than letting dozens of tests fail one by one.
set -euo pipefail

missing=()
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ "${1:-}" = "--leak-check" ]; then
  command -v valgrind >/dev/null || missing+=(valgrind)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system_deps: installing ${missing[*]} (the tests run these for real)"
if ! command -v apt-get >/dev/null; then
  echo "system_deps: no apt-get here; install ${missing[*]} with this system's package manager" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "system_deps: not root and no passwordless sudo; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q "${missing[@]}"
