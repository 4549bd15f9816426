#!/usr/bin/env bash
# CI of the Swift/Kotlin bindings (bindings-swift/, crate partnerkit-ffi) on Linux:
#   1. regenerate the Swift and Kotlin sources with uniffi-bindgen and fail on any drift;
#   2. check that the README's Swift and Kotlin examples are the files the tests run;
#   3. compile the Kotlin bindings and the JVM test runner with kotlinc (npm package
#      `kotlin-compiler`) against JNA (Debian package `libjna-java`), then run every
#      conformance vector, the error and decimal tests through them against the Linux library.
# Swift cannot be compiled on Debian 12: the XCTest suite (bindings-swift/Tests) runs on a Mac.
# Installs what it needs itself: JNA with apt-get (as root), kotlinc into
# bindings-swift/jvm-test/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0

echo "== kotlin: tools (JNA from Debian, kotlinc from npm)"
jna=/usr/share/java/jna.jar
if [ ! -f "$jna" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjna-java > /dev/null
fi
(cd bindings-swift/jvm-test && npm install --no-audit --no-fund --loglevel=error)
kotlinc="$root/bindings-swift/jvm-test/node_modules/kotlin-compiler/bin/kotlinc"
stdlib="$root/bindings-swift/jvm-test/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar"

echo "== kotlin: generated Swift and Kotlin sources match the library"
bash bindings-swift/generate.sh --check

echo "== kotlin: the README's examples are the files the tests run"
block() { awk -v lang="$1" '$0 == "```" lang {on = 1; next} on && $0 == "```" {exit} on' README.md; }
diff <(block swift) bindings-swift/Tests/PartnerKitTests/ReadmeExample.swift
diff <(block kotlin) bindings-swift/jvm-test/src/ReadmeExample.kt
echo "README examples ok"

echo "== kotlin: compile the bindings and the test runner"
build="$root/bindings-swift/jvm-test/build"
rm -rf "$build"
mkdir -p "$build"
"$kotlinc" -nowarn -cp "$jna" -d "$build/test.jar" \
  bindings-swift/android/src/main/kotlin/dev/partnerkit/partnerkit.kt bindings-swift/jvm-test/src/*.kt

echo "== kotlin: every vector through the Kotlin bindings (target/debug/libpartnerkit_ffi.so)"
java -Djna.library.path="$root/target/debug" -cp "$build/test.jar:$jna:$stdlib" MainKt "$root"
