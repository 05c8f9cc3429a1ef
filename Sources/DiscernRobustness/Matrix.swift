/// A dense row-major Double matrix; rows are samples. The public entry type of this library.
public struct Matrix: Codable, Equatable, Sendable {
    public let rows: Int
    public let cols: Int
    public var values: [Double]

    public init(rows: Int, cols: Int, values: [Double]) throws {
        guard rows >= 0, cols >= 0, rows * cols == values.count else {
            throw RobustnessError.shapeMismatch(what: "matrix", expected: "\(rows)x\(cols) = \(rows * cols) values",
                                                actual: "\(values.count) values")
        }
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    init(uncheckedRows rows: Int, cols: Int, values: [Double]) {
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(zeros rows: Int, _ cols: Int) {
        self.init(uncheckedRows: rows, cols: cols, values: [Double](repeating: 0, count: rows * cols))
    }

    /// Rows of equal length (e.g. one logit vector per image).
    public init(_ data: [[Double]]) throws {
        let c = data.first?.count ?? 0
        var v = [Double]()
        v.reserveCapacity(data.count * c)
        for (i, r) in data.enumerated() {
            guard r.count == c else {
                throw RobustnessError.shapeMismatch(what: "row \(i)", expected: "\(c) columns", actual: "\(r.count)")
            }
            v.append(contentsOf: r)
        }
        self.init(uncheckedRows: data.count, cols: c, values: v)
    }

    public init(_ data: [[Float]]) throws {
        try self.init(data.map { $0.map(Double.init) })
    }

    /// A single column vector (n x 1), e.g. the sample of a 1-D KDE.
    public init(column: [Double]) {
        self.init(uncheckedRows: column.count, cols: 1, values: column)
    }

    public subscript(r: Int, c: Int) -> Double {
        get { values[r * cols + c] }
        set { values[r * cols + c] = newValue }
    }

    public func row(_ r: Int) -> [Double] { Array(values[r * cols ..< (r + 1) * cols]) }
    public func column(_ c: Int) -> [Double] { (0..<rows).map { values[$0 * cols + c] } }
    public var rowArrays: [[Double]] { (0..<rows).map(row) }

    /// The rows at `indices`, in that order.
    public func selectingRows(_ indices: [Int]) -> Matrix {
        var v = [Double]()
        v.reserveCapacity(indices.count * cols)
        for i in indices { v.append(contentsOf: values[i * cols..<(i + 1) * cols]) }
        return Matrix(uncheckedRows: indices.count, cols: cols, values: v)
    }

    func checkFinite(_ what: String) throws {
        guard values.allSatisfy({ $0.isFinite }) else { throw RobustnessError.notFinite(what: what) }
    }
}

import DiscernEngine

extension Matrix {
    /// From a rank-2 engine tensor [n, k] (e.g. a batch of logits or pooled features).
    public init(_ tensor: Tensor) throws {
        guard tensor.rank == 2 else {
            throw RobustnessError.shapeMismatch(
                what: "tensor", expected: "rank 2 [samples, values]", actual: "\(tensor.shape)")
        }
        self.init(uncheckedRows: tensor.shape[0], cols: tensor.shape[1], values: tensor.data.map(Double.init))
    }
}
