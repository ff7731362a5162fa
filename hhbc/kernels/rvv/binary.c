/*
 * hhbc rvv kernel: elementwise binary op with numpy broadcasting and the fused activation,
 * float32 and float16 (zvfh; computed in float32, rounded once). RVV 1.0 intrinsics,
 * VLEN-agnostic, e32 m4 strips (float16: e16 m2 loads widened). Same signature and params
 * as ref/binary.c; POW is refused by the table's supports predicate (it runs ref).
 *
 * Axes are first collapsed where both operands stay linear across them, so two contiguous
 * operands (or one contiguous and one scalar) become one run over the whole tensor. The
 * innermost remaining axis is the vector axis: an operand with stride 1 is a unit-stride
 * load, stride 0 a scalar (vfmv splat once per run), any other stride a strided load; the
 * outer axes (a per-channel broadcast gives rows of C) are walked by an odometer.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv.h"
#include "hhbc_rvv_math.h"

static inline vfloat32m4_t hhbc_rvv_binop(hhbc_binary_op op, vfloat32m4_t a, vfloat32m4_t b, size_t vl)
{
    switch (op) {
    case HHBC_BIN_SUB: return __riscv_vfsub_vv_f32m4(a, b, vl);
    case HHBC_BIN_MUL: return __riscv_vfmul_vv_f32m4(a, b, vl);
    case HHBC_BIN_DIV: return __riscv_vfdiv_vv_f32m4(a, b, vl);
    case HHBC_BIN_MAX: return __riscv_vfmax_vv_f32m4(a, b, vl);
    case HHBC_BIN_MIN: return __riscv_vfmin_vv_f32m4(a, b, vl);
    case HHBC_BIN_ADD:
    default: return __riscv_vfadd_vv_f32m4(a, b, vl);
    }
}

/* collapse the output axes; returns the new rank (>= 1) */
static int32_t hhbc_rvv_binary_dims(const hhbc_binary_params *p, int32_t *dim, int32_t *sa, int32_t *sb)
{
    int32_t nd = 0;
    for (int32_t i = 0; i < p->ndim; i++) {
        if (p->out_dim[i] == 1) continue;
        if (nd > 0 && sa[nd - 1] == p->a_stride[i] * p->out_dim[i]
            && sb[nd - 1] == p->b_stride[i] * p->out_dim[i]) {
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
    if (nd == 0) {
        dim[0] = 1;
        sa[0] = sb[0] = 0;
        nd = 1;
    }
    return nd;
}

/* One run of len outputs; op and the act class (0 none, 1 relu, 2 clip, 3 any other) are
 * compile-time constants at every call (always_inline), so the strip loop holds no switch. */
#define HHBC_RVV_DEFINE_BINARY_RUN(RUN, T, LD, LDS, ST)                                       \
static inline __attribute__((always_inline)) T *RUN(const T *pa, const T *pb, T *y,           \
        int32_t len, int32_t ia, int32_t ib, hhbc_binary_op op, int has_act, const hhbc_act *act) \
{                                                                                             \
    const float lo = act->lo, hi = act->hi;                                                   \
    size_t vl = __riscv_vsetvl_e32m4((size_t)len);                                            \
    vfloat32m4_t va = __riscv_vfmv_v_f_f32m4((float)*pa, vl);                                 \
    vfloat32m4_t vb = __riscv_vfmv_v_f_f32m4((float)*pb, vl);                                 \
    for (int32_t n = len; n > 0; n -= (int32_t)vl, y += vl) {                                 \
        vl = __riscv_vsetvl_e32m4((size_t)n);                                                 \
        if (ia == 1) { va = LD(pa, vl); pa += vl; }                                           \
        else if (ia != 0) { va = LDS(pa, ia, vl); pa += (ptrdiff_t)vl * ia; }                 \
        if (ib == 1) { vb = LD(pb, vl); pb += vl; }                                           \
        else if (ib != 0) { vb = LDS(pb, ib, vl); pb += (ptrdiff_t)vl * ib; }                 \
        vfloat32m4_t r = hhbc_rvv_binop(op, va, vb, vl);                                      \
        if (has_act == 1) r = __riscv_vfmax_vf_f32m4(r, 0.0f, vl);                            \
        else if (has_act == 2) r = __riscv_vfmin_vf_f32m4(__riscv_vfmax_vf_f32m4(r, lo, vl), hi, vl); \
        else if (has_act == 3) r = hhbc_rvv_act_f32m4(r, act, vl);                            \
        ST(y, r, vl);                                                                         \
    }                                                                                         \
    return y;                                                                                 \
}

/* every row (outer odometer) with op OPC */
#define HHBC_RVV_BINARY_ROWS(RUN, OPC, HAS_ACT)                                               \
    for (int32_t r = 0; r < rows; r++) {                                                      \
        y = RUN(a, b, y, len, ia, ib, OPC, HAS_ACT, act);                                     \
        for (int32_t i = nd - 2; i >= 0; i--) {                                               \
            a += sa[i];                                                                       \
            b += sb[i];                                                                       \
            if (++idx[i] < dim[i]) break;                                                     \
            a -= (ptrdiff_t)sa[i] * dim[i];                                                   \
            b -= (ptrdiff_t)sb[i] * dim[i];                                                   \
            idx[i] = 0;                                                                       \
        }                                                                                     \
    }

#define HHBC_RVV_BINARY_OPS(RUN, HAS_ACT)                                                     \
    switch (op) {                                                                             \
    case HHBC_BIN_SUB: HHBC_RVV_BINARY_ROWS(RUN, HHBC_BIN_SUB, HAS_ACT) break;                \
    case HHBC_BIN_MUL: HHBC_RVV_BINARY_ROWS(RUN, HHBC_BIN_MUL, HAS_ACT) break;                \
    case HHBC_BIN_DIV: HHBC_RVV_BINARY_ROWS(RUN, HHBC_BIN_DIV, HAS_ACT) break;                \
    case HHBC_BIN_MAX: HHBC_RVV_BINARY_ROWS(RUN, HHBC_BIN_MAX, HAS_ACT) break;                \
    case HHBC_BIN_MIN: HHBC_RVV_BINARY_ROWS(RUN, HHBC_BIN_MIN, HAS_ACT) break;                \
    default: HHBC_RVV_BINARY_ROWS(RUN, HHBC_BIN_ADD, HAS_ACT) break;                          \
    }

#define HHBC_RVV_DEFINE_BINARY(NAME, RUN, T)                                                  \
void NAME(const hhbc_tensor *ta, const hhbc_tensor *tb, const hhbc_tensor *tout,              \
          const hhbc_binary_params *p)                                                        \
{                                                                                             \
    const T *a = (const T *)ta->data, *b = (const T *)tb->data;                               \
    T *y = (T *)tout->data;                                                                   \
    int32_t dim[HHBC_MAX_DIMS], sa[HHBC_MAX_DIMS], sb[HHBC_MAX_DIMS], idx[HHBC_MAX_DIMS];     \
    const int32_t nd = hhbc_rvv_binary_dims(p, dim, sa, sb);                                  \
    const int32_t len = dim[nd - 1], ia = sa[nd - 1], ib = sb[nd - 1];                        \
    const hhbc_binary_op op = p->op;                                                          \
    const hhbc_act *act = &p->act;                                                            \
    int32_t rows = 1;                                                                         \
    for (int32_t i = 0; i < nd - 1; i++) { rows *= dim[i]; idx[i] = 0; }                      \
    switch (act->kind) {                                                                      \
    case HHBC_ACT_NONE: HHBC_RVV_BINARY_OPS(RUN, 0) break;                                    \
    case HHBC_ACT_RELU: HHBC_RVV_BINARY_OPS(RUN, 1) break;                                    \
    case HHBC_ACT_CLIP: HHBC_RVV_BINARY_OPS(RUN, 2) break;                                    \
    default: HHBC_RVV_BINARY_OPS(RUN, 3) break;                                               \
    }                                                                                         \
}

HHBC_RVV_DEFINE_BINARY_RUN(hhbc_rvv_binary_run_f32, float, hhbc_rvv_ld_f32m4, hhbc_rvv_lds_f32m4, hhbc_rvv_st_f32m4)
HHBC_RVV_DEFINE_BINARY_RUN(hhbc_rvv_binary_run_f16, _Float16, hhbc_rvv_ld_f16m4, hhbc_rvv_lds_f16m4, hhbc_rvv_st_f16m4)
HHBC_RVV_DEFINE_BINARY(hhbc_binary_f32_rvv, hhbc_rvv_binary_run_f32, float)
HHBC_RVV_DEFINE_BINARY(hhbc_binary_f16_rvv, hhbc_rvv_binary_run_f16, _Float16)
