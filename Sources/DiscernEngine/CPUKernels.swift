import COneDNN
import Foundation

/// What oneDNN can run on this CPU, asked at run time: its effective instruction set (the
/// hardware's, lowered by `ONEDNN_MAX_CPU_ISA` when set) and the channel block of the blocked
/// layouts its jit kernels accept there. A layout no jit kernel accepts silently runs oneDNN's
/// `ref:` loops, about a thousand times slower, so every layout choice goes through this.
public enum CPUKernels {
    /// oneDNN's effective ISA for this process.
    public static var isa: dnnl_cpu_isa_t { dnnl_get_effective_cpu_isa() }

    /// ISA levels are bit masks that contain the lower levels.
    static func has(_ level: dnnl_cpu_isa_t) -> Bool {
        isa.rawValue & level.rawValue == level.rawValue && isa != dnnl_cpu_isa_all
    }

    /// The name oneDNN's verbose mode and `ONEDNN_MAX_CPU_ISA` use for the effective ISA.
    public static var isaName: String {
        let names: [(dnnl_cpu_isa_t, String)] = [
            (dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"), (dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"),
            (dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"), (dnnl_cpu_isa_avx512_core, "avx512_core"),
            (dnnl_cpu_isa_avx2_vnni, "avx2_vnni"), (dnnl_cpu_isa_avx2, "avx2"), (dnnl_cpu_isa_avx, "avx"),
            (dnnl_cpu_isa_sse41, "sse41"),
        ]
        return names.first { has($0.0) }?.1 ?? "no jit ISA"
    }

    /// Channel block of oneDNN's blocked activations here: 16 on AVX-512, 8 on SSE4.1/AVX/AVX2.
    public static var channelBlock: Int? {
        if has(dnnl_cpu_isa_avx512_core) { return 16 }
        if has(dnnl_cpu_isa_sse41) { return 8 }
        return nil
    }

    /// The blocked NCHW layout for `channels` on this CPU, or nil when the block does not divide them.
    static func blockedTag(channels: Int) -> dnnl_format_tag_t? {
        switch channelBlock {
        case 16 where channels % 16 == 0: return dnnl_nChw16c
        case 8 where channels % 8 == 0: return dnnl_nChw8c
        default: return nil
        }
    }

    /// Native bf16 arithmetic (AVX512-BF16 or AMX); elsewhere bf16 would be emulated or refused.
    public static var bf16Native: Bool { has(dnnl_cpu_isa_avx512_core_bf16) }
}
