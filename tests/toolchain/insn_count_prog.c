/*
 * Guest programs for tests/toolchain/test_insn_count.py, one per mode (argv[1]).
 * Regions are opened by `slti x0, x0, id` HINTs; the expected counts per region are
 * derived in the test from the instruction sequences written here in assembly.
 *
 *   scalar N   region 1: marker, mv, jal, loop(N), jr        -> 4N + 4 insns
 *              region 2: marker, slli, jal, loop(2N), jr     -> 8N + 4 insns
 *              the loop (addi, nop, nop, bnez = 4 insns/iteration) is one shared subroutine.
 *   vadd       (RVV 1.0 builds) a strip-mined vle32/vle32/vfadd/vse32 loop at LMUL 2 over
 *              256 floats in region 1; result checked (exit 1 if wrong).
 *   lmul       (RVV 1.0 builds) one shared vadd.vv,vadd.vv subroutine called under LMUL 4, 8
 *              and 1/2 in regions 1, 2, 3; whole-register/mask loads in region 4.
 *   xthead     (any build, run on c906fdv) hand-encoded RVV 0.7.1: region 1 vsetvli e32,m1 +
 *              vle.v + vadd.vv + flw/fld/fsw/flh/fsh; region 2 vsetvli e16,m4 + vle.v + vadd.vv.
 *   vmaqa      (RVV 1.0 builds, run on c908v) region 1: vsetvli e32,m2 + th.vmaqa.vv +
 *              th.vmaqa.vx + th.vmaqau.vv (XTheadVdot, written with .insn).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__riscv_vector)
#include <riscv_vector.h>
#endif

static double buffer[64] __attribute__((aligned(64)));

static int run_scalar(long n)
{
    __asm__ volatile(
        "slti x0, x0, 1\n"
        "mv t0, %0\n"
        "jal t1, 5f\n"
        "slti x0, x0, 2\n"
        "slli t0, %0, 1\n"
        "jal t1, 5f\n"
        "slti x0, x0, 3\n"
        "j 6f\n"
        "5:\n"
        "addi t0, t0, -1\n"
        "nop\n"
        "nop\n"
        "bnez t0, 5b\n"
        "jr t1\n"
        "6:\n"
        :
        : "r"(n)
        : "t0", "t1", "memory");
    return 0;
}

#if defined(__riscv_vector)
#define VADD_N 256
static float va_in[VADD_N], vb_in[VADD_N], vc_out[VADD_N];

static int run_vadd(void)
{
    for (int i = 0; i < VADD_N; i++) {
        va_in[i] = (float)i;
        vb_in[i] = 2.0f * (float)i;
    }
    __asm__ volatile("slti x0, x0, 1" ::: "memory");
    size_t n = VADD_N;
    const float *pa = va_in, *pb = vb_in;
    float *pc = vc_out;
    while (n > 0) {
        size_t vl = __riscv_vsetvl_e32m2(n);
        vfloat32m2_t a = __riscv_vle32_v_f32m2(pa, vl);
        vfloat32m2_t b = __riscv_vle32_v_f32m2(pb, vl);
        __riscv_vse32_v_f32m2(pc, __riscv_vfadd_vv_f32m2(a, b, vl), vl);
        pa += vl;
        pb += vl;
        pc += vl;
        n -= vl;
    }
    __asm__ volatile("slti x0, x0, 2" ::: "memory");
    for (int i = 0; i < VADD_N; i++) {
        if (vc_out[i] != 3.0f * (float)i) {
            fprintf(stderr, "vadd: wrong result at %d\n", i);
            return 1;
        }
    }
    return 0;
}

static int run_lmul(void)
{
    __asm__ volatile(
        "mv a0, %0\n"
        "li a1, 4\n"
        "slti x0, x0, 1\n"
        "vsetvli t0, a1, e32, m4, ta, ma\n"
        "jal t1, 5f\n"
        "slti x0, x0, 2\n"
        "vsetvli t0, a1, e32, m8, ta, ma\n"
        "jal t1, 5f\n"
        "slti x0, x0, 3\n"
        "vsetvli t0, a1, e32, mf2, ta, ma\n"
        "jal t1, 5f\n"
        "slti x0, x0, 4\n"
        "vsetivli t0, 4, e32, m2, ta, ma\n"
        "vl4re32.v v8, (a0)\n"
        "vlm.v v0, (a0)\n"
        "flw ft0, 0(a0)\n"
        "slti x0, x0, 5\n"
        "j 6f\n"
        "5:\n"
        "vadd.vv v8, v8, v8\n"
        "vadd.vv v8, v8, v8\n"
        "jr t1\n"
        "6:\n"
        :
        : "r"(buffer)
        : "a0", "a1", "t0", "t1", "ft0", "v0", "v8", "v9", "v10", "v11", "v12", "v13", "v14",
          "v15", "memory");
    return 0;
}
#endif

/* RVV 0.7.1 by hand: vsetvli t0, a1, <vtype> = .insn i 0x57, 7, t0, a1, <vtype>;
 * vle.v v8, (a0) = 0x02057407; vadd.vv v8, v8, v8 = 0x02840457. */
static int run_xthead(void)
{
    __asm__ volatile(
        "mv a0, %0\n"
        "li a1, 4\n"
        "slti x0, x0, 1\n"
        ".insn i 0x57, 7, t0, a1, 0x08\n"   /* vsetvli t0, a1, e32, m1 */
        ".insn 0x02057407\n"                 /* vle.v v8, (a0) */
        ".insn 0x02840457\n"                 /* vadd.vv v8, v8, v8 */
        ".insn 0x00052007\n"                 /* flw ft0, 0(a0) */
        ".insn 0x00053007\n"                 /* fld ft0, 0(a0) */
        ".insn 0x00052027\n"                 /* fsw ft0, 0(a0) */
        ".insn 0x00051007\n"                 /* flh ft0, 0(a0) (Zfh, width 1) */
        ".insn 0x00051027\n"                 /* fsh ft0, 0(a0) */
        "slti x0, x0, 2\n"
        ".insn i 0x57, 7, t0, a1, 0x06\n"   /* vsetvli t0, a1, e16, m4 */
        ".insn 0x02057407\n"                 /* vle.v v8, (a0) */
        ".insn 0x02840457\n"                 /* vadd.vv v8, v8, v8 */
        "slti x0, x0, 3\n"
        :
        : "r"(buffer)
        : "a0", "a1", "t0", "ft0", "memory");
    return 0;
}

#if defined(__riscv_vector)
/* XTheadVdot by hand: .insn r 0x0b, 6, <funct7>, vd, rs1/vs1, vs2 (vmaqa.vv 0x41, .vx 0x43,
 * vmaqau.vv 0x45). */
static int run_vmaqa(void)
{
    __asm__ volatile(
        "li a1, 8\n"
        "li a2, 0x01010101\n"
        "slti x0, x0, 1\n"
        "vsetvli t0, a1, e32, m2, ta, ma\n"
        ".insn r 0x0b, 6, 0x41, v8, v4, v6\n"    /* th.vmaqa.vv v8, v4, v6 */
        ".insn r 0x0b, 6, 0x43, v8, a2, v6\n"    /* th.vmaqa.vx v8, a2, v6 */
        ".insn r 0x0b, 6, 0x45, v8, v4, v6\n"    /* th.vmaqau.vv v8, v4, v6 */
        "slti x0, x0, 2\n"
        :
        :
        : "a1", "a2", "t0", "v4", "v5", "v6", "v7", "v8", "v9", "memory");
    return 0;
}
#endif

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "scalar") == 0 && argc > 2)
        return run_scalar(atol(argv[2]));
#if defined(__riscv_vector)
    if (strcmp(mode, "vadd") == 0)
        return run_vadd();
    if (strcmp(mode, "lmul") == 0)
        return run_lmul();
    if (strcmp(mode, "vmaqa") == 0)
        return run_vmaqa();
#endif
    if (strcmp(mode, "xthead") == 0)
        return run_xthead();
    fprintf(stderr, "usage: %s scalar N | vadd | lmul | xthead | vmaqa\n", argv[0]);
    return 2;
}
