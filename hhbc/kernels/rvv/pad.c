/*
 * hhbc rvv kernel: constant-mode pad (float32 and float16), RVV 1.0 intrinsics,
 * VLEN-agnostic. Same signature and params as ref/pad.c; EDGE / REFLECT are refused by
 * the table's supports predicate (they run ref).
 *
 * The trailing axes without padding fold into one block of `inner` elements, so the copy
 * unit is a row of axis k (the innermost padded axis): before[k] * inner fill,
 * in_dim[k] * inner copied (e8 m8 byte strips), the rest filled; an output row whose
 * outer index lies in the padding of an outer axis is filled whole.
 */
#include "hhbc_kernels.h"
#include "hhbc_rvv_math.h"

#define HHBC_RVV_DEFINE_PAD(NAME, T, FILL)                                                    \
void NAME(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_params *p)            \
{                                                                                             \
    const T *src = (const T *)in->data;                                                       \
    T *dst = (T *)out->data;                                                                  \
    int32_t k = p->ndim - 1, inner = 1;                                                       \
    while (k > 0 && p->in_dim[k] == p->out_dim[k]) inner *= p->in_dim[k--];                   \
    const int32_t row_out = p->out_dim[k] * inner, row_in = p->in_dim[k] * inner;             \
    const int32_t head = p->before[k] * inner, tail = row_out - head - row_in;                \
    int32_t rows = 1, idx[HHBC_MAX_DIMS] = {0};                                               \
    for (int32_t i = 0; i < k; i++) rows *= p->out_dim[i];                                    \
    for (int32_t r = 0; r < rows; r++, dst += row_out) {                                      \
        int inside = 1;                                                                       \
        for (int32_t i = 0; i < k; i++)                                                       \
            inside &= idx[i] >= p->before[i] && idx[i] < p->before[i] + p->in_dim[i];         \
        if (inside) {                                                                         \
            FILL(dst, p->value, head);                                                        \
            hhbc_rvv_copy_bytes(dst + head, src, (size_t)row_in * sizeof(T));                 \
            FILL(dst + head + row_in, p->value, tail);                                        \
            src += row_in;                                                                    \
        } else {                                                                              \
            FILL(dst, p->value, row_out);                                                     \
        }                                                                                     \
        for (int32_t i = k - 1; i >= 0; i--) {                                                \
            if (++idx[i] < p->out_dim[i]) break;                                              \
            idx[i] = 0;                                                                       \
        }                                                                                     \
    }                                                                                         \
}

HHBC_RVV_DEFINE_PAD(hhbc_pad_f32_rvv, float, hhbc_rvv_fill_f32)
HHBC_RVV_DEFINE_PAD(hhbc_pad_f16_rvv, _Float16, hhbc_rvv_fill_f16)
