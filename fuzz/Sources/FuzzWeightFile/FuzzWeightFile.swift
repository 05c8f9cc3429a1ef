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
        for (key, t) in tensors {
            Oracle.require(t.shape.allSatisfy { $0 >= 0 } && t.shape.reduce(1, *) == t.data.count,
                           "tensor \(key) shape \(t.shape) with \(t.data.count) values")
            // Every value came from the file: a tensor cannot hold more floats than the file has bytes.
            Oracle.require(t.data.count <= size, "tensor \(key) has \(t.data.count) values from \(size) bytes")
        }
    } catch {
        Oracle.checkRefusal(error)
    }
    return 0
}
