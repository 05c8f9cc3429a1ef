import DiscernEngine
import DiscernVision
import DiscernWeights
import Foundation
import XCTest

/// Real photos: decode, Resize, each random transform with torchvision's sampled parameters, Normalize —
/// all against PIL 9.4 / torchvision 0.14 outputs (tools/make_vision_fixtures.py).
final class PhotoTransformTests: XCTestCase {
    func photoFixtures() throws -> [(SafeTensors.File, RGBImage)] {
        var out: [(SafeTensors.File, RGBImage)] = []
        for k in 0 ..< 6 {
            let f = try Fixtures.load("photo_\(k).safetensors")
            out.append((f, try ImageCodec.decodeFile(try Fixtures.photo(f))))
        }
        return out
    }

    func testDecodeMatchesPIL() throws {
        for (f, img) in try photoFixtures() {
            XCTAssertEqual("\(img.width),\(img.height)", "\(f.metadata["width"]!),\(f.metadata["height"]!)")
            // Same libjpeg-turbo as PIL, same flags (accurate DCT, fancy upsampling): bit-exact.
            assertClose(rows(img, step: 7), f.tensors["decoded_rows7"]!.data, "decode \(f.metadata["path"]!)")
        }
    }

    /// Runs `body` with the baseline pixel kernels, then with the AVX2 ones (CPixelKernels); both must match PIL.
    func forEachPixelKernel(_ body: (String) throws -> Void) rethrows {
        defer { PixelKernels.limit(to: 1) }
        PixelKernels.limit(to: 0)
        XCTAssertEqual(PixelKernels.level, 0)
        try body("baseline kernels")
        PixelKernels.limit(to: 1)
        try body(PixelKernels.level == 1 ? "AVX2 kernels" : "baseline kernels (this CPU has no AVX2)")
    }

    func testResize224() throws {
        let photos = try photoFixtures()
        forEachPixelKernel { kernels in
            for (f, img) in photos {
                let out = Resize(height: 224, width: 224).apply(img)
                assertClose(out.pixels.map(Float.init), f.tensors["resize224"]!.data,
                            "Resize((224,224)) \(f.metadata["path"]!), \(kernels)")
            }
        }
    }

    func testResizeShorterSideAndCenterCrop() throws {
        let f = try Fixtures.load("photo_0.safetensors")
        let img = try ImageCodec.decodeFile(try Fixtures.photo(f))
        forEachPixelKernel { kernels in
            let r = Resize(shorter: 256).apply(img)
            XCTAssertEqual("\(r.width),\(r.height)", f.metadata["resize256_size"])
            assertClose(rows(r, step: 5), f.tensors["resize256"]!.data, "Resize(256), \(kernels)")
            assertClose(rows(CenterCrop(224).apply(r), step: 4), f.tensors["center224"]!.data,
                        "CenterCrop(224), \(kernels)")
            let small = Resample.resize(img, width: 61, height: 50)
            assertClose(
                CenterCrop(height: 57, width: 80).apply(small).pixels.map(Float.init), f.tensors["center_pad"]!.data,
                "CenterCrop with padding, \(kernels)")
        }
    }

    /// The study's training chain, step by step, each step fed torchvision's parameters and the reference
    /// input-equivalent output of the previous step computed by us.
    func testRandomTransformsWithTorchvisionParameters() throws {
        for k in 0 ..< 3 {
            let f = try Fixtures.load("photo_\(k).safetensors")
            let img = try ImageCodec.decodeFile(try Fixtures.photo(f))
            let m = f.metadata
            let name = m["path"]!
            let rot = RandomRotation(degrees: 20).apply(img, .init(angle: Double(m["angle"]!)!))
            assertClose(rows(rot, step: 8), f.tensors["rot_rows8"]!.data, "RandomRotation \(name) angle \(m["angle"]!)")
            let b = m["rrc"]!.split(separator: ",").map { Int($0)! }
            let rrc = RandomResizedCrop(224, scale: (0.8, 1)).apply(
                rot, .init(top: b[0], left: b[1], height: b[2], width: b[3]))
            assertClose(rows(rrc, step: 2), f.tensors["rrc_rows2"]!.data, "RandomResizedCrop \(name) \(b)")
            let flip = RandomHorizontalFlip().apply(rrc, .init(flip: true))
            assertClose(rows(flip, step: 4), f.tensors["flip_rows4"]!.data, "RandomHorizontalFlip \(name)")
            XCTAssertEqual(RandomHorizontalFlip().apply(rrc, .init(flip: false)), rrc)
            let sh = m["affine_shear"]!.split(separator: ",").map { Double($0)! }
            let p = RandomAffine.Params(
                angle: Double(m["affine_angle"]!)!, scale: Double(m["affine_scale"]!)!, shearX: sh[0], shearY: sh[1])
            let aff = RandomAffine(degrees: 0, scale: (0.8, 1.2), shear: 10).apply(flip, p)
            assertClose(rows(aff, step: 2), f.tensors["affine_rows2"]!.data, "RandomAffine \(name) \(p)")
            let aff2 = RandomAffine().apply(img, .init(angle: 0, scale: 0.9, shearX: -9.5))
            assertClose(rows(aff2, step: 8), f.tensors["affine_full_rows8"]!.data, "RandomAffine full-size \(name)")

            // ToTensor + Normalize of the whole chain's output: the uint8 rows are bit-exact (above), so every
            // normalised value of rows 0, 2 … 14 must be torchvision's.
            let want = f.tensors["normalized_rows0_16"]!
            let w = aff.width
            let t = toTensor(aff, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
            XCTAssertEqual(t.shape, [3, 224, 224])
            var maxError: Float = 0
            for c in 0 ..< 3 { for y in stride(from: 0, to: 16, by: 2) { for x in 0 ..< w {
                maxError = max(maxError, abs(t.data[(c * 224 + y) * 224 + x] - want.data[(c * 16 + y) * w + x]))
            } } }
            XCTAssertLessThanOrEqual(maxError, 1e-6, "Normalize after the chain \(name)")
        }
    }

    /// Normalize exactly on a known uint8 image (the fixture's uint8 rows → torchvision's floats).
    func testNormalizeExact() throws {
        let f = try Fixtures.load("photo_0.safetensors")
        let u8 = f.tensors["affine_rows2"]!          // [112, 224, 3]: rows 0,2,… of the affine output
        let want = f.tensors["normalized_rows0_16"]! // [3, 16, 224]: rows 0…15 of the same image, normalised
        let img = RGBImage(width: 224, height: 8, pixels: u8.data.prefix(8 * 224 * 3).map { UInt8($0) })
        forEachPixelKernel { kernels in
            let t = toTensor(img, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
            var maxErr: Float = 0
            for c in 0 ..< 3 { for r in 0 ..< 8 { for x in 0 ..< 224 {
                maxErr = max(maxErr, abs(t.data[(c * 8 + r) * 224 + x] - want.data[(c * 16 + 2 * r) * 224 + x]))
            } } }
            XCTAssertLessThanOrEqual(maxErr, 1e-6, kernels)
        }
    }

    func testRandomResizedCropFallbackMatchesTorchvision() throws {
        let cases = try Fixtures.load("fallback.safetensors").tensors["cases"]!
        let rrc = RandomResizedCrop(224, scale: (2, 3))
        var rng = SplitMix64(seed: 1)
        for r in 0 ..< cases.shape[0] {
            let v = (0 ..< 6).map { Int(cases.data[r * 6 + $0]) }
            let p = rrc.sample(width: v[0], height: v[1], rng: &rng)
            XCTAssertEqual([p.top, p.left, p.height, p.width], Array(v[2...]), "image \(v[0])x\(v[1])")
        }
    }
}
