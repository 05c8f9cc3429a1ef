/// The only "calls" a weight pickle may make, each rebuilt in Swift from its arguments:
/// OrderedDict(), the tensor rebuild functions, and storage persistent ids. Nothing is looked up
/// or invoked by name.
extension PickleVM {
    static let maxRank = 32

    func int(_ v: PyValue, _ what: String) throws -> Int {
        guard case let .int(i) = v else { throw malformed("\(what) should be an int, found \(v.kindName)") }
        return i
    }

    func ints(_ v: PyValue, _ what: String) throws -> [Int] {
        let items: [PyValue]
        switch v {
        case let .tuple(t): items = t.items
        case let .list(l): items = l.items
        default: throw malformed("\(what) should be a tuple of ints, found \(v.kindName)")
        }
        guard items.count <= PickleVM.maxRank else { throw malformed("\(what) has \(items.count) dimensions") }
        return try items.map { try int($0, what) }
    }

    func reduce(_ f: PyValue, _ argsValue: PyValue) throws -> PyValue {
        guard case let .global(g) = f else {
            throw refused("REDUCE on a \(f.kindName) (only tensor and OrderedDict constructors may be called)")
        }
        guard case let .tuple(t) = argsValue else { throw malformed("arguments of '\(g.name)' are a \(argsValue.kindName), not a tuple") }
        let args = t.items
        switch g {
        case .orderedDict:
            let d = newDict()
            if let first = args.first {
                guard args.count == 1, case let .list(l) = first else { throw malformed("unexpected OrderedDict arguments") }
                for item in l.items {
                    guard case let .tuple(p) = item, p.items.count == 2 else { throw malformed("OrderedDict item is not a pair") }
                    d.set(p.items[0], p.items[1])
                }
            }
            return .dict(d)
        case .rebuildTensorV2, .rebuildTensor:
            guard args.count >= 4, args.count <= 7 else { throw malformed("'\(g.name)' called with \(args.count) arguments") }
            return .tensor(try rebuildTensor(args))
        case .rebuildParameter, .rebuildParameterWithState:
            guard args.count >= 3, case let .tensor(x) = args[0] else { throw malformed("'\(g.name)' needs a tensor argument") }
            return .tensor(x)
        case .storageType:
            throw refused("calling '\(g.name)' is not allowed (storages come only from persistent ids)")
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
        guard case let .tuple(t) = pid, let kind = t.items.first else { throw malformed("persistent id is a \(pid.kindName)") }
        let items = t.items
        guard case let .string(typename) = kind, typename == "storage" else {
            if case let .string(s) = kind { throw refused("persistent id '\(s.prefix(40))' is not allowed (only storages)") }
            throw malformed("persistent id starts with a \(kind.kindName)")
        }
        guard items.count == 5 || items.count == 6 else { throw malformed("storage persistent id has \(items.count) fields") }
        guard case let .global(.storageType(dtype)) = items[1] else {
            throw malformed("storage persistent id names \(items[1].kindName), not a storage class")
        }
        let key: String
        switch items[2] {
        case let .string(s): key = s
        case let .int(i): key = String(i)
        default: throw malformed("storage key is a \(items[2].kindName)")
        }
        let count = try int(items[4], "storage '\(key)' element count")
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard count >= 0, !overflow, bytes <= fileSize else {
            throw refused("storage '\(key)' declares \(count) \(dtype.rawValue) elements, more than the whole file (\(fileSize) bytes)")
        }
        if let seen = storages[key] {
            guard seen.dtype == dtype, seen.count == count else { throw malformed("storage '\(key)' is declared twice with different types or sizes") }
        } else {
            storages[key] = (dtype, count)
        }
        var ref = StorageRef(key: key, dtype: dtype, offset: 0, count: count)
        if items.count == 6, case let .tuple(view) = items[5] {
            guard view.items.count == 3 else { throw malformed("storage view metadata has \(view.items.count) fields") }
            let off = try int(view.items[1], "storage view offset"), n = try int(view.items[2], "storage view size")
            guard off >= 0, n >= 0, off <= count, n <= count - off else {
                throw malformed("view [\(off), +\(n)) lies outside storage '\(key)' of \(count) elements")
            }
            ref = StorageRef(key: key, dtype: dtype, offset: off, count: n)
        }
        return .storage(ref)
    }

    /// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
    /// The view must lie inside its storage; the total of materialised values is bounded by the file size.
    func rebuildTensor(_ args: [PyValue]) throws -> TensorRef {
        guard case let .storage(s) = args[0] else { throw malformed("tensor built from a \(args[0].kindName), not a storage") }
        let offset = try int(args[1], "tensor storage offset")
        let shape = try ints(args[2], "tensor size"), stride = try ints(args[3], "tensor stride")
        guard shape.count == stride.count else { throw malformed("tensor size \(shape) and stride \(stride) differ in rank") }
        guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }) else {
            throw malformed("negative size, stride or offset in tensor of size \(shape) stride \(stride) offset \(offset)")
        }
        var count = 1, last = offset
        for (n, st) in zip(shape, stride) {
            let (c, o1) = count.multipliedReportingOverflow(by: n)
            guard !o1 else { throw refused("tensor size \(shape) overflows") }
            count = c
            guard n > 0 else { continue }
            let (span, o2) = (n - 1).multipliedReportingOverflow(by: st)
            let (l, o3) = last.addingReportingOverflow(span)
            guard !o2, !o3 else { throw refused("tensor stride \(stride) overflows") }
            last = l
        }
        if count > 0 && last >= s.count {
            throw malformed("tensor of size \(shape) stride \(stride) offset \(offset) reaches past storage '\(s.key)' of \(s.count) elements")
        }
        materialised += count
        let budget = 4 * fileSize + (1 << 24)
        guard materialised <= budget else { throw refused("tensors expand to more than \(budget) values, far more than the file holds") }
        return TensorRef(storage: s, offset: offset, shape: shape, stride: stride, elementCount: count)
    }
}
