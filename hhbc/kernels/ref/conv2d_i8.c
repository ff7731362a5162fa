/* hhbc reference kernel: 2-D convolution, NHWC, int8 (TFLite CONV_2D). The loop nest is
 * conv2d_body.h: acc = sum w * (x - input_zp) over the taps inside the input (padding reads the
 * zero point) + bias, then requantized to the output's scale (TFLite fixed point, or the
 * ONNX float flavour when p->scale is set). Weights are int8, bias int32. Weights with a zero
 * point (p->weight_zp) run a second instance of the loop nest, conv2d_i8_asym, which also sums
 * x - input_zp over the taps and subtracts weight_zp[oc] times that sum (hhbc_i8_weight_zp_fix). */
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

#define HHBC_T int8_t
#define HHBC_PARAMS hhbc_conv2d_i8_params

/* weights with a zero point: the tap sum and the window sum of x - input_zp side by side. Its
 * own copy of the requantization: a second caller of conv2d_i8_finish would stop the compiler
 * inlining it into the symmetric nest (clang then calls it per output: +2% instructions). */
typedef struct conv2d_i8_acc {
    int32_t sum, xsum;
} conv2d_i8_acc;

static inline int8_t conv2d_i8_asym_finish(conv2d_i8_acc a, int32_t oc, const hhbc_conv2d_i8_params *p)
{
    const int32_t q = p->per_channel ? oc : 0;
    int32_t acc = hhbc_i8_weight_zp_fix(a.sum, p->weight_zp[oc], a.xsum);
    if (p->bias) acc += p->bias[oc];
    if (p->scale)   /* ONNX flavour */
        return (int8_t)hhbc_fp_requant_f32(acc, p->scale[q], p->output_zp, p->act_min, p->act_max);
    acc = hhbc_fp_mul_by_qm(acc, p->multiplier[q], p->shift[q]) + p->output_zp;
    return (int8_t)hhbc_fp_clamp(acc, p->act_min, p->act_max);
}

HHBC_I8_OUT_OF_LINE static void conv2d_i8_asym(const hhbc_tensor *in, const hhbc_tensor *out,
                                               const hhbc_conv2d_i8_params *p);
#define HHBC_KERNEL conv2d_i8_asym
#define HHBC_ACC_T conv2d_i8_acc
#define HHBC_MAC(acc, x, w) ((acc).sum += (int32_t)(w) * ((int32_t)(x) - p->input_zp), \
                             (acc).xsum += (int32_t)(x) - p->input_zp)
#define HHBC_START(oc) ((conv2d_i8_acc){0, 0})
#define HHBC_FINISH(acc, oc) conv2d_i8_asym_finish((acc), (oc), p)

#include "conv2d_body.h"

/* symmetric weights (weight_zp NULL): the nest as it always was */
#undef HHBC_KERNEL
#undef HHBC_ACC_T
#undef HHBC_MAC
#undef HHBC_START
#undef HHBC_FINISH
#define HHBC_KERNEL hhbc_conv2d_i8
#define HHBC_ACC_T int32_t
#define HHBC_MAC(acc, x, w) ((acc) += (int32_t)(w) * ((int32_t)(x) - p->input_zp))
#define HHBC_START(oc) 0
#define HHBC_FINISH(acc, oc) conv2d_i8_finish((acc), (oc), p)
#define HHBC_PROLOGUE if (p->weight_zp) { conv2d_i8_asym(in, out, p); return; }

#include "conv2d_body.h"
