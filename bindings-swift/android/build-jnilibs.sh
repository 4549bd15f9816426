#!/usr/bin/env bash
# Builds libpartnerkit_ffi.so for every Android ABI into src/main/jniLibs/<abi>/ with the
# size-optimized `mobile` profile. Needs the Android NDK (ANDROID_NDK_HOME) and cargo-ndk
# (`cargo install cargo-ndk`); neither is available on the project's Linux CI machines.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to an Android NDK (r26 or later)}"
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android
cd "$root"
cargo ndk --platform 24 \
  -t arm64-v8a -t armeabi-v7a -t x86_64 -t x86 \
  -o "$here/src/main/jniLibs" \
  build -p partnerkit-ffi --locked --profile mobile
find "$here/src/main/jniLibs" -name '*.so' -exec ls -l {} +
