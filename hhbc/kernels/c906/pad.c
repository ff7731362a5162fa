/*
 * hhbc C906 kernel (RVV 0.7.1 through .insn, VLEN 128): N-D constant padding, float32 and
 * float16. Same signature, params and semantics as ref/pad.c for HHBC_PAD_CONSTANT; EDGE
 * and REFLECT are refused by the table's supports predicate (and run in scalar C should
 * they arrive anyway).
 * Trailing axes without padding are merged into the last padded one, so an NHWC pad of H
 * and W copies rows of W*C elements. Each output row is [fill][input row][fill]: fills are
 * stores of a splat (v8, built once at e32,m8 or e16,m8), the copy moves bytes at e8,m8
 * (v16, 128 bytes per instruction).
 */
#include <string.h>

#include "hhbc_kernels.h"
#include "hhbc_rvv071.h"
#include "hhbc_c906_eltwise.h"

static inline void hhbc_c906_pad_copy(char *dst, const char *src, size_t n)
{
    size_t vl;
    for (; n > 0; n -= vl, src += vl, dst += vl) {
        HV_VSETVLI(vl, n, HV_E8M8);
        HV_VLE(v16, src);
        HV_VSE(v16, dst);
    }
}

/* n elements of the splat in v8 */
static inline void hhbc_c906_pad_fill(char *dst, size_t n, int is16)
{
    size_t vl;
    if (is16) {
        for (; n > 0; n -= vl, dst += vl * 2) { HV_VSETVLI(vl, n, HV_E16M8); HV_VSE(v8, dst); }
    } else {
        for (; n > 0; n -= vl, dst += vl * 4) { HV_VSETVLI(vl, n, HV_E32M8); HV_VSE(v8, dst); }
    }
}

static inline int32_t hhbc_c906_pad_src_index(hhbc_pad_mode mode, int32_t o, int32_t before, int32_t n)
{
    int32_t i = o - before;

    if (i >= 0 && i < n) return i;
    if (mode == HHBC_PAD_EDGE) return i < 0 ? 0 : n - 1;
    if (mode == HHBC_PAD_REFLECT) {
        if (n == 1) return 0;
        const int32_t period = 2 * (n - 1);
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }
    return -1;
}

static void hhbc_c906_pad(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_params *p, int is16)
{
    const size_t esz = is16 ? 2 : 4;
    const char *src = (const char *)in->data;
    char *dst = (char *)out->data;
    int32_t in_dim[HHBC_MAX_DIMS], out_dim[HHBC_MAX_DIMS], before[HHBC_MAX_DIMS], in_stride[HHBC_MAX_DIMS];
    int32_t idx[HHBC_MAX_DIMS] = {0};
    int32_t nd = p->ndim, outer = 1;

    for (int32_t i = 0; i < nd; i++) {
        in_dim[i] = p->in_dim[i];
        out_dim[i] = p->out_dim[i];
        before[i] = p->before[i];
    }
    if (p->mode == HHBC_PAD_CONSTANT) {   /* merge unpadded trailing axes */
        while (nd > 1 && in_dim[nd - 1] == out_dim[nd - 1] && before[nd - 1] == 0) {
            in_dim[nd - 2] *= in_dim[nd - 1];
            out_dim[nd - 2] *= in_dim[nd - 1];
            before[nd - 2] *= in_dim[nd - 1];
            nd--;
        }
    }
    const int32_t last = nd - 1;
    in_stride[last] = 1;
    for (int32_t ax = last - 1; ax >= 0; ax--) in_stride[ax] = in_stride[ax + 1] * in_dim[ax + 1];
    for (int32_t ax = 0; ax < last; ax++) outer *= out_dim[ax];

    if (p->mode != HHBC_PAD_CONSTANT) {   /* scalar C (refused by supports) */
        for (int32_t o = 0; o < outer; o++) {
            int32_t row = 0;
            for (int32_t ax = 0; ax < last; ax++)
                row += hhbc_c906_pad_src_index(p->mode, idx[ax], before[ax], in_dim[ax]) * in_stride[ax];
            for (int32_t j = 0; j < out_dim[last]; j++) {
                const int32_t s = row + hhbc_c906_pad_src_index(p->mode, j, before[last], in_dim[last]);
                memcpy(dst, src + (size_t)s * esz, esz);
                dst += esz;
            }
            for (int32_t ax = last - 1; ax >= 0; ax--) {
                if (++idx[ax] < out_dim[ax]) break;
                idx[ax] = 0;
            }
        }
        return;
    }

    {   /* the splat, at the full register length */
        size_t vl;
        if (is16) {
            const _Float16 h = (_Float16)p->value;
            uint16_t bits;
            memcpy(&bits, &h, 2);
            HV_VSETVLI(vl, (size_t)64, HV_E16M8);
            HV_VMV_V_X(v8, (long)bits);
        } else {
            uint32_t bits;
            memcpy(&bits, &p->value, 4);
            HV_VSETVLI(vl, (size_t)32, HV_E32M8);
            HV_VMV_V_X(v8, (long)bits);
        }
        (void)vl;
    }
    const int32_t row_out = out_dim[last], row_in = in_dim[last], b = before[last];
    const int32_t after = row_out - b - row_in;
    for (int32_t o = 0; o < outer; o++) {
        int32_t row = 0, fill = 0;
        for (int32_t ax = 0; ax < last; ax++) {
            const int32_t s = idx[ax] - before[ax];
            if (s < 0 || s >= in_dim[ax]) { fill = 1; break; }
            row += s * in_stride[ax];
        }
        if (fill) {
            hhbc_c906_pad_fill(dst, (size_t)row_out, is16);
        } else {
            /* columns of the input row that land inside the output row */
            const int32_t c0 = b < 0 ? -b : 0;
            const int32_t c1 = after < 0 ? row_in + after : row_in;
            if (b > 0) hhbc_c906_pad_fill(dst, (size_t)b, is16);
            if (c1 > c0)
                hhbc_c906_pad_copy(dst + (size_t)(b > 0 ? b : 0) * esz, src + ((size_t)row + (size_t)c0) * esz,
                                   (size_t)(c1 - c0) * esz);
            if (after > 0) hhbc_c906_pad_fill(dst + (size_t)(row_out - after) * esz, (size_t)after, is16);
        }
        dst += (size_t)row_out * esz;
        for (int32_t ax = last - 1; ax >= 0; ax--) {
            if (++idx[ax] < out_dim[ax]) break;
            idx[ax] = 0;
        }
    }
}

void hhbc_pad_f32_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_params *p)
{
    hhbc_c906_pad(in, out, p, 0);
}

void hhbc_pad_f16_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_params *p)
{
    hhbc_c906_pad(in, out, p, 1);
}
