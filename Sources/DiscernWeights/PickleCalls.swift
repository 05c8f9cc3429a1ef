/// The only "calls" a weight pickle may make, each rebuilt in Swift from its arguments:
/// OrderedDict(), the tensor rebuild functions, and storage persistent ids. Nothing is looked up
/// or invoked by name.
extension PickleVM {
    static let maxRank = 32

    func int(_ value: PyValue, _ what: String) throws -> Int {
        guard case let .int(number) = value else {
            throw malformed("\(what) should be an int, found \(value.kindName)")
        }
        return number
    }

    func ints(_ value: PyValue, _ what: String) throws -> [Int] {
        let items: [PyValue]
        switch value {
        case let .tuple(tuple): items = tuple.items
        case let .list(list): items = list.items
        default: throw malformed("\(what) should be a tuple of ints, found \(value.kindName)")
        }
        guard items.count <= PickleVM.maxRank else { throw malformed("\(what) has \(items.count) dimensions") }
        return try items.map { try int($0, what) }
    }

    func reduce(_ callable: PyValue, _ argsValue: PyValue) throws -> PyValue {
        guard case let .global(global) = callable else {
            throw refused("REDUCE on a \(callable.kindName) (only tensor and OrderedDict constructors may be called)")
        }
        guard case let .tuple(tuple) = argsValue else {
            throw malformed("arguments of '\(global.name)' are a \(argsValue.kindName), not a tuple")
        }
        let args = tuple.items
        switch global {
        case .orderedDict:
            let dict = newDict()
            if let first = args.first {
                guard args.count == 1, case let .list(list) = first else {
                    throw malformed("unexpected OrderedDict arguments")
                }
                for item in list.items {
                    guard case let .tuple(pair) = item, pair.items.count == 2 else {
                        throw malformed("OrderedDict item is not a pair")
                    }
                    dict.set(pair.items[0], pair.items[1])
                }
            }
            return .dict(dict)
        case .rebuildTensorV2, .rebuildTensor:
            guard args.count >= 4, args.count <= 7 else {
                throw malformed("'\(global.name)' called with \(args.count) arguments")
            }
            return .tensor(try rebuildTensor(args))
        case .rebuildParameter, .rebuildParameterWithState:
            guard args.count >= 3, case let .tensor(tensor) = args[0] else {
                throw malformed("'\(global.name)' needs a tensor argument")
            }
            return .tensor(tensor)
        case .storageType:
            throw refused("calling '\(global.name)' is not allowed (storages come only from persistent ids)")
        }
    }

    /// BUILD sets instance state. The only legitimate target in a state_dict is an OrderedDict
    /// receiving `_metadata`, which carries no weights and is ignored.
    func build(_ target: PyValue, _ state: PyValue) throws {
        guard case .dict = target else { throw refused("BUILD on a \(target.kindName) is not allowed") }
        switch state {
        case .dict, .tuple, .none: return
        default: throw malformed("BUILD with a \(state.kindName) state")
        }
    }

    /// ('storage', StorageClass, key, location, numel) in zip files, plus a view (key, offset, count)
    /// or None in legacy files.
    func persistentLoad(_ pid: PyValue) throws -> PyValue {
        guard case let .tuple(tuple) = pid, let kind = tuple.items.first else {
            throw malformed("persistent id is a \(pid.kindName)")
        }
        let items = tuple.items
        guard case let .string(typename) = kind, typename == "storage" else {
            if case let .string(other) = kind {
                throw refused("persistent id '\(other.prefix(40))' is not allowed (only storages)")
            }
            throw malformed("persistent id starts with a \(kind.kindName)")
        }
        guard items.count == 5 || items.count == 6 else {
            throw malformed("storage persistent id has \(items.count) fields")
        }
        guard case let .global(.storageType(dtype)) = items[1] else {
            throw malformed("storage persistent id names \(items[1].kindName), not a storage class")
        }
        let key: String
        switch items[2] {
        case let .string(name): key = name
        case let .int(number): key = String(number)
        default: throw malformed("storage key is a \(items[2].kindName)")
        }
        let count = try int(items[4], "storage '\(key)' element count")
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard count >= 0, !overflow, bytes <= fileSize else {
            throw refused(
                "storage '\(key)' declares \(count) \(dtype.rawValue) elements, more than the whole file (\(fileSize)"
                    + " bytes)"
            )
        }
        if let seen = storages[key] {
            guard seen.dtype == dtype, seen.count == count else {
                throw malformed("storage '\(key)' is declared twice with different types or sizes")
            }
        } else {
            storages[key] = (dtype, count)
        }
        var ref = StorageRef(key: key, dtype: dtype, offset: 0, count: count)
        if items.count == 6, case let .tuple(view) = items[5] {
            guard view.items.count == 3 else { throw malformed("storage view metadata has \(view.items.count) fields") }
            let offset = try int(view.items[1], "storage view offset")
            let size = try int(view.items[2], "storage view size")
            guard offset >= 0, size >= 0, offset <= count, size <= count - offset else {
                throw malformed("view [\(offset), +\(size)) lies outside storage '\(key)' of \(count) elements")
            }
            ref = StorageRef(key: key, dtype: dtype, offset: offset, count: size)
        }
        return .storage(ref)
    }

    /// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
    /// The view must lie inside its storage; the total of materialised values is bounded by the file size.
    func rebuildTensor(_ args: [PyValue]) throws -> TensorRef {
        guard case let .storage(storage) = args[0] else {
            throw malformed("tensor built from a \(args[0].kindName), not a storage")
        }
        let offset = try int(args[1], "tensor storage offset")
        let shape = try ints(args[2], "tensor size")
        let stride = try ints(args[3], "tensor stride")
        guard shape.count == stride.count else {
            throw malformed("tensor size \(shape) and stride \(stride) differ in rank")
        }
        guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }) else {
            throw malformed(
                "negative size, stride or offset in tensor of size \(shape) stride \(stride) offset \(offset)")
        }
        var count = 1
        var last = offset
        for (size, step) in zip(shape, stride) {
            let (product, countOverflow) = count.multipliedReportingOverflow(by: size)
            guard !countOverflow else { throw refused("tensor size \(shape) overflows") }
            count = product
            guard size > 0 else { continue }
            let (span, spanOverflow) = (size - 1).multipliedReportingOverflow(by: step)
            let (end, endOverflow) = last.addingReportingOverflow(span)
            guard !spanOverflow, !endOverflow else { throw refused("tensor stride \(stride) overflows") }
            last = end
        }
        if count > 0 && last >= storage.count {
            throw malformed("tensor of size \(shape) stride \(stride) offset \(offset) reaches past storage "
                            + "'\(storage.key)' of \(storage.count) elements")
        }
        let budget = 4 * fileSize + (1 << 24)
        guard count <= budget - materialised else {
            throw refused("tensors expand to more than \(budget) values, far more than the file holds")
        }
        materialised += count
        return TensorRef(storage: storage, offset: offset, shape: shape, stride: stride, elementCount: count)
    }
}
