import DiscernTestSupport
import Foundation
import XCTest

/// `discern` finds ImageNet weights in the per-user folder (~/.cache/discern/weights) from any working directory,
/// with no checkout beside the binary: the binary is copied out of the repository and run elsewhere.
final class WeightsFolderTests: XCTestCase {
    /// A copy of the CLI in a fresh folder, a working directory and a home; DISCERN_WEIGHTS unset.
    func sandbox(_ name: String) throws -> (binary: URL, work: URL, home: URL, environment: [String: String]) {
        let root = try TestPaths.temporaryDirectory(name)
        let fm = FileManager.default
        let bin = root.appendingPathComponent("bin/discern"), work = root.appendingPathComponent("work")
        let home = root.appendingPathComponent("home")
        for dir in [bin.deletingLastPathComponent(), work, home] {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        try fm.copyItem(at: try TestPaths.binary, to: bin)
        var environment = ProcessInfo.processInfo.environment
        environment["DISCERN_WEIGHTS"] = nil
        environment["HOME"] = home.path
        return (bin, work, home, environment)
    }

    func testLite1FoundInTheUserFolderFromAnyDirectory() throws {
        let box = try sandbox("userfolder")
        let folder = box.home.appendingPathComponent(".cache/discern/weights")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lite1 = try TestEnvironment.lite1Weights()
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(lite1.lastPathComponent),
                                                   withDestinationURL: lite1)
        let photo = try TestEnvironment.datasetFile("cats-and-dogs/test_set/dogs/dog.4001.jpg")
        let r = try TestPaths.run(["classify", "--backbone", "efficientnet-lite1", "--json", "--top", "1", photo.path],
                                  executable: box.binary, directory: box.work, fullEnvironment: box.environment)
        XCTAssertEqual(r.status, 0, r.err)
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])
        let top = try XCTUnwrap((results.first?["top"] as? [[String: Any]])?.first?["index"] as? Int, r.out)
        XCTAssertTrue((151...268).contains(top), "dog.4001.jpg: top-1 \(top) is not a dog class")
    }

    func testMissingWeightsNameTheUserFolderAndTheFetchCommand() throws {
        let box = try sandbox("noweights")
        let photo = try TestEnvironment.datasetFile("cats-and-dogs/test_set/dogs/dog.4001.jpg")
        let r = try TestPaths.run(["classify", "--backbone", "efficientnet-lite2", photo.path],
                                  executable: box.binary, directory: box.work, fullEnvironment: box.environment)
        XCTAssertNotEqual(r.status, 0)
        let expected = box.home.appendingPathComponent(".cache/discern/weights/efficientnet-lite2-9656183e.pth").path
        XCTAssertTrue(r.err.contains(expected), r.err)
        XCTAssertTrue(r.err.contains("scripts/fetch-weights --backbones lite2"), r.err)
    }
}
