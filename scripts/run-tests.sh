#!/usr/bin/env bash
# Runs every test: type checks, generated-docs check, then vitest (unit, integration, e2e).
# Ends with the plain summary line "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
echo "[deskcast] type check (server, client, tests and benchmarks)"
npx --no-install tsc -p tsconfig.json --noEmit || exit 1
npx --no-install tsc -p client/tsconfig.json || exit 1
npx --no-install tsc -p tsconfig.tests.json || exit 1
echo "[deskcast] docs/SETTINGS.md is generated from the settings table"
npx --no-install tsx scripts/generate-settings-docs.ts --check || exit 1

report=$(mktemp --suffix=.json)
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  // A file that failed before its tests ran (e.g. in beforeAll) counts as one failure.
  const brokenFiles = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles} failed, ${skipped} skipped`);
' "$report" 2>/dev/null || echo "tests: 0 passed, 1 failed (vitest produced no report)"
rm -f "$report"
exit "$status"
