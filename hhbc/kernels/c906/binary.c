/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): elementwise binary op with numpy
 * broadcasting and a fused activation, float32 and float16. Same signature, params and
 * semantics as ref/binary.c. ADD, SUB, MUL, DIV, MAX, MIN in vector; POW is refused by
 * the table's supports predicate (and runs in scalar C should it arrive anyway).
 *
 * Paths: (1) a and b dense like out: one flat loop; (2) one operand a single value and the
 * other dense: flat loop with .vf ops (vfrsub/vfrdiv when the scalar is the left operand);
 * (3) otherwise the axes are first merged where both operands allow it, then the last
 * axis is the vector loop (unit-stride or strided/zero-stride loads) and the outer axes
 * advance as an odometer (a per-channel row broadcast becomes [rows][C]).
 * Strips of 16 lanes at e32,m4: a in v8, b in v16 (float16: loaded at e16,m2 into v4/v6,
 * widened, computed and activated in float32, narrowed once before the store); float32
 * with both operands dense and an act that needs no scratch register: 32 lanes at e32,m8;
 * float16 likewise for ADD, SUB, MUL, MAX, MIN: computed in half, 64 lanes at e16,m8 (each
 * op rounds once, as the float32 result rounded to half does, but for the rare sum whose
 * float32 rounding already lost bits).
 */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

/* v8 = v8 op v16 */
HHBC_C906_INLINE void hhbc_c906_binary_vv(hhbc_binary_op op)
{
    switch (op) {
    case HHBC_BIN_ADD: HV_VFADD_VV(v8, v8, v16); break;
    case HHBC_BIN_SUB: HV_VFSUB_VV(v8, v8, v16); break;
    case HHBC_BIN_MUL: HV_VFMUL_VV(v8, v8, v16); break;
    case HHBC_BIN_DIV: HV_VFDIV_VV(v8, v8, v16); break;
    case HHBC_BIN_MAX: HV_VFMAX_VV(v8, v8, v16); break;
    case HHBC_BIN_MIN: HV_VFMIN_VV(v8, v8, v16); break;
    default: break;
    }
}

/* v8 = v8 op s (s_left: s op v8) */
HHBC_C906_INLINE void hhbc_c906_binary_vf(hhbc_binary_op op, float s, int s_left)
{
    switch (op) {
    case HHBC_BIN_ADD: HV_VFADD_VF(v8, v8, s); break;
    case HHBC_BIN_SUB: if (s_left) HV_VFRSUB_VF(v8, v8, s); else HV_VFSUB_VF(v8, v8, s); break;
    case HHBC_BIN_MUL: HV_VFMUL_VF(v8, v8, s); break;
    case HHBC_BIN_DIV: if (s_left) HV_VFRDIV_VF(v8, v8, s); else HV_VFDIV_VF(v8, v8, s); break;
    case HHBC_BIN_MAX: HV_VFMAX_VF(v8, v8, s); break;
    case HHBC_BIN_MIN: HV_VFMIN_VF(v8, v8, s); break;
    default: break;
    }
}

/* vl elements at p with element stride s (0 broadcasts) into v8 / v16, float32 at e32,m4,
 * float16 through e16,m2 and a widening convert (vtype e32,m4 again on return). */
HHBC_C906_INLINE void hhbc_c906_binary_load(int which, const void *p, int32_t s, int is16, size_t vl)
{
    size_t t;
    const ptrdiff_t bytes = (ptrdiff_t)s * (is16 ? 2 : 4);
    if (is16) {
        HV_VSETVLI(t, vl, HV_E16M2);
        if (which == 0) {
            if (s == 1) HV_VLE(v4, p); else HV_VLSE(v4, p, bytes);
            HV_VFWCVT_F_F_V(v8, v4);
        } else {
            if (s == 1) HV_VLE(v6, p); else HV_VLSE(v6, p, bytes);
            HV_VFWCVT_F_F_V(v16, v6);
        }
        HV_VSETVLI(t, vl, HV_E32M4);
        (void)t;
    } else if (which == 0) {
        if (s == 1) HV_VLE(v8, p); else HV_VLSE(v8, p, bytes);
    } else {
        if (s == 1) HV_VLE(v16, p); else HV_VLSE(v16, p, bytes);
    }
}

HHBC_C906_INLINE void hhbc_c906_binary_store(void *p, int is16, size_t vl)
{
    if (is16) hhbc_c906_store_f16_v8((_Float16 *)p, vl);
    else HV_VSE(v8, p);
}

static float hhbc_c906_binary_scalar(hhbc_binary_op op, float x, float y)
{
    switch (op) {
    case HHBC_BIN_ADD: return x + y;
    case HHBC_BIN_SUB: return x - y;
    case HHBC_BIN_MUL: return x * y;
    case HHBC_BIN_DIV: return x / y;
    case HHBC_BIN_MAX: return fmaxf(x, y);
    case HHBC_BIN_MIN: return fminf(x, y);
    case HHBC_BIN_POW: return powf(x, y);
    default: return x;
    }
}

HHBC_C906_INLINE float hhbc_c906_binary_get(const void *base, int32_t i, int is16)
{
    return is16 ? (float)((const _Float16 *)base)[i] : ((const float *)base)[i];
}

/* One body, instantiated for float32 and float16 (is16 is a constant at each call). */
HHBC_C906_INLINE void hhbc_c906_binary(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                                       const hhbc_binary_params *p, int is16)
{
    /* the params in locals: the asm memory clobbers would reload them from *p */
    const hhbc_binary_op op = p->op;
    const hhbc_act_kind ak = p->act.kind;
    const float alo = p->act.lo, ahi = p->act.hi, aal = p->act.alpha;
    const size_t esz = is16 ? 2 : 4;
    const char *pa = (const char *)a->data, *pb = (const char *)b->data;
    char *dst = (char *)out->data;
    int32_t dim[HHBC_MAX_DIMS], sa[HHBC_MAX_DIMS], sb[HHBC_MAX_DIMS];
    int32_t nd = 0, total = 1;
    int a_dense = 1, b_dense = 1, a_one = 1, b_one = 1;
    size_t vl;

    /* drop unit axes, note density, merge axes both operands walk alike */
    for (int32_t i = 0; i < p->ndim; i++) {
        if (p->out_dim[i] == 1) continue;
        if (nd > 0 && sa[nd - 1] == p->a_stride[i] * p->out_dim[i] && sb[nd - 1] == p->b_stride[i] * p->out_dim[i]) {
            dim[nd - 1] *= p->out_dim[i];
            sa[nd - 1] = p->a_stride[i];
            sb[nd - 1] = p->b_stride[i];
            continue;
        }
        dim[nd] = p->out_dim[i];
        sa[nd] = p->a_stride[i];
        sb[nd] = p->b_stride[i];
        nd++;
    }
    for (int32_t i = 0; i < nd; i++) total *= dim[i];
    if (nd == 0) { dim[0] = 1; sa[0] = sb[0] = 0; nd = 1; }
    a_dense = nd == 1 && (sa[0] == 1 || dim[0] == 1);
    b_dense = nd == 1 && (sb[0] == 1 || dim[0] == 1);
    for (int32_t i = 0; i < nd; i++) {
        a_one &= sa[i] == 0 || dim[i] == 1;
        b_one &= sb[i] == 0 || dim[i] == 1;
    }

    if (op == HHBC_BIN_POW || op > HHBC_BIN_POW) {   /* scalar fallback (refused by supports) */
        int32_t idx[HHBC_MAX_DIMS] = {0};
        for (int32_t o = 0; o < total; o++) {
            int32_t ia = 0, ib = 0;
            for (int32_t i = 0; i < nd; i++) { ia += idx[i] * sa[i]; ib += idx[i] * sb[i]; }
            const float v = hhbc_act_apply(hhbc_c906_binary_scalar(op, hhbc_c906_binary_get(pa, ia, is16),
                                                                   hhbc_c906_binary_get(pb, ib, is16)), &p->act);
            if (is16) ((_Float16 *)dst)[o] = (_Float16)v; else ((float *)dst)[o] = v;
            for (int32_t ax = nd - 1; ax >= 0; ax--) { if (++idx[ax] < dim[ax]) break; idx[ax] = 0; }
        }
        return;
    }

    if ((a_dense && (b_dense || b_one)) || (a_one && b_dense)) {
        const int scalar_b = !b_dense, scalar_a = !a_dense;
        const float s = scalar_b ? hhbc_c906_binary_get(pb, 0, is16)
                      : scalar_a ? hhbc_c906_binary_get(pa, 0, is16) : 0.0f;
        size_t n = (size_t)total;
        if (!is16 && !scalar_a && !scalar_b && ak != HHBC_ACT_HARDSWISH && ak != HHBC_ACT_SIGMOID) {
            /* float32, both dense, an act without scratch registers: 32 lanes at e32,m8 */
            for (; n > 0; n -= vl, pa += vl * 4, pb += vl * 4, dst += vl * 4) {
                HV_VSETVLI(vl, n, HV_E32M8);
                HV_VLE(v8, pa);
                HV_VLE(v16, pb);
                hhbc_c906_binary_vv(op);
                hhbc_c906_act_v8(ak, alo, ahi, aal);
                HV_VSE(v8, dst);
            }
            return;
        }
        if (is16 && !scalar_a && !scalar_b && op != HHBC_BIN_DIV && hhbc_c906_act_simple(ak)) {
            /* float16, both dense, +-*, max, min and a simple act: in half, 64 lanes at e16,m8
               (one rounding per op, as the float32 result rounded to half) */
            const _Float16 hlo = (_Float16)alo, hhi = (_Float16)ahi, hal = (_Float16)aal;
            for (; n > 0; n -= vl, pa += vl * 2, pb += vl * 2, dst += vl * 2) {
                HV_VSETVLI(vl, n, HV_E16M8);
                HV_VLE(v8, pa);
                HV_VLE(v16, pb);
                hhbc_c906_binary_vv(op);
                hhbc_c906_act16_v8(ak, hlo, hhi, hal);
                HV_VSE(v8, dst);
            }
            return;
        }
        for (; n > 0; n -= vl, pa += vl * esz, pb += vl * esz, dst += vl * esz) {
            HV_VSETVLI(vl, n, HV_E32M4);
            if (scalar_a) {
                hhbc_c906_binary_load(0, pb, 1, is16, vl);
                hhbc_c906_binary_vf(op, s, 1);
                pa -= vl * esz;
            } else {
                hhbc_c906_binary_load(0, pa, 1, is16, vl);
                if (scalar_b) {
                    hhbc_c906_binary_vf(op, s, 0);
                    pb -= vl * esz;
                } else {
                    hhbc_c906_binary_load(1, pb, 1, is16, vl);
                    hhbc_c906_binary_vv(op);
                }
            }
            hhbc_c906_act_v8(ak, alo, ahi, aal);
            hhbc_c906_binary_store(dst, is16, vl);
        }
        return;
    }

    /* general: last axis in vector, outer axes as an odometer */
    {
        const int32_t last = nd - 1, inner = dim[last], s_a = sa[last], s_b = sb[last];
        int32_t idx[HHBC_MAX_DIMS] = {0};
        int32_t outer = total / inner;
        ptrdiff_t oa = 0, ob = 0;
        for (int32_t o = 0; o < outer; o++) {
            const char *xa = pa + oa * (ptrdiff_t)esz, *xb = pb + ob * (ptrdiff_t)esz;
            size_t n = (size_t)inner;
            for (; n > 0; n -= vl, dst += vl * esz) {
                HV_VSETVLI(vl, n, HV_E32M4);
                hhbc_c906_binary_load(0, xa, s_a, is16, vl);
                hhbc_c906_binary_load(1, xb, s_b, is16, vl);
                hhbc_c906_binary_vv(op);
                hhbc_c906_act_v8(ak, alo, ahi, aal);
                hhbc_c906_binary_store(dst, is16, vl);
                xa += (ptrdiff_t)vl * s_a * (ptrdiff_t)esz;
                xb += (ptrdiff_t)vl * s_b * (ptrdiff_t)esz;
            }
            for (int32_t ax = last - 1; ax >= 0; ax--) {
                idx[ax]++;
                oa += sa[ax];
                ob += sb[ax];
                if (idx[ax] < dim[ax]) break;
                oa -= (ptrdiff_t)sa[ax] * dim[ax];
                ob -= (ptrdiff_t)sb[ax] * dim[ax];
                idx[ax] = 0;
            }
        }
    }
}

void hhbc_binary_f32_c906(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                          const hhbc_binary_params *p)
{
    hhbc_c906_binary(a, b, out, p, 0);
}

void hhbc_binary_f16_c906(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                          const hhbc_binary_params *p)
{
    hhbc_c906_binary(a, b, out, p, 1);
}
