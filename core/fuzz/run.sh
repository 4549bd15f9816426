#!/usr/bin/env bash
# Runs each fuzz target for a fixed time on the stable toolchain (no sanitizer: `-s none`, since
# the address sanitizer needs nightly) and prints libFuzzer's execution count.
#   bash core/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Requires cargo-fuzz 0.13.2 (`cargo install cargo-fuzz@0.13.2 --locked`).
# A finding is saved under core/fuzz/artifacts/TARGET/ and makes this script fail; turn it into
# a vector under tests/vectors/ once fixed.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(plan events evaluate engine fast)
# Without cargo-fuzz every run below would fail before fuzzing anything; say so, rather than
# report nothing and succeed.
if ! cargo fuzz --version > /dev/null 2>&1; then
  echo "cargo-fuzz is not installed: cargo install cargo-fuzz@0.13.2 --locked" >&2
  exit 2
fi
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  status=0
  echo "== fuzz $t for ${secs}s"
  # -timeout: an input taking over 10 s is a hang; -rss_limit_mb: memory must stay bounded.
  # libFuzzer without -jobs is one process on one core, so the machine's other core stays
  # free (-jobs=N would fork workers that log to files instead). The build goes to the
  # workspace's target/fuzz, not a second target directory.
  cargo fuzz run -s none --release --target-dir ../../target/fuzz "$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>&1 | tee "artifacts/$t.log" |
    { grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+== ERROR|SUMMARY)" || true; } ||
    status=${PIPESTATUS[0]}
  # Any one kind of finding fails the run (`ls` of all three globs would need all three).
  if find "artifacts/$t" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) | grep -q .; then
    echo "finding in $t: see core/fuzz/artifacts/$t/" >&2
    exit 1
  fi
  # A failure that left no finding (the target did not build, say) fails the run too.
  if [ "$status" -ne 0 ]; then
    echo "fuzz $t failed (exit $status) without a finding: see core/fuzz/artifacts/$t.log" >&2
    exit "$status"
  fi
done
