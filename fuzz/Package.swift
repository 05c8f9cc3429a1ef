// swift-tools-version:5.4
import PackageDescription

// libFuzzer harnesses for Discern's file readers (run with scripts/fuzz). The library targets are the
// real sources of the root package, reached through symlinks in Sources/, so a fuzz build instruments
// exactly the code `discern` ships. Tools version 5.4 on purpose: from 5.5 SwiftPM renames an
// executable's `main` to `<Module>_main`, which breaks linking against libFuzzer's own `main`.
// Build only with the fuzzer flags (scripts/fuzz does):
//   swift build -c release --scratch-path ../.build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library

let package = Package(
    name: "DiscernFuzz",
    dependencies: [
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        .systemLibrary(name: "COneDNN", path: "Sources/COneDNN"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16"),
        .target(name: "DiscernEngine", dependencies: ["COneDNN", "COpenBLAS"]),
        .target(name: "DiscernWeights", dependencies: ["DiscernEngine", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "DiscernVision", dependencies: ["DiscernEngine", "CTurboJPEG", "CPNG"]),
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzWeightFile", dependencies: ["DiscernWeights", "FuzzSupport"]),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["DiscernWeights", "FuzzSupport"]),
        .executableTarget(name: "FuzzImage", dependencies: ["DiscernVision", "FuzzSupport"]),
    ]
)
