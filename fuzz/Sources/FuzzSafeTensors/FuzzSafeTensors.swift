import DiscernWeights
import Foundation
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = Data(bytes: bytes, count: size)
    do {
        let file = try SafeTensors.decode(data, name: Oracle.fileName)
        for (key, t) in file.tensors {
            Oracle.require(t.shape.allSatisfy { $0 >= 0 } && t.shape.reduce(1, *) == t.data.count,
                           "tensor \(key) shape \(t.shape) with \(t.data.count) values")
            Oracle.require(t.data.count <= size, "tensor \(key) has \(t.data.count) values from \(size) bytes")
        }
    } catch {
        Oracle.checkRefusal(error)
    }
    return 0
}
