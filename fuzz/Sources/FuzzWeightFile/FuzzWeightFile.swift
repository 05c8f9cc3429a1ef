import DiscernWeights
import Foundation
import FuzzSupport

/// `WeightFile.decode` dispatches by content to the zip .pth reader, the legacy pickle reader and
/// the safetensors reader, so one harness covers all three from a mixed seed corpus.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWeightFile(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Data(bytes: bytes, count: size)
    do {
        let tensors = try WeightFile.decode(data, name: Oracle.fileName)
        var total = 0
        for (key, t) in tensors {
            Oracle.require(t.shape.allSatisfy { $0 >= 0 } && t.shape.reduce(1, *) == t.data.count,
                           "tensor \(key) shape \(t.shape) with \(t.data.count) values")
            total += t.data.count
        }
        // Strided views may repeat storage elements (stride 0), so the reader bounds the values it
        // materialises by 4 x file size + 2^24 (PickleCalls.rebuildTensor) instead of by the bytes.
        Oracle.require(total <= 4 * size + (1 << 24), "\(total) values from \(size) bytes")
    } catch {
        Oracle.checkRefusal(error)
    }
    return 0
}
