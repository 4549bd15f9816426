#!/usr/bin/env bash
# Regenerates the Swift and Kotlin sources of partnerkit-ffi from its compiled library
# (uniffi library mode: the interface is read from the library's metadata).
#
#   bash bindings-swift/generate.sh           # rewrites the checked-in sources
#   bash bindings-swift/generate.sh --check   # fails, with a diff, when they have drifted
#
# Generated files (checked in, never edited by hand):
#   Sources/PartnerKit/PartnerKit.swift                        the Swift package's source
#   include/PartnerKitFFI.h, include/module.modulemap          the C module the XCFramework carries
#   android/src/main/kotlin/dev/partnerkit/partnerkit.kt       the Kotlin package (Android and JVM)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
check=0
[ "${1:-}" = "--check" ] && check=1

cd "$root"
# The whole workspace, as every other build here: the same package set keeps the
# dependencies' features, and so their builds, shared with `cargo test --workspace`.
cargo build --workspace --locked -q
cargo build -q --locked --manifest-path tools/uniffi-bindgen/Cargo.toml
case "$(uname -s)" in
  Darwin) lib="target/debug/libpartnerkit_ffi.dylib" ;;
  *) lib="target/debug/libpartnerkit_ffi.so" ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tools/uniffi-bindgen/target/debug/uniffi-bindgen generate --library "$lib" \
  --language swift --language kotlin --out-dir "$tmp/out" --no-format >/dev/null

# generated name -> checked-in path (relative to bindings-swift/)
map=(
  "PartnerKit.swift:Sources/PartnerKit/PartnerKit.swift"
  "PartnerKitFFI.h:include/PartnerKitFFI.h"
  "PartnerKitFFI.modulemap:include/module.modulemap"
  "dev/partnerkit/partnerkit.kt:android/src/main/kotlin/dev/partnerkit/partnerkit.kt"
)

# Every generated file must be accounted for: a new one means this list is out of date.
expected="$(for m in "${map[@]}"; do echo "${m%%:*}"; done | sort)"
produced="$(cd "$tmp/out" && find . -type f | sed 's|^\./||' | sort)"
if [ "$expected" != "$produced" ]; then
  echo "uniffi-bindgen wrote other files than generate.sh knows:" >&2
  diff <(echo "$expected") <(echo "$produced") >&2 || true
  exit 1
fi

drift=0
for m in "${map[@]}"; do
  src="$tmp/out/${m%%:*}"
  dst="$here/${m#*:}"
  if [ "$check" = 1 ]; then
    if ! diff -u "$dst" "$src" > "$tmp/diff" 2>&1; then
      echo "drift: bindings-swift/${m#*:} differs from what uniffi-bindgen generates" >&2
      head -n 40 "$tmp/diff" >&2
      drift=1
    fi
  else
    mkdir -p "$(dirname "$dst")"
    cp "$src" "$dst"
  fi
done
if [ "$check" = 1 ]; then
  if [ "$drift" = 1 ]; then
    echo "run: bash bindings-swift/generate.sh (and commit the result)" >&2
    exit 1
  fi
  echo "generated Swift and Kotlin sources match the library"
else
  echo "wrote the Swift and Kotlin sources"
fi
