/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): elementwise unary op followed by
 * an activation, float32 and float16. Same signature, params and semantics as
 * ref/unary.c. Vector ops: ACT (every hhbc_act), TANH and EXP (polynomials, see
 * hhbc_c906_eltwise.h for their error), SQRT, RSQRT, ABS, NEG. LOG and ERF are refused by
 * the table's supports predicate; should they arrive anyway they run in scalar C.
 * Strips of 16 lanes at e32,m4 (float16: loaded at e16,m2, widened, computed in float32,
 * narrowed once before the store). ACT with NONE, RELU, CLIP or LEAKY_RELU needs no scratch:
 * 32 lanes at e32,m8, and float16 stays in half (64 lanes at e16,m8; exact but for the
 * leaky slope rounded to half).
 */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

HHBC_C906_INLINE int hhbc_c906_unary_vector(hhbc_unary_op op)
{
    return op != HHBC_UN_LOG && op != HHBC_UN_ERF;
}

/* v8 = act(op(v8)) at e32,m4. */
HHBC_C906_INLINE void hhbc_c906_unary_v8(hhbc_unary_op op, hhbc_act_kind ak, float alo, float ahi, float aal)
{
    switch (op) {
    case HHBC_UN_TANH: hhbc_c906_tanh_v8(); break;
    case HHBC_UN_EXP: hhbc_c906_exp_v8(); break;
    case HHBC_UN_SQRT: HV_VFSQRT_V(v8, v8); break;
    case HHBC_UN_RSQRT: HV_VFSQRT_V(v8, v8); HV_VFRDIV_VF(v8, v8, 1.0f); break;
    case HHBC_UN_ABS: HV_VFSGNJX_VV(v8, v8, v8); break;
    case HHBC_UN_NEG: HV_VFSGNJN_VV(v8, v8, v8); break;
    case HHBC_UN_ACT:
    default: break;
    }
    hhbc_c906_act_v8(ak, alo, ahi, aal);
}

static float hhbc_c906_unary_scalar(hhbc_unary_op op, float x)
{
    return op == HHBC_UN_LOG ? logf(x) : erff(x);
}

void hhbc_unary_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_unary_params *p)
{
    const float *src = (const float *)in->data;
    float *dst = (float *)out->data;
    size_t n = (size_t)p->size, vl;
    const hhbc_unary_op op = p->op;
    const hhbc_act_kind ak = p->act.kind;
    const float alo = p->act.lo, ahi = p->act.hi, aal = p->act.alpha;

    if (!hhbc_c906_unary_vector(p->op)) {
        for (size_t i = 0; i < n; i++) dst[i] = hhbc_act_apply(hhbc_c906_unary_scalar(p->op, src[i]), &p->act);
        return;
    }
    if (op == HHBC_UN_ACT && hhbc_c906_act_simple(ak)) {   /* 32 lanes at e32,m8 */
        for (; n > 0; n -= vl, src += vl, dst += vl) {
            HV_VSETVLI(vl, n, HV_E32M8);
            HV_VLE(v8, src);
            hhbc_c906_act_v8(ak, alo, ahi, aal);
            HV_VSE(v8, dst);
        }
        return;
    }
    for (; n > 0; n -= vl, src += vl, dst += vl) {
        HV_VSETVLI(vl, n, HV_E32M4);
        HV_VLE(v8, src);
        hhbc_c906_unary_v8(op, ak, alo, ahi, aal);
        HV_VSE(v8, dst);
    }
}

void hhbc_unary_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_unary_params *p)
{
    const _Float16 *src = (const _Float16 *)in->data;
    _Float16 *dst = (_Float16 *)out->data;
    size_t n = (size_t)p->size, vl;
    const hhbc_unary_op op = p->op;
    const hhbc_act_kind ak = p->act.kind;
    const float alo = p->act.lo, ahi = p->act.hi, aal = p->act.alpha;

    if (!hhbc_c906_unary_vector(p->op)) {
        for (size_t i = 0; i < n; i++)
            dst[i] = (_Float16)hhbc_act_apply(hhbc_c906_unary_scalar(p->op, (float)src[i]), &p->act);
        return;
    }
    if (op == HHBC_UN_ACT && hhbc_c906_act_simple(ak)) {   /* in half, 64 lanes at e16,m8 */
        const _Float16 hlo = (_Float16)alo, hhi = (_Float16)ahi, hal = (_Float16)aal;
        for (; n > 0; n -= vl, src += vl, dst += vl) {
            HV_VSETVLI(vl, n, HV_E16M8);
            HV_VLE(v8, src);
            hhbc_c906_act16_v8(ak, hlo, hhi, hal);
            HV_VSE(v8, dst);
        }
        return;
    }
    for (; n > 0; n -= vl, src += vl, dst += vl) {
        HV_VSETVLI(vl, n, HV_E32M4);
        hhbc_c906_load_f16_v8(src, vl);
        hhbc_c906_unary_v8(op, ak, alo, ahi, aal);
        hhbc_c906_store_f16_v8(dst, vl);
    }
}
