// swift-tools-version:6.0
import PackageDescription

// Each library is one room; dependencies point down this list only.
// Only DiscernEngine (and its CWinograd kernel) touches oneDNN/OpenBLAS, only DiscernVision touches libjpeg/libpng and the pixel kernels,
// only DiscernRobustness the dot-product kernels.
// Every target: Swift 6 language mode, complete concurrency checking.
let v6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Discern",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "discern", targets: ["discern"]),
        .library(name: "DiscernKit", targets: ["DiscernKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "COneDNN", path: "Sources/COneDNN"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16"),
        // Resize and normalization loops with a baseline and an AVX2 version, picked at run time (see its header).
        // Which vector code this CPU runs (AVX2 with FMA or baseline), shared by the two kernel targets below.
        .target(name: "CCPUFeatures", path: "Sources/CCPUFeatures"),
        .target(name: "CPixelKernels", dependencies: ["CCPUFeatures"], path: "Sources/CPixelKernels"),
        // Double dot products for the out-of-distribution scores, baseline and AVX2 (see its header).
        .target(name: "CDotKernels", dependencies: ["CCPUFeatures"], path: "Sources/CDotKernels"),

        // Winograd F(4x4, 3x3) for 3x3 convolutions where oneDNN has none (below AVX-512): AVX2 transforms and
        // OpenBLAS matrix products; part of the engine's room (only DiscernEngine calls it).
        .target(name: "CWinograd", dependencies: ["CCPUFeatures", "COpenBLAS"], path: "Sources/CWinograd"),

        .target(name: "DiscernEngine", dependencies: ["COneDNN", "COpenBLAS", "CWinograd"], swiftSettings: v6),
        .target(name: "DiscernWeights", dependencies: ["DiscernEngine", .product(name: "ZIPFoundation", package: "ZIPFoundation")], swiftSettings: v6),
        .target(name: "DiscernModels", dependencies: ["DiscernEngine", "DiscernWeights"], swiftSettings: v6),
        .target(name: "DiscernVision", dependencies: ["DiscernEngine", "CTurboJPEG", "CPNG", "CPixelKernels"], swiftSettings: v6),
        .target(name: "DiscernTraining", dependencies: ["DiscernEngine"], swiftSettings: v6),
        .target(name: "DiscernRobustness", dependencies: ["DiscernEngine", "CDotKernels"], swiftSettings: v6),
        .target(name: "DiscernExplain", dependencies: ["DiscernEngine", "DiscernModels", "DiscernVision"], swiftSettings: v6),
        .target(name: "DiscernReport", dependencies: ["DiscernVision"], swiftSettings: v6),
        .target(name: "DiscernKit", dependencies: [
            "DiscernEngine", "DiscernWeights", "DiscernModels", "DiscernVision", "DiscernTraining",
            "DiscernRobustness", "DiscernExplain", "DiscernReport",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: v6),
        .target(name: "DiscernServer", dependencies: [
            "DiscernKit", "DiscernExplain", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: v6),
        // glibc's allocator settings for fine-tuning (the executable's, a process-wide choice; see its header).
        .target(name: "CProcessMemory", path: "Sources/CProcessMemory"),
        .executableTarget(name: "discern", dependencies: [
            "DiscernKit", "DiscernServer", "DiscernExplain", "DiscernRobustness", "CProcessMemory",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v6),

        // Where tests find data, weights, the binary and torch (never part of a product).
        .target(name: "DiscernTestSupport", path: "Tests/DiscernTestSupport", swiftSettings: v6),
        .testTarget(name: "DiscernEngineTests", dependencies: ["DiscernEngine", "DiscernWeights"], swiftSettings: v6),
        .testTarget(name: "DiscernWeightsTests", dependencies: [
            "DiscernTestSupport", "DiscernWeights",
        ], swiftSettings: v6),
        .testTarget(name: "DiscernModelsTests", dependencies: [
            "DiscernTestSupport", "DiscernModels", "DiscernVision", "DiscernWeights",
        ], swiftSettings: v6),
        .testTarget(name: "DiscernVisionTests", dependencies: [
            "DiscernTestSupport", "DiscernVision", "DiscernWeights",
        ], swiftSettings: v6),
        .testTarget(name: "DiscernTrainingTests", dependencies: [
            "DiscernTestSupport", "DiscernTraining", "DiscernModels", "DiscernWeights",
        ], swiftSettings: v6),
        .testTarget(name: "DiscernRobustnessTests", dependencies: ["DiscernRobustness", "DiscernWeights"], swiftSettings: v6),
        .testTarget(name: "DiscernExplainTests", dependencies: [
            "DiscernTestSupport", "DiscernExplain", "DiscernWeights",
        ], swiftSettings: v6),
        .testTarget(name: "DiscernReportTests", dependencies: [
            "DiscernTestSupport", "DiscernReport", "DiscernWeights",
        ], swiftSettings: v6),
        .testTarget(name: "DiscernKitTests", dependencies: [
            "DiscernTestSupport", "DiscernKit", "DiscernEngine", "DiscernRobustness", "DiscernWeights",
        ], swiftSettings: v6),
        .testTarget(name: "DiscernServerTests", dependencies: [
            "DiscernServer", "DiscernRobustness", "DiscernExplain",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ], swiftSettings: v6),
    ]
)
