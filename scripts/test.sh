#!/usr/bin/env bash
# Runs berth's whole suite, unit and integration:
#
#   sudo ./scripts/test.sh
#
# Installs what the tests need (apt packages only when missing; npm dependencies unless
# node_modules is already current), builds, lints, typechecks, then runs vitest. Integration
# tests start their own private berthd each; a system berthd is never touched. Needs no stdin.
# Extra arguments go to vitest, e.g. sudo ./scripts/test.sh test/unit
#
# Exit status: non-zero when any step fails. Build failure stops the run (the tests need
# dist/); lint and typecheck failures are reported and the tests still run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"

require_root "sudo $0"
require_node

# --- system packages ------------------------------------------------------------------------
need_pkg busybox-static # tests build a busybox image from the static /bin/busybox
need_cmd ip iproute2
need_cmd iptables iptables
need_cmd iperf3 iperf3 # bench/network-throughput.ts
need_cmd nsenter util-linux
need_cmd ps procps
need_cmd pgrep procps
need_cmd ruby ruby # the Vagrantfile is syntax-checked
need_cmd script bsdutils # terminal tests run the docker CLI under script(1)
need_cmd shellcheck shellcheck
need_cmd docker-registry docker-registry # registry tests run Debian's registry on 127.0.0.1
need_cmd skopeo skopeo # cross-checks berth's pushes and archives
need_cmd htpasswd apache2-utils # bcrypt htpasswd for the registry auth test
need_cmd openssl openssl # the token-auth test signs its registry tokens with a fresh key
if ! grep -qw overlay /proc/filesystems; then
  need_cmd modprobe kmod
fi
need_addon_toolchain
apt_install_missing
if ! grep -qw overlay /proc/filesystems; then
  modprobe overlay 2>/dev/null || warn "overlayfs is not available; integration tests will fail"
fi

# --- build and static checks ----------------------------------------------------------------
install_deps
build

cd "$ROOT"
FAILED=()
log "npm run lint"
npm run --silent lint </dev/null || FAILED+=(lint)
log "npm run typecheck"
npm run --silent typecheck </dev/null || FAILED+=(typecheck)

# --- tests ----------------------------------------------------------------------------------
RESULTS=$(mktemp -d)
trap 'rm -rf "$RESULTS"' EXIT
log "vitest run $*"
# The local vitest (what `npx vitest` resolves to), called directly so nothing can prompt.
# The JSON report feeds the one-line summary printed last.
set +e
"$ROOT/node_modules/.bin/vitest" run --reporter=default --reporter=json \
  --outputFile.json="$RESULTS/vitest.json" "$@" </dev/null
VITEST_STATUS=$?
set -e
[ "$VITEST_STATUS" -eq 0 ] || FAILED+=("vitest (exit $VITEST_STATUS)")

echo
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "FAILED: ${FAILED[*]}"
else
  echo "lint, typecheck and tests passed"
fi
# The summary goes last, as its own line: "tests: N passed, N failed, N skipped".
if [ -s "$RESULTS/vitest.json" ]; then
  "$NODE_BIN" -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    let failed = r.numFailedTests || 0;
    for (const f of r.testResults || []) {
      if (f.status !== "failed") continue;
      console.log("failed file: " + f.name + (f.message ? " (" + f.message.split("\n")[0] + ")" : ""));
      // A file that failed to load or in a hook has no failed test of its own: count it as one.
      if (!(f.assertionResults || []).some((a) => a.status === "failed")) failed++;
    }
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    console.log("tests: " + (r.numPassedTests || 0) + " passed, " + failed + " failed, " + skipped + " skipped");
  ' "$RESULTS/vitest.json" </dev/null || echo "could not read the vitest report"
else
  echo "vitest wrote no report"
fi

if [ ${#FAILED[@]} -gt 0 ]; then
  [ "$VITEST_STATUS" -ne 0 ] && exit "$VITEST_STATUS"
  exit 1
fi
