#!/usr/bin/env bash
# The command-line quickstart of the book (docs/src/quickstart/cli.md). cli/tests/quickstart.rs
# runs it in a copy of this directory, with the freshly built `partnerkit` on PATH, and compares
# what it prints with quickstart.out.
set -euo pipefail

# Check a plan: `validate` lists every problem at once (JSON lines on stderr, exit code 2).
partnerkit validate plan.json
partnerkit validate bad-plan.json 2>&1 || echo "exit code $?"

# Evaluate a document {plan, partners, events, fx, as_of}: the canonical report (compact JSON;
# --pretty indents it for reading).
partnerkit evaluate input.json > report.json
partnerkit evaluate input.json --pretty | head -n 6

# The same bytes, event by event through the incremental engine, snapshotted every 2 events.
partnerkit evaluate --incremental --snapshot-every 2 input.json | cmp - report.json && echo "incremental = batch"

# Every cent in words: the refund's reversal of p2's commission, then all of ana's entries.
partnerkit explain input.json --entry 'reversal:r2:commission:p2:first-year:ana'
partnerkit explain input.json --partner ana | grep -E '^[a-z]|^  ana '
