import COpenBLAS

/// Eigen-decomposition of a real symmetric matrix through LAPACK `dsyevd` (OpenBLAS).
public enum SymmetricEigen {
    public enum Failure: Error, CustomStringConvertible {
        case notConverged(info: Int)
        public var description: String {
            switch self {
            case let .notConverged(info): return "symmetric eigensolver did not converge (LAPACK info \(info))"
            }
        }
    }

    /// Eigenvalues in ascending order and the matching unit eigenvectors as the columns of a row-major
    /// n × n matrix (`vectors[i * n + j]` = component i of eigenvector j). `matrix` is row-major n × n.
    public static func decompose(_ matrix: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "SymmetricEigen: \(n)x\(n) needs \(n * n) values")
        if n == 0 { return ([], []) }
        // LAPACK is column-major; a symmetric matrix is its own transpose, and the column-major eigenvector
        // output read row-major is Vᵀ, so transpose it back below.
        var a = matrix, w = [Double](repeating: 0, count: n)
        var nn = Int32(n), info: Int32 = 0, lwork: Int32 = -1, liwork: Int32 = -1
        var workSize = 0.0, iworkSize: Int32 = 0
        let jobz: CChar = 86, uplo: CChar = 85          // "V", "U"
        var jz = jobz, ul = uplo
        _ = BLASThreads.callingThreadOnly
        dsyevd_(&jz, &ul, &nn, &a, &nn, &w, &workSize, &lwork, &iworkSize, &liwork, &info)
        lwork = Int32(workSize)
        liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jz, &ul, &nn, &a, &nn, &w, &work, &lwork, &iwork, &liwork, &info)
        guard info == 0 else { throw Failure.notConverged(info: Int(info)) }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { v[i * n + j] = a[j * n + i] } }
        return (w, v)
    }
}
