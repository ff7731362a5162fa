/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): softmax / log-softmax along one
 * axis, float32 and float16. Same signature, params and semantics as ref/softmax.c; exp is
 * the polynomial of hhbc_c906_eltwise.h (max relative error 1.2e-7), log(sum) is scalar.
 *  - inner == 1 (the axis is contiguous): each row in strips of 16 at e32,m4; max and sum
 *    are folded with vfredmax / vfredsum into element 0 of v20 / v24.
 *  - inner > 1: the vector runs along inner (16 columns per strip) and the axis is walked
 *    with loads of stride inner; max in v24, sum in v28. log-softmax with inner > 1 is
 *    refused by the table's supports predicate (scalar C should it arrive anyway).
 * float32 stores exp(x - max) in the first pass and divides it in place; float16 keeps
 * every intermediate in float32 and recomputes exp(x - max) in the last pass, so the
 * output is rounded to half once.
 */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

HHBC_C906_INLINE void hhbc_c906_softmax_load(const void *p, int is16, size_t vl)
{
    if (is16) hhbc_c906_load_f16_v8((const _Float16 *)p, vl);
    else HV_VLE(v8, p);
}

HHBC_C906_INLINE void hhbc_c906_softmax_store(void *p, int is16, size_t vl)
{
    if (is16) hhbc_c906_store_f16_v8((_Float16 *)p, vl);
    else HV_VSE(v8, p);
}

HHBC_C906_INLINE float hhbc_c906_softmax_get(const void *base, size_t i, int is16)
{
    return is16 ? (float)((const _Float16 *)base)[i] : ((const float *)base)[i];
}

static void hhbc_c906_softmax_row(const char *x, char *y, int32_t axis_n, int log_sm, int is16)
{
    const size_t esz = is16 ? 2 : 4;
    size_t n, vl;
    const char *xs;
    char *ys;
    float max = hhbc_c906_softmax_get(x, 0, is16), sum, t;

    HV_VSETVLI(vl, (size_t)1, HV_E32M4);
    HV_VFMV_V_F(v20, max);
    for (n = (size_t)axis_n, xs = x; n > 0; n -= vl, xs += vl * esz) {
        HV_VSETVLI(vl, n, HV_E32M4);
        hhbc_c906_softmax_load(xs, is16, vl);
        HV_VFREDMAX_VS(v20, v8, v20);
    }
    HV_VFMV_F_S(max, v20);
    HV_VFMV_V_F(v24, 0.0f);
    for (n = (size_t)axis_n, xs = x, ys = y; n > 0; n -= vl, xs += vl * esz, ys += vl * esz) {
        HV_VSETVLI(vl, n, HV_E32M4);
        hhbc_c906_softmax_load(xs, is16, vl);
        HV_VFSUB_VF(v8, v8, max);
        hhbc_c906_exp_v8();
        if (!is16 && !log_sm) HV_VSE(v8, ys);
        HV_VFREDSUM_VS(v24, v8, v24);
    }
    HV_VFMV_F_S(sum, v24);
    t = log_sm ? logf(sum) : sum;
    for (n = (size_t)axis_n, xs = x, ys = y; n > 0; n -= vl, xs += vl * esz, ys += vl * esz) {
        HV_VSETVLI(vl, n, HV_E32M4);
        if (log_sm) {
            hhbc_c906_softmax_load(xs, is16, vl);
            HV_VFSUB_VF(v8, v8, max);
            HV_VFSUB_VF(v8, v8, t);
        } else if (is16) {
            hhbc_c906_softmax_load(xs, is16, vl);
            HV_VFSUB_VF(v8, v8, max);
            hhbc_c906_exp_v8();
            HV_VFDIV_VF(v8, v8, t);
        } else {
            HV_VLE(v8, ys);
            HV_VFDIV_VF(v8, v8, t);
        }
        hhbc_c906_softmax_store(ys, is16, vl);
    }
}

/* load vl columns of row a (stride inner elements between rows) into v8 */
HHBC_C906_INLINE void hhbc_c906_softmax_cols(const char *x, int is16, size_t vl)
{
    hhbc_c906_softmax_load(x, is16, vl);
}

static void hhbc_c906_softmax_inner(const char *x, char *y, int32_t axis_n, int32_t inner, int is16)
{
    const size_t esz = is16 ? 2 : 4;
    const ptrdiff_t row = (ptrdiff_t)inner * (ptrdiff_t)esz;
    size_t n, vl;

    for (n = (size_t)inner; n > 0; n -= vl, x += vl * esz, y += vl * esz) {
        HV_VSETVLI(vl, n, HV_E32M4);
        hhbc_c906_softmax_cols(x, is16, vl);
        HV_VFSGNJ_VV(v24, v8, v8);
        for (int32_t a = 1; a < axis_n; a++) {
            hhbc_c906_softmax_cols(x + a * row, is16, vl);
            HV_VFMAX_VV(v24, v24, v8);
        }
        HV_VFMV_V_F(v28, 0.0f);
        for (int32_t a = 0; a < axis_n; a++) {
            hhbc_c906_softmax_cols(x + a * row, is16, vl);
            HV_VFSUB_VV(v8, v8, v24);
            hhbc_c906_exp_v8();
            if (!is16) HV_VSE(v8, y + a * row);
            HV_VFADD_VV(v28, v28, v8);
        }
        for (int32_t a = 0; a < axis_n; a++) {
            if (is16) {
                hhbc_c906_softmax_cols(x + a * row, is16, vl);
                HV_VFSUB_VV(v8, v8, v24);
                hhbc_c906_exp_v8();
            } else {
                HV_VLE(v8, y + a * row);
            }
            HV_VFDIV_VV(v8, v8, v28);
            hhbc_c906_softmax_store(y + a * row, is16, vl);
        }
    }
}

/* log-softmax with inner > 1 (refused by supports): scalar C */
static void hhbc_c906_log_softmax_scalar(const char *x, char *y, int32_t axis_n, int32_t inner, int is16)
{
    for (int32_t i = 0; i < inner; i++) {
        float max = hhbc_c906_softmax_get(x, (size_t)i, is16), sum = 0.0f;
        for (int32_t a = 1; a < axis_n; a++) max = fmaxf(max, hhbc_c906_softmax_get(x, (size_t)a * inner + i, is16));
        for (int32_t a = 0; a < axis_n; a++) sum += expf(hhbc_c906_softmax_get(x, (size_t)a * inner + i, is16) - max);
        const float ls = logf(sum);
        for (int32_t a = 0; a < axis_n; a++) {
            const size_t k = (size_t)a * inner + i;
            const float v = (hhbc_c906_softmax_get(x, k, is16) - max) - ls;
            if (is16) ((_Float16 *)y)[k] = (_Float16)v; else ((float *)y)[k] = v;
        }
    }
}

static void hhbc_c906_softmax(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_softmax_params *p,
                              int is16)
{
    const size_t esz = is16 ? 2 : 4;
    const size_t block = (size_t)p->axis_size * (size_t)p->inner * esz;

    for (int32_t o = 0; o < p->outer; o++) {
        const char *x = (const char *)in->data + o * block;
        char *y = (char *)out->data + o * block;
        if (p->inner == 1) hhbc_c906_softmax_row(x, y, p->axis_size, p->log, is16);
        else if (!p->log) hhbc_c906_softmax_inner(x, y, p->axis_size, p->inner, is16);
        else hhbc_c906_log_softmax_scalar(x, y, p->axis_size, p->inner, is16);
    }
}

void hhbc_softmax_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_softmax_params *p)
{
    hhbc_c906_softmax(in, out, p, 0);
}

void hhbc_softmax_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_softmax_params *p)
{
    hhbc_c906_softmax(in, out, p, 1);
}
