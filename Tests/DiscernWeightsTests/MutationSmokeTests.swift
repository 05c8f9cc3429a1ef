import XCTest
import Foundation
@testable import DiscernWeights

/// Randomly damaged copies of good files must load or fail with a WeightsError — never crash, hang
/// or throw something untyped. (A deterministic smoke test; the fuzz harnesses go further.)
final class MutationSmokeTests: XCTestCase {
    struct SplitMix { var s: UInt64; mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15; var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    } }

    func testDamagedFilesFailCleanly() throws {
        // DISCERN_MUTATION_ROUNDS / _SEED widen the search by hand; the defaults keep CI quick.
        let env = ProcessInfo.processInfo.environment
        let rounds = env["DISCERN_MUTATION_ROUNDS"].flatMap(Int.init) ?? 500
        var rng = SplitMix(s: env["DISCERN_MUTATION_SEED"].flatMap(UInt64.init) ?? 2024)
        for name in ["small_zip.pth", "small_legacy.pth", "nested_model_legacy.pth", "small_expected.safetensors"] {
            let good = [UInt8](try Data(contentsOf: Fixtures.url(name)))
            var failures = 0, loads = 0
            for _ in 0..<rounds {
                var b = good
                switch rng.next() % 5 {
                case 4: let i = b.count - 1 - Int(rng.next() % UInt64(b.count / 4))           // zip directory / tail
                    for k in 0..<min(Int(rng.next() % 9), b.count - i) { b[i + k] = rng.next() % 2 == 0 ? 0xFF : UInt8(truncatingIfNeeded: rng.next()) }
                case 0: b.removeLast(Int(rng.next() % UInt64(b.count)))                       // truncate
                case 1: for _ in 0...(rng.next() % 4) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                case 2: let i = Int(rng.next() % UInt64(b.count)); b[i] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
                default: let i = Int(rng.next() % UInt64(b.count))                             // 4-byte field set large
                    for k in 0..<min(4, b.count - i) { b[i + k] = k == 3 ? 0x7F : 0xFF }
                }
                do { _ = try WeightFile.decode(Data(b), name: "m"); loads += 1 } catch is WeightsError { failures += 1 } catch {
                    XCTFail("\(name): untyped error \(error)")
                }
            }
            XCTAssertGreaterThan(failures, rounds / 8, name)   // the damage is detected, not silently ignored
            _ = loads
        }
    }
}
