/*
 * hhbc rvv kernel: transpose (dimension permutation), float32 and float16 copied bit for
 * bit. RVV 1.0 intrinsics, VLEN-agnostic. Same signature and params as ref/transpose.c.
 * The innermost output axis is the vector axis: one strided load (vlse, the input stride
 * of that axis; unit stride: vle) and one unit-stride store per strip, e32 / e16 m8; the
 * outer output axes advance as an odometer. A channel <-> spatial move (NHWC <-> NCHW)
 * is rows of H*W or C elements. The table sends only transposes whose innermost output
 * extent fills a few lanes here (others run ref).
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv_math.h"

#define HHBC_RVV_DEFINE_TRANSPOSE(NAME, UT, SEW, M)                                           \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_transpose_params *p)      \
{                                                                                             \
    const UT *src = (const UT *)in->data;                                                     \
    UT *dst = (UT *)out->data;                                                                \
    const int32_t last = p->ndim - 1;                                                         \
    const int32_t inner = p->out_dim[last];                                                   \
    const ptrdiff_t is = p->in_stride[last];                                                  \
    const ptrdiff_t isb = is * (ptrdiff_t)sizeof(UT);                                         \
    int32_t idx[HHBC_MAX_DIMS] = {0};                                                         \
    int32_t outer = 1;                                                                        \
    ptrdiff_t ib = 0;                                                                         \
    for (int32_t i = 0; i < last; i++) outer *= p->out_dim[i];                                \
    for (int32_t o = 0; o < outer; o++) {                                                     \
        const UT *x = src + ib;                                                               \
        size_t vl;                                                                            \
        for (int32_t j = 0; j < inner; j += (int32_t)vl, x += (ptrdiff_t)vl * is) {           \
            vl = __riscv_vsetvl_e##SEW##M((size_t)(inner - j));                               \
            if (is == 1)                                                                      \
                __riscv_vse##SEW##_v_u##SEW##M(dst + j, __riscv_vle##SEW##_v_u##SEW##M(x, vl), vl); \
            else                                                                              \
                __riscv_vse##SEW##_v_u##SEW##M(dst + j, __riscv_vlse##SEW##_v_u##SEW##M(x, isb, vl), vl); \
        }                                                                                     \
        dst += inner;                                                                         \
        for (int32_t ax = last - 1; ax >= 0; ax--) {                                          \
            idx[ax]++;                                                                        \
            ib += p->in_stride[ax];                                                           \
            if (idx[ax] < p->out_dim[ax]) break;                                              \
            ib -= (ptrdiff_t)p->in_stride[ax] * p->out_dim[ax];                               \
            idx[ax] = 0;                                                                      \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_TRANSPOSE(hhbc_transpose_f32_rvv, uint32_t, 32, m8)
HHBC_RVV_DEFINE_TRANSPOSE(hhbc_transpose_f16_rvv, uint16_t, 16, m8)
