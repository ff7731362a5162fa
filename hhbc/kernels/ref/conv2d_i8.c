/* hhbc reference kernel: 2-D convolution, NHWC, int8 (TFLite CONV_2D). The loop nest is
 * conv2d_body.h: acc = sum w * (x - input_zp) over the taps inside the input (padding reads the
 * zero point) + bias, then requantized to the output's scale (TFLite fixed point, or the
 * ONNX float flavour when p->scale is set). Weights are symmetric int8, bias int32. */
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"

static inline int8_t conv2d_i8_finish(int32_t acc, int32_t oc, const hhbc_conv2d_i8_params *p)
{
    const int32_t q = p->per_channel ? oc : 0;
    if (p->bias) acc += p->bias[oc];
    if (p->scale)   /* ONNX flavour */
        return (int8_t)hhbc_fp_requant_f32(acc, p->scale[q], p->output_zp, p->act_min, p->act_max);
    acc = hhbc_fp_mul_by_qm(acc, p->multiplier[q], p->shift[q]) + p->output_zp;
    return (int8_t)hhbc_fp_clamp(acc, p->act_min, p->act_max);
}

#define HHBC_KERNEL hhbc_conv2d_i8
#define HHBC_T int8_t
#define HHBC_PARAMS hhbc_conv2d_i8_params
#define HHBC_ACC_T int32_t
#define HHBC_MAC(acc, x, w) ((acc) += (int32_t)(w) * ((int32_t)(x) - p->input_zp))
#define HHBC_START(oc) 0
#define HHBC_FINISH(acc, oc) conv2d_i8_finish((acc), (oc), p)

#include "conv2d_body.h"
