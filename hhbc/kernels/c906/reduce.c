/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): reduction (mean, sum, max, min),
 * float32 and float16. Same signature, params and semantics as ref/reduce.c.
 * The reduced axes must form one block (axes of extent 1 ignored): the input is then
 * [A][R][C] and the output [A][C], which covers what the graphs produce (global average
 * pool = mean over H, W of NHWC: C = channels; mean / max over the last axes: C = 1).
 *  - C > 1: vector along C (float32: 32 lanes at e32,m8; float16: 16 lanes at e32,m4 after
 *    the widening load), the R rows folded into v24 with one load
 *    and one vfadd/vfmax/vfmin per row and strip;
 *  - C == 1: each run of R contiguous values folded with vfredsum/vfredmax/vfredmin into
 *    element 0 of v24.
 * float16 loads are widened (e16,m2 -> e32,m4), sums run in float32, the result is rounded
 * to half once. MEAN divides by reduce_count at the end, as ref. Other axis sets are
 * refused by the table's supports predicate (and run in scalar C should they arrive).
 */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

HHBC_C906_INLINE void hhbc_c906_reduce_load(const char *p, int is16, size_t vl)
{
    if (is16) hhbc_c906_load_f16_v8((const _Float16 *)p, vl);
    else HV_VLE(v8, p);
}

HHBC_C906_INLINE float hhbc_c906_reduce_get(const void *base, size_t i, int is16)
{
    return is16 ? (float)((const _Float16 *)base)[i] : ((const float *)base)[i];
}

HHBC_C906_INLINE void hhbc_c906_reduce_put(void *base, size_t i, float v, int is16)
{
    if (is16) ((_Float16 *)base)[i] = (_Float16)v;
    else ((float *)base)[i] = v;
}

/* scalar C for axis sets that are not one block (ref's odometer) */
static void hhbc_c906_reduce_scalar(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p,
                                    int is16)
{
    const int32_t last = p->ndim - 1, inner = p->in_dim[last], os = p->out_stride[last];
    int32_t idx[HHBC_MAX_DIMS] = {0};
    int32_t outer = 1, ob = 0;
    size_t k = 0;
    float init = p->op == HHBC_RED_MAX ? -INFINITY : p->op == HHBC_RED_MIN ? INFINITY : 0.0f;
    /* accumulate in the output (float32) or, for float16, per output in float32 is not
       possible without scratch: fold in half (refused by supports anyway) */
    for (int32_t i = 0; i < p->out_size; i++) hhbc_c906_reduce_put(out->data, (size_t)i, init, is16);
    for (int32_t i = 0; i < last; i++) outer *= p->in_dim[i];
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t j = 0; j < inner; j++, k++) {
            const size_t d = (size_t)(ob + j * os);
            const float x = hhbc_c906_reduce_get(in->data, k, is16), y = hhbc_c906_reduce_get(out->data, d, is16);
            const float v = p->op == HHBC_RED_MAX ? fmaxf(y, x) : p->op == HHBC_RED_MIN ? fminf(y, x) : y + x;
            hhbc_c906_reduce_put(out->data, d, v, is16);
        }
        for (int32_t ax = last - 1; ax >= 0; ax--) {
            idx[ax]++;
            ob += p->out_stride[ax];
            if (idx[ax] < p->in_dim[ax]) break;
            ob -= p->out_stride[ax] * p->in_dim[ax];
            idx[ax] = 0;
        }
    }
    if (p->op == HHBC_RED_MEAN)
        for (int32_t i = 0; i < p->out_size; i++)
            hhbc_c906_reduce_put(out->data, (size_t)i,
                                 hhbc_c906_reduce_get(out->data, (size_t)i, is16) / (float)p->reduce_count, is16);
}

static void hhbc_c906_reduce(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p, int is16)
{
    const size_t esz = is16 ? 2 : 4;
    int32_t first = -1, lastr = -1, a_n = 1, r_n = 1, c_n = 1, ok = 1;
    const float count = (float)p->reduce_count;
    size_t vl;

    for (int32_t i = 0; i < p->ndim; i++) {
        if (p->in_dim[i] == 1 || p->out_stride[i] != 0) continue;
        if (first < 0) first = i;
        lastr = i;
    }
    for (int32_t i = 0; i < p->ndim; i++) {
        const int32_t d = p->in_dim[i];
        if (d == 1) continue;
        if (first < 0 || i < first) a_n *= d;
        else if (i > lastr) c_n *= d;
        else if (p->out_stride[i] == 0) r_n *= d;
        else ok = 0;   /* a kept axis between reduced ones */
    }
    if (!ok) {
        hhbc_c906_reduce_scalar(in, out, p, is16);
        return;
    }

    const char *x = (const char *)in->data;
    char *y = (char *)out->data;
    if (c_n > 1 || r_n == 1) {
        const ptrdiff_t row = (ptrdiff_t)c_n * (ptrdiff_t)esz;
        for (int32_t a = 0; a < a_n; a++, x += (size_t)r_n * (size_t)row) {
            size_t n = (size_t)c_n;
            for (size_t c = 0; n > 0; n -= vl, c += vl, y += vl * esz) {
                if (is16) HV_VSETVLI(vl, n, HV_E32M4); else HV_VSETVLI(vl, n, HV_E32M8);
                hhbc_c906_reduce_load(x + c * esz, is16, vl);
                HV_VFSGNJ_VV(v24, v8, v8);
                for (int32_t r = 1; r < r_n; r++) {
                    hhbc_c906_reduce_load(x + c * esz + r * row, is16, vl);
                    switch (p->op) {
                    case HHBC_RED_MAX: HV_VFMAX_VV(v24, v24, v8); break;
                    case HHBC_RED_MIN: HV_VFMIN_VV(v24, v24, v8); break;
                    default: HV_VFADD_VV(v24, v24, v8); break;
                    }
                }
                if (p->op == HHBC_RED_MEAN) HV_VFDIV_VF(v8, v24, count);
                else HV_VFSGNJ_VV(v8, v24, v24);
                if (is16) hhbc_c906_store_f16_v8((_Float16 *)y, vl);
                else HV_VSE(v8, y);
            }
        }
        return;
    }

    /* C == 1: horizontal folds of R contiguous values */
    for (int32_t a = 0; a < a_n; a++) {
        size_t n = (size_t)r_n;
        float v = p->op == HHBC_RED_MEAN || p->op == HHBC_RED_SUM ? 0.0f : hhbc_c906_reduce_get(x, 0, is16);
        HV_VSETVLI(vl, (size_t)1, HV_E32M4);
        HV_VFMV_V_F(v24, v);
        for (; n > 0; n -= vl, x += vl * esz) {
            if (is16) HV_VSETVLI(vl, n, HV_E32M4); else HV_VSETVLI(vl, n, HV_E32M8);
            hhbc_c906_reduce_load(x, is16, vl);
            switch (p->op) {
            case HHBC_RED_MAX: HV_VFREDMAX_VS(v24, v8, v24); break;
            case HHBC_RED_MIN: HV_VFREDMIN_VS(v24, v8, v24); break;
            default: HV_VFREDSUM_VS(v24, v8, v24); break;
            }
        }
        HV_VFMV_F_S(v, v24);
        if (p->op == HHBC_RED_MEAN) v /= count;
        hhbc_c906_reduce_put(y, (size_t)a, v, is16);
    }
}

void hhbc_reduce_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p)
{
    hhbc_c906_reduce(in, out, p, 0);
}

void hhbc_reduce_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p)
{
    hhbc_c906_reduce(in, out, p, 1);
}
