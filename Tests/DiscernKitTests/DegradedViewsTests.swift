import DiscernKit
import XCTest

/// How `--degrade` splits the cached views: about that share degraded, at least one plain view kept (the verdict's
/// references), none with a single view or --degrade 0.
final class DegradedViewsTests: XCTestCase {
    func testDegradedViewsAreAboutTheShareAndLeaveAPlainOne() {
        var o = StudyOptions(data: "unused")
        XCTAssertEqual(o.degradation, 0.2)
        let cases: [(views: Int, share: Double, degraded: Int)] = [
            (5, 0.2, 1), (5, 0.5, 3), (5, 0.9, 4), (10, 0.25, 3), (2, 0.2, 1), (1, 0.5, 0), (0, 0.5, 0), (5, 0, 0),
        ]
        for c in cases {
            o.augmentViews = c.views
            o.degradation = c.share
            XCTAssertEqual(o.degradedViews, c.degraded, "\(c.views) views, share \(c.share)")
            XCTAssertEqual(o.plainViews, c.views - c.degraded)
        }
    }
}
