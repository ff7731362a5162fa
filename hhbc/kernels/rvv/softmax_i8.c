/*
 * hhbc rvv variant: softmax along one axis, int8 (TFLite SOFTMAX, output scale 1/256, zero point
 * -128), RVV 1.0 intrinsics, VLEN-agnostic. Same params and results as ref/softmax_i8.c, bit for bit.
 * d = max(x) - x takes 256 values at most, so exp stays the reference's scalar gemmlowp code, run
 * once per distinct d into a table (Q0.31, 0 where -d < diff_min), for the d the rows need: a
 * scalar pass over a row fills the entries it lacks, skipped once the table holds every d up to
 * the row's max - min (a 12-class row costs 12 exps; the reference takes 2 per element).
 * Per row the vector code then does: max (vredmax), the sum of
 * rdbpot(e, 12) (gathered e, vssra with rnu: e >= 0 has no negative ties; wrapping sums as the
 * reference's), and each output rdbpot(srdhm(1 / sum, e), exponent) - 128: srdhm is vsmul with
 * rnu, rdbpot of a non-negative value vssra with rnu; an excluded lane has e = 0, so -128 as in
 * the reference. The reciprocal is the reference's scalar Newton-Raphson. Rows whose exponent
 * exceeds 31 (sums >= 2^28) take the reference's scalar output loop.
 * inner == 1: a row is contiguous, vectorized along the axis; inner > 1: up to 64 rows at once,
 * one per lane (contiguous across inner), stepping along the axis.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hhbc_rvv_i8.h"

#define HHBC_RVV_SOFTMAX_LANES 64

typedef struct hhbc_rvv_softmax_tab {
    int32_t e[256];     /* e[d] = exp(-d ...) in Q0.31, valid where ok[d] */
    uint8_t ok[256];
    int32_t complete;   /* entries 0 .. complete - 1 are all valid */
} hhbc_rvv_softmax_tab;

static void hhbc_rvv_softmax_entry(hhbc_rvv_softmax_tab *t, const hhbc_softmax_i8_params *p, int32_t d)
{
    const int32_t diff = -d;
    int32_t e = 0;
    if (diff >= p->diff_min)
        e = hhbc_fp_exp_on_negative_values(hhbc_fp_mul_by_qm(diff, p->input_multiplier, p->input_left_shift), 5);
    t->e[d] = e;
    t->ok[d] = 1;
}

/* makes the entries of n elements (stride apart) valid, max their largest value, range max - min:
 * exp runs once per distinct d, only for the d the elements need */
static void hhbc_rvv_softmax_fill(hhbc_rvv_softmax_tab *t, const hhbc_softmax_i8_params *p, const int8_t *src,
                                  size_t stride, int32_t n, int32_t max, int32_t range)
{
    if (range < t->complete) return;
    for (int32_t c = 0; c < n; c++) {
        const int32_t d = max - src[(size_t)c * stride];
        if (!t->ok[d]) hhbc_rvv_softmax_entry(t, p, d);
    }
    while (t->complete < 256 && t->ok[t->complete]) t->complete++;
}

/* 1 / sum (Q0.31) and the output exponent of one row, as the reference */
static int32_t hhbc_rvv_softmax_recip(int32_t sum, int32_t *exponent)
{
    const int32_t headroom = hhbc_fp_clz((uint32_t)sum);
    const int32_t f = hhbc_fp_from_u32(((uint32_t)sum << headroom) - 0x80000000u);
    *exponent = 12 - headroom + 31 - 8;
    return hhbc_fp_one_over_one_plus_x(f);
}

/* the table entries of the lanes: e[max - x] */
static inline vint32m4_t hhbc_rvv_softmax_gather(const hhbc_rvv_softmax_tab *t, vint8m1_t x, vint32m4_t max,
                                                 size_t vl)
{
    vint32m4_t d = __riscv_vsub_vv_i32m4(max, __riscv_vsext_vf4_i32m4(x, vl), vl);
    vuint32m4_t off = __riscv_vsll_vx_u32m4(__riscv_vreinterpret_v_i32m4_u32m4(d), 2, vl);
    return __riscv_vluxei32_v_i32m4(t->e, off, vl);
}

static inline void hhbc_rvv_softmax_store(int8_t *dst, vint32m4_t e, vint32m4_t recip, vint32m4_t exponent,
                                          size_t vl)
{
    vint32m4_t y = __riscv_vsmul_vv_i32m4(e, recip, __RISCV_VXRM_RNU, vl);
    y = __riscv_vssra_vv_i32m4(y, __riscv_vreinterpret_v_i32m4_u32m4(exponent), __RISCV_VXRM_RNU, vl);
    y = __riscv_vadd_vx_i32m4(y, INT8_MIN, vl);
    __riscv_vse8_v_i8m1(dst, hhbc_rvv_narrow_i8m4(y, INT8_MIN, INT8_MAX, vl), vl);
}

/* the reference's output loop of one row (exponent > 31) */
static void hhbc_rvv_softmax_row_scalar(const hhbc_rvv_softmax_tab *t, const int8_t *src, int8_t *dst,
                                        size_t stride, int32_t n, int32_t max, int32_t recip, int32_t exponent)
{
    for (int32_t c = 0; c < n; c++) {
        const size_t k = (size_t)c * stride;
        const int32_t y = hhbc_fp_rdbpot(hhbc_fp_srdhm(recip, t->e[max - src[k]]), exponent) + INT8_MIN;
        dst[k] = (int8_t)hhbc_fp_clamp(y, INT8_MIN, INT8_MAX);
    }
}

/* one contiguous row of n elements */
static void hhbc_rvv_softmax_row(hhbc_rvv_softmax_tab *t, const hhbc_softmax_i8_params *p, const int8_t *src,
                                 int8_t *dst, int32_t n)
{
    const size_t vlmax = __riscv_vsetvlmax_e8m1();
    vint8m1_t vmax = __riscv_vmv_v_x_i8m1(INT8_MIN, vlmax), vmin = __riscv_vmv_v_x_i8m1(INT8_MAX, vlmax);
    size_t vl;
    for (int32_t c = 0; c < n; c += (int32_t)vl) {
        vl = __riscv_vsetvl_e8m1((size_t)(n - c));
        vint8m1_t x = __riscv_vle8_v_i8m1(src + c, vl);
        vmax = __riscv_vmax_vv_i8m1_tu(vmax, vmax, x, vl);
        vmin = __riscv_vmin_vv_i8m1_tu(vmin, vmin, x, vl);
    }
    const int32_t max = __riscv_vmv_x_s_i8m1_i8(__riscv_vredmax_vs_i8m1_i8m1(vmax, vmax, vlmax));
    const int32_t min = __riscv_vmv_x_s_i8m1_i8(__riscv_vredmin_vs_i8m1_i8m1(vmin, vmin, vlmax));
    hhbc_rvv_softmax_fill(t, p, src, 1, n, max, max - min);

    const size_t vlmax32 = __riscv_vsetvlmax_e32m4();
    const vint32m4_t vmax32 = __riscv_vmv_v_x_i32m4(max, vlmax32);
    vint32m4_t acc = __riscv_vmv_v_x_i32m4(0, vlmax32);
    for (int32_t c = 0; c < n; c += (int32_t)vl) {
        vl = __riscv_vsetvl_e32m4((size_t)(n - c));
        vint32m4_t e = hhbc_rvv_softmax_gather(t, __riscv_vle8_v_i8m1(src + c, vl), vmax32, vl);
        acc = __riscv_vadd_vv_i32m4_tu(acc, acc, __riscv_vssra_vx_i32m4(e, 12, __RISCV_VXRM_RNU, vl), vl);
    }
    const int32_t sum = __riscv_vmv_x_s_i32m1_i32(
        __riscv_vredsum_vs_i32m4_i32m1(acc, __riscv_vmv_s_x_i32m1(0, 1), vlmax32));
    int32_t exponent;
    const int32_t recip = hhbc_rvv_softmax_recip(sum, &exponent);
    if (exponent > 31) {
        hhbc_rvv_softmax_row_scalar(t, src, dst, 1, n, max, recip, exponent);
        return;
    }
    const vint32m4_t vrecip = __riscv_vmv_v_x_i32m4(recip, vlmax32), vexp = __riscv_vmv_v_x_i32m4(exponent, vlmax32);
    for (int32_t c = 0; c < n; c += (int32_t)vl) {
        vl = __riscv_vsetvl_e32m4((size_t)(n - c));
        vint32m4_t e = hhbc_rvv_softmax_gather(t, __riscv_vle8_v_i8m1(src + c, vl), vmax32, vl);
        hhbc_rvv_softmax_store(dst + c, e, vrecip, vexp, vl);
    }
}

/* vl <= 64 rows side by side (lanes contiguous, stride `inner` along the axis) */
static void hhbc_rvv_softmax_cols(hhbc_rvv_softmax_tab *t, const hhbc_softmax_i8_params *p, const int8_t *src,
                                  int8_t *dst, size_t vl)
{
    const size_t stride = (size_t)p->inner;
    const int32_t n = p->axis_size;
    vint8m1_t vmax = __riscv_vle8_v_i8m1(src, vl), vmin = vmax;
    for (int32_t c = 1; c < n; c++) {
        vint8m1_t x = __riscv_vle8_v_i8m1(src + (size_t)c * stride, vl);
        vmax = __riscv_vmax_vv_i8m1(vmax, x, vl);
        vmin = __riscv_vmin_vv_i8m1(vmin, x, vl);
    }
    const vint8m1_t vrange = __riscv_vsub_vv_i8m1(vmax, vmin, vl);   /* as uint8: 0 .. 255 */
    const int32_t range = __riscv_vmv_x_s_u8m1_u8(__riscv_vredmaxu_vs_u8m1_u8m1(
        __riscv_vreinterpret_v_i8m1_u8m1(vrange), __riscv_vmv_s_x_u8m1(0, 1), vl));
    if (range >= t->complete) {
        int8_t m[HHBC_RVV_SOFTMAX_LANES];
        __riscv_vse8_v_i8m1(m, vmax, vl);
        for (size_t j = 0; j < vl; j++) hhbc_rvv_softmax_fill(t, p, src + j, stride, n, m[j], range);
    }

    const vint32m4_t vmax32 = __riscv_vsext_vf4_i32m4(vmax, vl);
    vint32m4_t acc = __riscv_vmv_v_x_i32m4(0, vl);
    for (int32_t c = 0; c < n; c++) {
        vint32m4_t e = hhbc_rvv_softmax_gather(t, __riscv_vle8_v_i8m1(src + (size_t)c * stride, vl), vmax32, vl);
        acc = __riscv_vadd_vv_i32m4(acc, __riscv_vssra_vx_i32m4(e, 12, __RISCV_VXRM_RNU, vl), vl);
    }
    int32_t sums[HHBC_RVV_SOFTMAX_LANES], recip[HHBC_RVV_SOFTMAX_LANES], expo[HHBC_RVV_SOFTMAX_LANES];
    int8_t maxs[HHBC_RVV_SOFTMAX_LANES];
    __riscv_vse32_v_i32m4(sums, acc, vl);
    int scalar = 0;
    for (size_t j = 0; j < vl; j++) {
        recip[j] = hhbc_rvv_softmax_recip(sums[j], &expo[j]);
        scalar |= expo[j] > 31;
    }
    if (scalar) {
        __riscv_vse8_v_i8m1(maxs, vmax, vl);
        for (size_t j = 0; j < vl; j++)
            hhbc_rvv_softmax_row_scalar(t, src + j, dst + j, stride, n, maxs[j], recip[j], expo[j]);
        return;
    }
    const vint32m4_t vrecip = __riscv_vle32_v_i32m4(recip, vl), vexp = __riscv_vle32_v_i32m4(expo, vl);
    for (int32_t c = 0; c < n; c++) {
        const size_t k = (size_t)c * stride;
        vint32m4_t e = hhbc_rvv_softmax_gather(t, __riscv_vle8_v_i8m1(src + k, vl), vmax32, vl);
        hhbc_rvv_softmax_store(dst + k, e, vrecip, vexp, vl);
    }
}

void hhbc_softmax_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_softmax_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    hhbc_rvv_softmax_tab t;
    memset(t.ok, 0, sizeof t.ok);
    t.complete = 0;
    const size_t row = (size_t)p->axis_size * (size_t)p->inner;
    for (int32_t o = 0; o < p->outer; o++) {
        if (p->inner == 1) {
            hhbc_rvv_softmax_row(&t, p, src + (size_t)o * row, dst + (size_t)o * row, p->axis_size);
            continue;
        }
        size_t vl;
        for (size_t i = 0; i < (size_t)p->inner; i += vl) {
            const size_t rest = (size_t)p->inner - i;
            vl = __riscv_vsetvl_e32m4(rest < HHBC_RVV_SOFTMAX_LANES ? rest : HHBC_RVV_SOFTMAX_LANES);
            hhbc_rvv_softmax_cols(&t, p, src + (size_t)o * row + i, dst + (size_t)o * row + i, vl);
        }
    }
}
