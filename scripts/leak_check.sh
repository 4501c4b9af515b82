#!/usr/bin/env bash
# The engine's Rust tests under valgrind's leak checker: every test binary of rustocache-core
# (unit tests, decoder properties, the real-Redis tier and bus tests) must pass and leak no
# memory that is definitely or indirectly lost. "Possibly lost" blocks are left out: those
# are threads still parked at exit (tokio's, the test harness's), not leaks.
#
# Uninitialised-value reports are off: ring's assembly (rustls, for the TLS tests) trips
# them falsely, and they are not what this check is for.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is required (Debian: apt-get install -y valgrind)"; exit 1; }

# The release test binaries, as `cargo test --release` (npm test) builds them.
mapfile -t binaries < <(cargo test -p rustocache-core --release --no-run --message-format=json 2>/dev/null |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.split("\n")){if(!l)continue;const m=JSON.parse(l);if(m.reason==="compiler-artifact"&&m.profile.test&&m.executable)console.log(m.executable)}})')
[ ${#binaries[@]} -gt 0 ] || { echo "no test binary found"; exit 1; }

status=0
for binary in "${binaries[@]}"; do
  name=$(basename "$binary")
  log=$(mktemp)
  if valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --undef-value-errors=no --error-exitcode=99 -q "$binary" --test-threads=2 >"$log" 2>&1; then
    echo "leak check: $name clean ($(grep -o '[0-9]* passed' "$log" | head -1))"
  else
    echo "leak check: $name FAILED"
    cat "$log"
    status=1
  fi
  rm -f "$log"
done
exit $status
