import XCTest
import Foundation
@testable import DiscernWeights

/// Randomly damaged copies of good files must load or fail with a WeightsError — never crash, hang
/// or throw something untyped. (A deterministic smoke test; the fuzz harnesses go further.)
final class MutationSmokeTests: XCTestCase {
    struct SplitMix {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

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
                case 4:
                    let i = b.count - 1 - Int(rng.next() % UInt64(b.count / 4))  // zip directory / tail
                    for k in 0..<min(Int(rng.next() % 9), b.count - i) {
                        b[i + k] = rng.next() % 2 == 0 ? 0xFF : UInt8(truncatingIfNeeded: rng.next())
                    }
                case 0: b.removeLast(Int(rng.next() % UInt64(b.count)))  // truncate
                case 1:
                    for _ in 0...(rng.next() % 4) {
                        b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
                    }
                case 2:
                    let i = Int(rng.next() % UInt64(b.count))
                    b[i] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
                default:
                    let i = Int(rng.next() % UInt64(b.count))  // 4-byte field set large
                    for k in 0..<min(4, b.count - i) { b[i + k] = k == 3 ? 0x7F : 0xFF }
                }
                do {
                    _ = try WeightFile.decode(Data(b), name: "m")
                    loads += 1
                } catch is WeightsError { failures += 1 } catch {
                    XCTFail("\(name): untyped error \(error)")
                }
            }
            XCTAssertGreaterThan(failures, rounds / 8, name)   // the damage is detected, not silently ignored
            _ = loads
        }
    }

    /// Random opcode streams (with short random arguments) after valid legacy headers: the
    /// unpickler must only ever return or throw a WeightsError.
    func testRandomOpcodeStreams() {
        let env = ProcessInfo.processInfo.environment
        let rounds = env["DISCERN_MUTATION_ROUNDS"].flatMap(Int.init) ?? 3000
        var rng = SplitMix(s: env["DISCERN_MUTATION_SEED"].flatMap(UInt64.init) ?? 99)
        let ops: [UInt8] = [
            0x28, 0x2E, 0x30, 0x31, 0x32, 0x4E, 0x88, 0x89, 0x4A, 0x4B, 0x4D, 0x8A, 0x47, 0x58, 0x8C,
            0x55, 0x43, 0x29, 0x74, 0x85, 0x86, 0x87, 0x5D, 0x6C, 0x61, 0x65, 0x7D, 0x64, 0x73, 0x75,
            0x71, 0x72, 0x94, 0x68, 0x6A, 0x63, 0x93, 0x52, 0x62, 0x51, 0x95
        ]
        let names: [[UInt8]] = [
            "collections\nOrderedDict\n", "torch._utils\n_rebuild_tensor_v2\n", "torch\nFloatStorage\n",
            "torch._utils\n_rebuild_parameter\n"
        ].map { Array($0.utf8) }
        let strings: [[UInt8]] = ["storage", "0", "cpu", "w"].map { [0x8C, UInt8($0.utf8.count)] + Array($0.utf8) }
        let header = PickleRefusalTests.headers + [0x80, 0x02]
        for _ in 0..<rounds {
            var b = header
            for _ in 0..<(1 + rng.next() % 48) {
                switch rng.next() % 6 {
                case 0: b += names[Int(rng.next() % UInt64(names.count))].withGlobal
                case 1: b += strings[Int(rng.next() % UInt64(strings.count))]
                default:
                    b.append(ops[Int(rng.next() % UInt64(ops.count))])
                    for _ in 0..<(rng.next() % 3) { b.append(UInt8(rng.next() % 6)) }
                }
            }
            if rng.next() % 2 == 0 { b.append(0x2E) }
            do { _ = try WeightFile.decode(Data(b), name: "r") } catch is WeightsError {} catch {
                XCTFail("untyped error \(error)")
            }
        }
    }
}

private extension Array where Element == UInt8 {
    var withGlobal: [UInt8] { [0x63] + self }
}
