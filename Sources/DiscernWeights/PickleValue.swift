/// The values the restricted unpickler can build. There is no "object" case: nothing outside the
/// allow-list can ever be represented, so nothing outside it can be constructed or called.
enum PyValue {
    case none
    case bool(Bool)
    case int(Int)
    case bigInt([UInt8])            // little-endian two's complement wider than 64 bits (the legacy magic number)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PyTuple)
    case list(PyList)
    case dict(PyDict)
    case global(AllowedGlobal)
    case storage(StorageRef)
    case tensor(TensorRef)

    /// Nesting depth through tuples; lists and dicts are references and count as 1 (see PickleVM.depthLimit).
    var depth: Int {
        if case let .tuple(tuple) = self { return tuple.depth }
        return 1
    }

    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case let .global(global): return "'\(global.name)'"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// Tuples are immutable: their depth is fixed at construction, which bounds recursion on release.
final class PyTuple {
    let items: [PyValue]
    let depth: Int
    init(_ items: [PyValue]) {
        self.items = items
        depth = 1 + items.reduce(0) { max($0, $1.depth) }
    }
}

/// Lists and dicts are mutated after being memoised (APPENDS/SETITEMS), so they are references.
final class PyList {
    var items: [PyValue] = []
}

final class PyDict {
    private(set) var pairs: [(key: PyValue, value: PyValue)] = []
    private var stringIndex: [String: Int] = [:]

    func set(_ key: PyValue, _ value: PyValue) {
        if case let .string(text) = key {
            if let index = stringIndex[text] {
                pairs[index].value = value
                return
            }
            stringIndex[text] = pairs.count
        }
        pairs.append((key, value))
    }

    subscript(_ key: String) -> PyValue? {
        stringIndex[key].map { pairs[$0].value }
    }

    func removeAll() {
        pairs.removeAll()
        stringIndex.removeAll()
    }
}

/// Element types of PyTorch storages, as named by their legacy storage classes.
enum StorageDType: String, CaseIterable {
    case float32 = "FloatStorage", float64 = "DoubleStorage", float16 = "HalfStorage", bfloat16 = "BFloat16Storage"
    case int64 = "LongStorage", int32 = "IntStorage", int16 = "ShortStorage", int8 = "CharStorage"
    case uint8 = "ByteStorage", bool = "BoolStorage"

    var size: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
}

/// The only globals a pickle may name. Anything else is refused when the GLOBAL opcode is read.
enum AllowedGlobal {
    case orderedDict
    case rebuildTensorV2, rebuildTensor, rebuildParameter, rebuildParameterWithState
    case storageType(StorageDType)

    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch", "UntypedStorage"): self = .storageType(.uint8)  // zip files of torch >= 2 (numel in bytes)
        case ("torch", _):
            guard let dtype = StorageDType(rawValue: name) else { return nil }
            self = .storageType(dtype)
        default: return nil
        }
    }

    var name: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildTensor: return "torch._utils._rebuild_tensor"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case let .storageType(dtype): return "torch.\(dtype.rawValue)"
        }
    }
}

/// A persistent-id storage reference: `key` names the bytes (a zip entry or a legacy storage),
/// `offset`/`count` (elements) select a legacy storage view of it.
struct StorageRef {
    let key: String
    let dtype: StorageDType
    let offset: Int
    let count: Int
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage.
struct TensorRef {
    let storage: StorageRef
    let offset: Int
    let shape: [Int]
    let stride: [Int]
    let elementCount: Int
}
