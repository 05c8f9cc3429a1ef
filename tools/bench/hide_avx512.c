/* LD_PRELOAD library that makes the CPU look like one without AVX-512 to the process it is loaded into.
 *
 * onnxruntime picks its kernels from the CPUID instruction and has no switch like oneDNN's ONEDNN_MAX_CPU_ISA,
 * so on an AVX-512 machine its AVX2 speed cannot otherwise be measured. Linux's CPUID faulting
 * (arch_prctl ARCH_SET_CPUID, /proc/cpuinfo flag `cpuid_fault`) makes every CPUID instruction of this
 * process and the threads it starts raise SIGSEGV; the handler runs the real CPUID with faulting briefly
 * off, clears the AVX-512, AVX512-BF16, AVX-VNNI and AMX bits of leaf 7 and steps over the instruction.
 *
 * Only code that asks CPUID after this library's constructor is affected: a library loaded later with
 * dlopen (onnxruntime under Python) is, a process's own start-up libraries may not be.
 * `hide_avx512_leaf7_queries` counts the leaf-7 answers given, so a caller can check that the masking
 * happened. Exits with status 97 when the kernel or CPU has no CPUID faulting.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

unsigned long hide_avx512_leaf7_queries = 0;

static void set_cpuid_faulting(int on) { syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1); }

static void hide(uint32_t leaf, uint32_t subleaf, uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx) {
    if (leaf != 7) return;
    hide_avx512_leaf7_queries += 1;
    if (subleaf == 0) {
        /* AVX512 F, DQ, IFMA, PF, ER, CD, BW, VL */
        *ebx &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
        /* AVX512 VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
        *ecx &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
        /* AVX512 4VNNIW, 4FMAPS, VP2INTERSECT, FP16; AMX BF16, TILE, INT8 */
        *edx &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
    } else if (subleaf == 1) {
        /* AVX-VNNI, AVX512-BF16 */
        *eax &= ~((1u << 4) | (1u << 5));
    }
}

static void on_segv(int signal_number, siginfo_t *info, void *context) {
    (void)signal_number;
    (void)info;
    greg_t *registers = ((ucontext_t *)context)->uc_mcontext.gregs;
    const uint8_t *instruction = (const uint8_t *)registers[REG_RIP];
    if (instruction[0] != 0x0f || instruction[1] != 0xa2) {
        /* A real fault: let it happen again without this handler. */
        signal(SIGSEGV, SIG_DFL);
        return;
    }
    uint32_t eax, ebx, ecx, edx;
    uint32_t leaf = (uint32_t)registers[REG_RAX], subleaf = (uint32_t)registers[REG_RCX];
    set_cpuid_faulting(0);
    __cpuid_count(leaf, subleaf, eax, ebx, ecx, edx);
    set_cpuid_faulting(1);
    hide(leaf, subleaf, &eax, &ebx, &ecx, &edx);
    registers[REG_RAX] = eax;
    registers[REG_RBX] = ebx;
    registers[REG_RCX] = ecx;
    registers[REG_RDX] = edx;
    registers[REG_RIP] += 2;
}

__attribute__((constructor)) static void start(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &action, NULL);
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        perror("hide_avx512: CPUID faulting (arch_prctl ARCH_SET_CPUID) is not available");
        _exit(97);
    }
}
