#!/usr/bin/env bash
# Builds PartnerKitFFI.xcframework next to Package.swift: the partnerkit-ffi static library
# for iOS devices, the iOS simulator (arm64 + x86_64) and macOS (arm64 + x86_64), with the
# checked-in C header and module map (include/). Then `swift test` runs the XCTest suite and
# apps can add the package. Needs a Mac with Xcode and rustup: no Swift toolchain can be
# installed on the project's Linux machines.
#
#   bash bindings-swift/build-xcframework.sh            # size-optimized `mobile` profile
#   bash bindings-swift/build-xcframework.sh --debug    # faster to build, for the tests
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
if [ "$(uname -s)" != Darwin ]; then
  echo "build-xcframework.sh needs macOS with Xcode" >&2
  exit 1
fi
profile=mobile
dir=mobile
if [ "${1:-}" = "--debug" ]; then
  profile=dev
  dir=debug
fi
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"

cd "$root"
# The header must describe the library being packaged.
bash "$here/generate.sh" --check
for t in "${targets[@]}"; do
  cargo rustc -p partnerkit-ffi --lib --crate-type staticlib --locked --profile "$profile" --target "$t"
done

lib=libpartnerkit_ffi.a
work="$root/target/xcframework"
rm -rf "$work" "$here/PartnerKitFFI.xcframework"
mkdir -p "$work/headers" "$work/ios-simulator" "$work/macos"
cp "$here/include/PartnerKitFFI.h" "$here/include/module.modulemap" "$work/headers/"
# One library per platform: simulator and macOS slices are fat (arm64 + x86_64).
lipo -create "target/aarch64-apple-ios-sim/$dir/$lib" "target/x86_64-apple-ios/$dir/$lib" \
  -output "$work/ios-simulator/$lib"
lipo -create "target/aarch64-apple-darwin/$dir/$lib" "target/x86_64-apple-darwin/$dir/$lib" \
  -output "$work/macos/$lib"
xcodebuild -create-xcframework \
  -library "target/aarch64-apple-ios/$dir/$lib" -headers "$work/headers" \
  -library "$work/ios-simulator/$lib" -headers "$work/headers" \
  -library "$work/macos/$lib" -headers "$work/headers" \
  -output "$here/PartnerKitFFI.xcframework"
echo "built bindings-swift/PartnerKitFFI.xcframework; next: cd bindings-swift && swift test"
