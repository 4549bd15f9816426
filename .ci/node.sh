#!/usr/bin/env bash
# CI for the Node binding, on a fresh clone with only the machine's Rust and Node 20 + npm:
# installs the development tools into bindings-node/node_modules (from the committed lock),
# regenerates the generated surfaces (napi's index.js and index.d.ts; the document types from
# docs/*.schema.json) and fails on any difference, runs the `node --test` suite (every
# conformance vector, the API, the README example), then checks that `npm install
# ./bindings-node` builds the addon in a fresh project.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS

export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0
# The panic test prints the panic message; a backtrace would only bury the output.
export RUST_BACKTRACE=0

cd bindings-node

echo "== node: npm install (development tools, from package-lock.json)"
# `npm ci` cannot be used here (the registry lacks other platforms' optional packages of the
# napi CLI); `npm install` with the committed lock installs the same versions. Scripts are
# skipped: the package's own install script builds the addon, which the next step does.
npm install --ignore-scripts --no-audit --no-fund

echo "== node: napi build (regenerates index.js and index.d.ts)"
npx napi build --platform

echo "== node: document types (regenerated from docs/*.schema.json)"
node scripts/types.js

changed=$(git status --porcelain -- index.js index.d.ts types package-lock.json)
if [ -n "$changed" ]; then
  echo "generated files differ from the committed ones:"
  echo "$changed"
  git --no-pager diff -- index.js index.d.ts types package-lock.json | head -100
  echo "run \`npm run build:debug && npm run types\` in bindings-node/ and commit the result"
  exit 1
fi

echo "== node: node --test"
node --test test/

echo "== node: npm install ./bindings-node in a fresh project"
# Remove the addon built above so that the install script has to build it again; the dev
# profile reuses the debug build instead of compiling the core in release mode.
rm -f partnerkit.*.node
scratch=$root/target/node-install
rm -rf "$scratch"
mkdir -p "$scratch"
cd "$scratch"
echo '{"name": "scratch", "private": true}' > package.json
PARTNERKIT_NODE_PROFILE=dev npm install --no-audit --no-fund "$root/bindings-node"
node -e '
const { evaluate } = require("partnerkit")
const report = evaluate({
  plan: { schema: "partnerkit/plan@1", id: "p", currency: "USD", rules: [{ id: "r", reward: { percent: "10" } }] },
  partners: [{ id: "ana" }],
  events: [
    { id: "t", kind: "touch", at: "2026-01-01T00:00:00Z", partner: "ana", customer: "c", channel: "link" },
    { id: "p", kind: "payment", at: "2026-01-02T00:00:00Z", customer: "c", amount: "10.00", currency: "USD" },
  ],
  as_of: "2026-01-03T00:00:00Z",
})
const amount = report.toObject().entries[0].amount
if (amount !== "1.00") throw new Error(`expected 1.00, got ${amount}`)
console.log("the installed package evaluates: 10% of 10.00 = " + amount)
'

echo "node binding ok in $((SECONDS - start))s"
