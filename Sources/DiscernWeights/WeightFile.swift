import Foundation
import DiscernEngine

/// Any supported weight file, recognised by its content rather than its extension:
/// zip (PyTorch >= 1.6), pickle (legacy PyTorch) or safetensors.
public enum WeightFile {
    public static func load(_ url: URL) throws -> [String: Tensor] {
        let data = try PyTorchCheckpoint.readWhole(url)
        if PyTorchCheckpoint.isZip(data) { return try PyTorchZip.load(url, data: data, name: url.path) }
        return try decode(data, name: url.path)
    }

    public static func decode(_ data: Data, name: String) throws -> [String: Tensor] {
        guard !data.isEmpty else { throw WeightsError.malformed(file: name, reason: "the file is empty") }
        // safetensors first: its header length can start with byte 0x80, a pickle's first opcode (timm's
        // resnet50 has a 0x..80-byte header).
        if !PyTorchCheckpoint.isZip(data), looksLikeSafeTensors(data) {
            return try SafeTensors.decode(data, name: name).tensors
        }
        if PyTorchCheckpoint.isZip(data) || data.first == 0x80 {
            return try PyTorchCheckpoint.decode(data, name: name)
        }
        throw WeightsError.malformed(
            file: name, reason: "unknown format (expected a PyTorch .pth/.pt/.bin checkpoint or a .safetensors file)")
    }

    /// safetensors starts with a u64 header length followed by a JSON object.
    static func looksLikeSafeTensors(_ data: Data) -> Bool {
        guard data.count >= 9 else { return false }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        return headerLength >= 2 && headerLength <= UInt64(data.count - 8)
            && data[data.startIndex + 8] == UInt8(ascii: "{")
    }
}
