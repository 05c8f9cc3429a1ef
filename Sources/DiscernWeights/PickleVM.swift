/// A restricted pickle machine (binary protocols 2–5) that builds plain values and never runs code:
/// GLOBAL/STACK_GLOBAL resolve only names on the allow-list (`AllowedGlobal`), REDUCE calls only the
/// tensor/OrderedDict constructors, BUILD only updates an OrderedDict's attributes (ignored), and the
/// object-creating opcodes (INST, OBJ, NEWOBJ, EXT*) are refused outright.
///
/// Memory is bounded: every opcode consumes at least one byte, lengths are checked against the bytes
/// left, and the stack, the memo and tuple nesting have limits. Use it only inside the
/// `withUnsafeBytes` scope that owns `bytes`.
final class PickleVM {
    static let stackLimit = 1 << 20
    static let memoLimit = 1 << 22
    static let depthLimit = 100
    static let bigIntLimit = 64

    let bytes: UnsafeRawBufferPointer
    let file: String
    /// Size of the whole file: no storage may claim more bytes than this.
    let fileSize: Int
    var pos = 0
    var stack: [PyValue] = []
    var marks: [Int] = []
    var memo: [Int: PyValue] = [:]
    /// Storages seen through persistent ids, by key: element type and element count.
    var storages: [String: (dtype: StorageDType, count: Int)] = [:]
    /// Values all rebuilt tensors will hold once materialised (bounded in `rebuildTensor`).
    var materialised = 0
    /// Every list and dict built, emptied on deinit so reference cycles (a list holding itself) don't leak.
    private var containers: [AnyObject] = []

    init(bytes: UnsafeRawBufferPointer, file: String, fileSize: Int) {
        self.bytes = bytes
        self.file = file
        self.fileSize = fileSize
    }

    deinit {
        for container in containers {
            if let list = container as? PyList {
                list.items.removeAll()
            } else if let dict = container as? PyDict {
                dict.removeAll()
            }
        }
    }

    func refused(_ reason: String) -> WeightsError { .refused(file: file, reason: reason) }
    func malformed(_ reason: String) -> WeightsError { .malformed(file: file, reason: reason) }

    // MARK: reading

    func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - pos else {
            throw malformed("pickle truncated at byte \(pos) (needs \(n) more)")
        }
        defer { pos += n }
        return UnsafeRawBufferPointer(rebasing: bytes[pos ..< pos + n])
    }
    func u8() throws -> Int { Int(try take(1)[0]) }
    func u16() throws -> Int { Int(UInt16(littleEndian: try take(2).loadUnaligned(as: UInt16.self))) }
    func u32() throws -> Int { Int(UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self))) }
    func i32() throws -> Int { Int(Int32(littleEndian: try take(4).loadUnaligned(as: Int32.self))) }
    func u64() throws -> Int {
        let value = UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self))
        guard value <= UInt64(Int.max) else { throw malformed("length \(value) at byte \(pos - 8) is absurd") }
        return Int(value)
    }
    func utf8(_ n: Int) throws -> String {
        guard let text = String(validating: try take(n), as: UTF8.self) else {
            throw malformed("invalid UTF-8 string at byte \(pos - n)")
        }
        return text
    }
    func line() throws -> String {
        let window = bytes[pos ..< min(bytes.count, pos + 1024)]  // names are short; bounds the scan
        guard let newline = window.firstIndex(of: 0x0A) else {
            throw malformed("unterminated GLOBAL name at byte \(pos)")
        }
        let text = try utf8(newline - pos)
        pos += 1
        return text
    }
    func longInt(_ n: Int) throws -> PyValue {
        guard n <= PickleVM.bigIntLimit else { throw malformed("integer of \(n) bytes is too long") }
        let digits = Array(try take(n))
        if n == 0 { return .int(0) }
        if n > 8 { return .bigInt(digits) }
        var value: UInt64 = digits[n - 1] & 0x80 != 0 ? ~0 : 0  // sign-extend
        for i in (0..<n).reversed() { value = (value << 8) | UInt64(digits[i]) }
        return .int(Int(Int64(bitPattern: value)))
    }

    // MARK: stack

    func push(_ value: PyValue) throws {
        guard stack.count + marks.count < PickleVM.stackLimit else {
            throw refused("pickle stack exceeds \(PickleVM.stackLimit) items")
        }
        guard value.depth <= PickleVM.depthLimit else {
            throw refused("pickle nests tuples deeper than \(PickleVM.depthLimit)")
        }
        stack.append(value)
    }
    func pop() throws -> PyValue {
        guard let value = stack.popLast(), stack.count >= (marks.last ?? 0) else {
            throw malformed("pickle stack underflow at byte \(pos)")
        }
        return value
    }
    func top() throws -> PyValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else {
            throw malformed("pickle stack underflow at byte \(pos)")
        }
        return value
    }
    func popMark() throws -> [PyValue] {
        guard let mark = marks.popLast() else { throw malformed("pickle has no MARK for the opcode at byte \(pos)") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }
    func newList(_ items: [PyValue] = []) -> PyValue {
        let list = PyList()
        list.items = items
        containers.append(list)
        return .list(list)
    }
    func newDict() -> PyDict {
        let dict = PyDict()
        containers.append(dict)
        return dict
    }
    func put(_ index: Int) throws {
        guard memo.count < PickleVM.memoLimit || memo[index] != nil else {
            throw refused("pickle memo exceeds \(PickleVM.memoLimit) entries")
        }
        memo[index] = try top()
    }
    func get(_ index: Int) throws {
        guard let value = memo[index] else { throw malformed("pickle reads memo \(index), which was never written") }
        try push(value)
    }
    func setItems(_ target: PyValue, _ items: [PyValue]) throws {
        guard case let .dict(dict) = target else { throw malformed("SETITEM(S) on a \(target.kindName)") }
        guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of items") }
        for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
    }
    func appendItems(_ target: PyValue, _ items: [PyValue]) throws {
        guard case let .list(list) = target else { throw malformed("APPEND(S) on a \(target.kindName)") }
        list.items.append(contentsOf: items)
    }

    // MARK: the machine

    /// Runs one pickle starting at `start` up to its STOP; returns the value and the offset after STOP.
    func run(from start: Int) throws -> (value: PyValue, end: Int) {
        pos = start
        stack.removeAll()
        marks.removeAll()
        memo.removeAll()
        while true {
            let at = pos
            let op = try u8()
            switch op {
            case 0x80: _ = try u8()                                    // PROTO
            case 0x95:                                                 // FRAME
                let length = try u64()
                guard length <= bytes.count - pos else { throw malformed("FRAME past the end") }
            case 0x2E:                                                 // STOP
                guard marks.isEmpty, stack.count == 1 else {
                    throw malformed("pickle ends with \(stack.count) values on the stack")
                }
                return (stack[0], pos)
            case 0x28:                                                 // MARK
                guard stack.count + marks.count < PickleVM.stackLimit else {
                    throw refused("pickle stack exceeds \(PickleVM.stackLimit) items")
                }
                marks.append(stack.count)
            case 0x30: _ = try pop()                                   // POP
            case 0x31: _ = try popMark()                               // POP_MARK
            case 0x32: try push(try top())                             // DUP
            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4A: try push(.int(try i32()))                       // BININT
            case 0x4B: try push(.int(try u8()))                        // BININT1
            case 0x4D: try push(.int(try u16()))                       // BININT2
            case 0x8A: try push(try longInt(try u8()))                 // LONG1
            case 0x8B:                                                 // LONG4
                let length = try i32()
                guard length >= 0 else { throw malformed("negative LONG4 length") }
                try push(try longInt(length))
            case 0x47:
                try push(.float(Double(bitPattern: UInt64(bigEndian: try take(8).loadUnaligned(as: UInt64.self)))))
            case 0x58: try push(.string(try utf8(try u32())))  // BINUNICODE
            case 0x8C: try push(.string(try utf8(try u8())))  // SHORT_BINUNICODE
            case 0x8D: try push(.string(try utf8(try u64())))  // BINUNICODE8
            case 0x54:  // BINSTRING (py2 str)
                let length = try i32()
                guard length >= 0 else { throw malformed("negative BINSTRING length") }
                try push(.string(try utf8(length)))
            case 0x55: try push(.string(try utf8(try u8())))           // SHORT_BINSTRING
            case 0x42: try push(.bytes(Array(try take(try u32()))))    // BINBYTES
            case 0x43: try push(.bytes(Array(try take(try u8()))))     // SHORT_BINBYTES
            case 0x8E: try push(.bytes(Array(try take(try u64()))))    // BINBYTES8
            case 0x29: try push(.tuple(PyTuple([])))                   // EMPTY_TUPLE
            case 0x74: try push(.tuple(PyTuple(try popMark())))        // TUPLE
            case 0x85:                                                 // TUPLE1
                let first = try pop()
                try push(.tuple(PyTuple([first])))
            case 0x86:                                                 // TUPLE2
                let second = try pop()
                let first = try pop()
                try push(.tuple(PyTuple([first, second])))
            case 0x87:                                                 // TUPLE3
                let third = try pop()
                let second = try pop()
                let first = try pop()
                try push(.tuple(PyTuple([first, second, third])))
            case 0x5D: try push(newList())                             // EMPTY_LIST
            case 0x6C: try push(newList(try popMark()))                // LIST
            case 0x61:                                                 // APPEND
                let item = try pop()
                try appendItems(try top(), [item])
            case 0x65:                                                 // APPENDS
                let items = try popMark()
                try appendItems(try top(), items)
            case 0x7D: try push(.dict(newDict()))                      // EMPTY_DICT
            case 0x64:                                                 // DICT
                let dict = newDict()
                try setItems(.dict(dict), try popMark())
                try push(.dict(dict))
            case 0x73:                                                 // SETITEM
                let value = try pop()
                let key = try pop()
                try setItems(try top(), [key, value])
            case 0x75:                                                 // SETITEMS
                let items = try popMark()
                try setItems(try top(), items)
            case 0x71: try put(try u8())                               // BINPUT
            case 0x72: try put(try u32())                              // LONG_BINPUT
            case 0x94: try put(memo.count)                             // MEMOIZE
            case 0x68: try get(try u8())                               // BINGET
            case 0x6A: try get(try u32())                              // LONG_BINGET
            case 0x63: try push(.global(try resolve(module: try line(), name: try line())))  // GLOBAL
            case 0x93:                                                 // STACK_GLOBAL
                let nameValue = try pop()
                let moduleValue = try pop()
                guard case let .string(module) = moduleValue, case let .string(name) = nameValue else {
                    throw malformed("STACK_GLOBAL needs two strings")
                }
                try push(.global(try resolve(module: module, name: name)))
            case 0x52:                                                 // REDUCE
                let args = try pop()
                let callable = try pop()
                try push(try reduce(callable, args))
            case 0x62:                                                 // BUILD
                let state = try pop()
                try build(try top(), state)
            case 0x51: try push(try persistentLoad(try pop()))                             // BINPERSID
            case 0x69, 0x6F, 0x81, 0x92, 0x82, 0x83, 0x84, 0x50:
                throw refused("pickle opcode \(PickleVM.opName(op)) at byte \(at) is not allowed")
            default:
                throw malformed("unsupported pickle opcode 0x\(String(op, radix: 16)) at byte \(at)")
            }
        }
    }

    func resolve(module: String, name: String) throws -> AllowedGlobal {
        guard let global = AllowedGlobal(module: module, name: name) else {
            let shown = (module + "." + name).prefix(120)
            throw refused("global '\(shown)' is not allowed (weight files may hold only tensors: save a state_dict)")
        }
        return global
    }

    static func opName(_ op: Int) -> String {
        switch op {
        case 0x69: return "INST"
        case 0x6F: return "OBJ"
        case 0x81: return "NEWOBJ"
        case 0x92: return "NEWOBJ_EX"
        case 0x50: return "PERSID"
        default: return "EXT"
        }
    }
}
