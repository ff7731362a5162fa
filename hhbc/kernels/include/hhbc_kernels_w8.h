/*
 * hhbc kernel library: weight-only int8 kernels (TFLite's dynamic-range "hybrid" models).
 *
 * Conventions, on top of hhbc_kernels.h (hhbc_tensor, NHWC, one function per op, every
 * "prepare" result a compile-time constant, kernels never allocate or fail):
 *  - Activations, biases and results are float32, as in the float kernels.
 *  - Weights stay int8 in flash, symmetric (zero point 0), with one float32 scale per
 *    output channel (a per-tensor scale is repeated): real weight = w_scale[oc] * w.
 *  - A kernel accumulates x * w in float for one output channel and multiplies by the
 *    channel's scale once, at the end: sum(x * w) * s equals sum(x * (w * s)) up to float
 *    rounding, so results match a float model holding the dequantized weights.
 *  - Layouts and parameters are the float kernels' (hhbc_conv2d_params,
 *    hhbc_dense_params) with int8 weights and the added w_scale.
 */
#ifndef HHBC_KERNELS_W8_H
#define HHBC_KERNELS_W8_H

#include "hhbc_kernels.h"

/* ---- conv2d and depthwise conv2d, NHWC -------------------------------------------- */
typedef struct hhbc_conv2d_w8_params {
    const int8_t *weight;    /* conv: [OC][KH][KW][C / groups]; depthwise: [KH][KW][OC] */
    const float *w_scale;    /* [OC] */
    const float *bias;       /* [OC], or NULL */
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;   /* bottom/right padding is implied by the output size */
    int32_t groups;              /* conv only; depthwise ignores it */
    hhbc_act act;
} hhbc_conv2d_w8_params;

/* in [N][H][W][C], out [N][OH][OW][OC]; any stride, padding, dilation and groups. */
void hhbc_conv2d_w8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p);

/* Depthwise: OC == C * multiplier; output channel oc reads input channel oc / multiplier. */
void hhbc_depthwise_conv2d_w8(const hhbc_tensor *in, const hhbc_tensor *out,
                              const hhbc_conv2d_w8_params *p);

/* ---- dense: out[m][n] = act(w_scale[n] * sum_k in[m][k] * weight[n][k] + bias[n]) ---- */
typedef struct hhbc_dense_w8_params {
    const int8_t *weight;    /* [N][K] */
    const float *w_scale;    /* [N] */
    const float *bias;       /* [N], or NULL */
    int32_t m, n, k;         /* in is [M][K] (leading dims flattened), out is [M][N] */
    hhbc_act act;
} hhbc_dense_w8_params;

void hhbc_dense_w8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_w8_params *p);

/* ---- the float16_w_int8 scheme: the same params and layouts with _Float16 activations
 * (in, out); products and sums in float32, w_scale and bias applied once, rounded to half
 * once per output. Vector variants (rvv/, c906/) document their packed weight layouts. */
void hhbc_conv2d_f16w8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_w8_params *p);
void hhbc_depthwise_conv2d_f16w8(const hhbc_tensor *in, const hhbc_tensor *out,
                                 const hhbc_conv2d_w8_params *p);
void hhbc_dense_f16w8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_w8_params *p);

#endif /* HHBC_KERNELS_W8_H */
