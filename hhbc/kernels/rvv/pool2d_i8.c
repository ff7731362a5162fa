/*
 * hhbc rvv variant: int8 2-D pooling, NHWC, RVV 1.0 intrinsics, VLEN-agnostic. Same params and
 * results as ref/pool2d_i8.c, bit for bit, for max pooling, TFLite average pooling and the ONNX
 * whole-window average (HHBC_POOL_ONNX_WHOLE); the ONNX float-sum flavour stays on ref
 * (packing_i8.is_pool_i8_rvv). Channels are the vector axis; windows are clipped to the input.
 *  - max: e8/m8 vmax over the taps.
 *  - average: e32/m8 sums (vsext + vadd per tap); TFLite divides with rounding half away from
 *    zero: (sum +- count / 2) / count truncated (vdiv), as the reference's C division does;
 *    ONNX_WHOLE rescales sum - count * zp by the float scale (hhbc_rvv_requant_f32_vv_i32m8).
 */
#include <stddef.h>
#include <stdint.h>

#include "hhbc_rvv_i8.h"

void hhbc_pool2d_i8_rvv(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const int8_t lo = (int8_t)p->act_min, hi = (int8_t)p->act_max;

    for (int32_t n = 0; n < batch; n++) {
        const int8_t *src_n = src + (size_t)n * ih_n * iw_n * c_n;
        for (int32_t oh = 0; oh < oh_n; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            int32_t kh0, kh1;
            hhbc_window_clip(ih0, p->kernel_h, ih_n, &kh0, &kh1);
            for (int32_t ow = 0; ow < ow_n; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                int32_t kw0, kw1;
                hhbc_window_clip(iw0, p->kernel_w, iw_n, &kw0, &kw1);
                const int32_t count = (kh1 > kh0 && kw1 > kw0) ? (kh1 - kh0) * (kw1 - kw0) : 0;
                int8_t *dst_px = dst + (((size_t)n * oh_n + oh) * ow_n + ow) * c_n;
                size_t vl;
                if (p->kind == HHBC_POOL_MAX) {
                    for (int32_t c0 = 0; c0 < c_n; c0 += (int32_t)vl) {
                        vl = __riscv_vsetvl_e8m8((size_t)(c_n - c0));
                        vint8m8_t acc = __riscv_vmv_v_x_i8m8(INT8_MIN, vl);
                        for (int32_t kh = kh0; kh < kh1; kh++)
                            for (int32_t kw = kw0; kw < kw1; kw++)
                                acc = __riscv_vmax_vv_i8m8(
                                    acc, __riscv_vle8_v_i8m8(src_n + ((size_t)(ih0 + kh) * iw_n + iw0 + kw) * c_n + c0,
                                                             vl), vl);
                        acc = __riscv_vmin_vx_i8m8(__riscv_vmax_vx_i8m8(acc, lo, vl), hi, vl);
                        __riscv_vse8_v_i8m8(dst_px + c0, acc, vl);
                    }
                    continue;
                }
                for (int32_t c0 = 0; c0 < c_n; c0 += (int32_t)vl) {
                    vl = __riscv_vsetvl_e32m8((size_t)(c_n - c0));
                    vint32m8_t acc = __riscv_vmv_v_x_i32m8(0, vl);
                    for (int32_t kh = kh0; kh < kh1; kh++)
                        for (int32_t kw = kw0; kw < kw1; kw++)
                            acc = __riscv_vadd_vv_i32m8(acc, __riscv_vsext_vf4_i32m8(__riscv_vle8_v_i8m2(
                                src_n + ((size_t)(ih0 + kh) * iw_n + iw0 + kw) * c_n + c0, vl), vl), vl);
                    if (count > 0) {
                        if (p->rounding == HHBC_POOL_ONNX_WHOLE) {
                            acc = __riscv_vsub_vx_i32m8(acc, count * p->input_zp, vl);
                            acc = hhbc_rvv_requant_f32_vv_i32m8(acc, __riscv_vfmv_v_f_f32m8(p->scale, vl),
                                                                p->output_zp, INT8_MIN, INT8_MAX, vl);
                        } else {
                            const int32_t half = count / 2;
                            vbool4_t pos = __riscv_vmsgt_vx_i32m8_b4(acc, 0, vl);
                            vint32m8_t adj = __riscv_vmerge_vxm_i32m8(__riscv_vmv_v_x_i32m8(-half, vl), half, pos, vl);
                            acc = __riscv_vdiv_vx_i32m8(__riscv_vadd_vv_i32m8(acc, adj, vl), count, vl);
                        }
                    }
                    __riscv_vse8_v_i8m2(dst_px + c0, hhbc_rvv_narrow_i8m8(acc, p->act_min, p->act_max, vl), vl);
                }
            }
        }
    }
}
