// swift-tools-version:5.9
// The PartnerKit Swift package: the generated uniffi sources over PartnerKitFFI, the
// XCFramework that `build-xcframework.sh` builds on a Mac from the partnerkit-ffi crate.
import PackageDescription

let package = Package(
    name: "PartnerKit",
    platforms: [.iOS(.v13), .macOS(.v10_15)],
    products: [
        .library(name: "PartnerKit", targets: ["PartnerKit"]),
    ],
    targets: [
        .binaryTarget(name: "PartnerKitFFI", path: "PartnerKitFFI.xcframework"),
        .target(name: "PartnerKit", dependencies: ["PartnerKitFFI"], path: "Sources/PartnerKit"),
        .testTarget(name: "PartnerKitTests", dependencies: ["PartnerKit"], path: "Tests/PartnerKitTests"),
    ]
)
