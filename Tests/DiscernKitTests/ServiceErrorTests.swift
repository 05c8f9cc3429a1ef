@testable import DiscernKit
import DiscernVision
import XCTest

/// A decoder failure in `serve` becomes the client error it is (415 for a format Discern does not read, 413 for a
/// decompression bomb, 422 for a broken file), and its message names the upload once.
final class ServiceErrorTests: XCTestCase {
    func testDecoderFailuresBecomeClientErrorsNamingTheUploadOnce() {
        let cases: [(VisionError, String, String)] = [
            (.notAnImage("upload.jpg"), "415", "upload.jpg: not a JPEG or PNG image"),
            (.unsupportedFormat("upload.jpg", format: "WebP"), "415",
             "upload.jpg: a WebP image; Discern reads JPEG and PNG only (convert it, e.g. to PNG)"),
            (.tooManyPixels("upload.jpg", width: 100_000, height: 100_000, limit: 89_478_485), "413",
             "upload.jpg: too many pixels (100000x100000 = 10000000000 > limit 89478485), refused as a possible "
                + "decompression bomb"),
            (.truncated("upload.jpg", detail: "Premature end of JPEG file"), "422",
             "upload.jpg: truncated image (Premature end of JPEG file)"),
            (.emptyFile("upload.jpg"), "422", "upload.jpg: empty file (0 bytes)"),
        ]
        for (error, status, message) in cases {
            let mapped = ServiceError.from(error, name: "upload.jpg")
            let mappedStatus: String
            switch mapped {
            case .unsupportedImage: mappedStatus = "415"
            case .tooManyPixels: mappedStatus = "413"
            case .corruptImage: mappedStatus = "422"
            case .badRequest: mappedStatus = "400"
            }
            XCTAssertEqual(mappedStatus, status, "\(error)")
            XCTAssertEqual(mapped.description, message)
            XCTAssertEqual(error.description, message, "the command line's line for the same file")
        }
    }
}
