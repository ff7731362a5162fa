/*
 * hhbc kernel library: the int8 ABI (TFLite's integer quantization scheme).
 *
 * Conventions, on top of hhbc_kernels.h (hhbc_tensor, NHWC, one function per op,
 * every "prepare" result a compile-time constant, kernels never allocate or fail):
 *  - Activations are int8 with an affine scale and zero point: real = scale * (q - zp).
 *    Kernels only see zero points; scales are folded into the multipliers below.
 *  - Weights are int8, symmetric (zero point 0) unless a weight_zp array is given (conv2d,
 *    depthwise and dense, reference kernels only), per output channel or per tensor;
 *    biases are int32 with scale input_scale * weight_scale[c] and zero point 0.
 *  - A real rescaling factor is a (multiplier, shift) pair from compile-time
 *    QuantizeMultiplier (hhbc/quantize/fixedpoint.py): real ~= multiplier * 2^(shift - 31),
 *    multiplier in [2^30, 2^31) (or 0), shift > 0 a left shift. Kernels apply it with
 *    hhbc_fp_mul_by_qm (hhbc_fixedpoint.h), TFLite's MultiplyByQuantizedMultiplier.
 *  - A fused activation (ReLU, ReLU6, ReLU-N1-to-1) is the clamp [act_min, act_max] in
 *    the output's quantized domain; no activation is [-128, 127].
 *  - Every kernel reproduces TFLite's reference kernel (BuiltinOpResolver REF) bit for
 *    bit; tests/kernels/test_int8_kernels.py checks each against the interpreter.
 *  - The ONNX flavour (a model from ONNX QDQ): conv2d, depthwise, dense, add, average
 *    pool, requantize and quantize can instead round the way ONNX Runtime's int8 kernels
 *    do, in float32 with ties to even (hhbc_fp_requant_f32 and friends in
 *    hhbc_fixedpoint.h), selected by the fields marked "ONNX" below; zero-initialized,
 *    those fields select the TFLite arithmetic. tests/kernels/test_int8_onnx_kernels.py
 *    checks them against onnxruntime.
 *  - Reshape, squeeze and flatten are views: no kernel.
 */
#ifndef HHBC_KERNELS_I8_H
#define HHBC_KERNELS_I8_H

#include "hhbc_kernels.h"

/* ---- conv2d and depthwise conv2d, NHWC -------------------------------------------- */
typedef struct hhbc_conv2d_i8_params {
    const int8_t *weight;        /* conv: [OC][KH][KW][C / groups]; depthwise: [KH][KW][OC] */
    const int32_t *bias;         /* [OC], or NULL */
    const int32_t *multiplier;   /* [OC] if per_channel, else [1]: in_scale * w_scale / out_scale */
    const int32_t *shift;        /* same length as multiplier */
    int32_t per_channel;         /* 1: one multiplier/shift per output channel */
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;   /* bottom/right padding is implied by the output size */
    int32_t groups;              /* conv only; depthwise ignores it */
    int32_t input_zp, output_zp;
    int32_t act_min, act_max;
    const float *scale;          /* ONNX: NULL, or [OC] / [1] float32 (in_scale * w_scale) /
                                    out_scale: out = round_half_even(float(acc) * scale) + zp
                                    (QLinearConv), multiplier/shift unused */
    const int32_t *weight_zp;    /* NULL (symmetric weights), or [OC]: the weight zero point of
                                    each output channel (a per-tensor one repeated); conv2d and
                                    depthwise (deconv2d: NULL), see hhbc_i8_weight_zp_fix */
} hhbc_conv2d_i8_params;

/* Weights with a zero point (asymmetric weights, the int8_asym scheme): the sum over the taps is
 *   sum (x - input_zp) * (w - weight_zp[oc]) = sum (x - input_zp) * w - weight_zp[oc] * sum (x - input_zp)
 * (padding taps read x = input_zp and add nothing to either sum); w - weight_zp may not fit int8,
 * so the kernels keep the raw weights and subtract the window sum's multiple, in the accumulators'
 * wrapping int32 arithmetic. Only the reference kernels take a weight_zp; the vector kernel rows
 * refuse such layers (hhbc/codegen/kernel_table.py). */
static inline int32_t hhbc_i8_weight_zp_fix(int32_t acc, int32_t weight_zp, int32_t xsum)
{
    return (int32_t)((uint32_t)acc - (uint32_t)weight_zp * (uint32_t)xsum);
}

/* The kernels' weight-zero-point paths are separate functions kept out of line, so that the
 * symmetric path compiles to the same code (and registers) as without them. */
#if defined(__GNUC__) || defined(__clang__)
#define HHBC_I8_OUT_OF_LINE __attribute__((noinline))
#else
#define HHBC_I8_OUT_OF_LINE
#endif

/* in [N][H][W][C], out [N][OH][OW][OC]; any stride, padding, dilation and groups.
 * acc = sum w * (x - input_zp) over taps inside the input (padding reads the zero point),
 * + bias; out = clamp(mul_by_qm(acc) + output_zp, act_min, act_max). */
void hhbc_conv2d_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                    const hhbc_conv2d_i8_params *p);

/* Depthwise: OC = C * depth_multiplier; output channel oc reads input channel
 * oc / depth_multiplier. Same arithmetic as conv2d. */
void hhbc_depthwise_conv2d_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                              const hhbc_conv2d_i8_params *p);

/* ---- dense (TFLite FULLY_CONNECTED) ----------------------------------------------------
 * acc[m][n] = sum_k w[n][k] * (x[m][k] - input_zp) + bias[n], rescaled either
 *  - by the fixed-point multiplier/shift when real_scale is NULL (as conv2d; TFLite's
 *    optimized path prepares these, TFLite Micro and CMSIS-NN use them), or
 *  - by real_scale in double, round(acc * real_scale) with ties away from zero: what
 *    TFLite's reference FULLY_CONNECTED does (ai-edge-litert 2.x); the two can differ by 1,
 * then + output_zp, clamped to [act_min, act_max]. */
typedef struct hhbc_dense_i8_params {
    const int8_t *weight;        /* [N][K] */
    const int32_t *bias;         /* [N], or NULL */
    const int32_t *multiplier;   /* [N] if per_channel, else [1]; unused with real_scale */
    const int32_t *shift;
    const double *real_scale;    /* NULL, or [N] / [1]: in_scale * w_scale / out_scale */
    int32_t per_channel;
    int32_t m, n, k;             /* in is [M][K] (leading dims flattened), out is [M][N] */
    int32_t input_zp, output_zp;
    int32_t act_min, act_max;
    const float *scale;          /* ONNX: as conv2d's (QGemm); takes precedence over the rest */
    const int32_t *weight_zp;    /* NULL (symmetric weights), or [N]: as conv2d's */
} hhbc_dense_i8_params;

void hhbc_dense_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_i8_params *p);

/* A pooling window's taps inside the input: the window starts at input index i0 (negative in
 * the padding) and spans k taps over an axis of n; taps [*k0, *k1) are inside. */
static inline void hhbc_window_clip(int32_t i0, int32_t k, int32_t n, int32_t *k0, int32_t *k1)
{
    *k0 = i0 < 0 ? -i0 : 0;
    *k1 = k < n - i0 ? k : n - i0;
}

/* ---- elementwise add and mul with numpy broadcasting ---------------------------------- */
typedef struct hhbc_broadcast_i8 {
    int32_t ndim;                       /* rank of the output, 1..HHBC_MAX_DIMS */
    int32_t out_dim[HHBC_MAX_DIMS];
    int32_t a_stride[HHBC_MAX_DIMS];    /* element strides of a per output axis; 0 = broadcast */
    int32_t b_stride[HHBC_MAX_DIMS];
} hhbc_broadcast_i8;

/* A broadcast walk goes over the output row by row (the innermost axis); this steps the
 * odometer of the outer axes and the offsets of a and b to the next row. 0: the walk is done. */
static inline int hhbc_broadcast_next_row(const hhbc_broadcast_i8 *s, int32_t *idx, size_t *ia, size_t *ib)
{
    for (int32_t d = s->ndim - 2; d >= 0; d--) {
        *ia += (size_t)s->a_stride[d];
        *ib += (size_t)s->b_stride[d];
        if (++idx[d] < s->out_dim[d]) return 1;
        *ia -= (size_t)s->a_stride[d] * s->out_dim[d];
        *ib -= (size_t)s->b_stride[d] * s->out_dim[d];
        idx[d] = 0;
    }
    return 0;
}

/* The whole broadcast walk: out[i] = one(a[...], b[...], p) in row-major output order.
 * Static inline with a constant `one`, so the compiler inlines the element function. */
typedef int8_t (*hhbc_i8_elem2_fn)(int32_t a, int32_t b, const void *p);

static inline void hhbc_broadcast_map_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                                         const hhbc_broadcast_i8 *s, hhbc_i8_elem2_fn one, const void *p)
{
    const int8_t *pa = (const int8_t *)a->data;
    const int8_t *pb = (const int8_t *)b->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t last = s->ndim - 1;
    int32_t idx[HHBC_MAX_DIMS] = {0};
    size_t ia = 0, ib = 0, o = 0;

    do {
        for (int32_t i = 0; i < s->out_dim[last]; i++)
            dst[o++] = one(pa[ia + (size_t)i * s->a_stride[last]], pb[ib + (size_t)i * s->b_stride[last]], p);
    } while (hhbc_broadcast_next_row(s, idx, &ia, &ib));
}

/* TFLite int8 ADD: both inputs are shifted left by left_shift (20), rescaled to a common
 * scale (2 * max input scale) by their own multipliers, summed, and the sum rescaled to
 * the output:  out = clamp(mul_by_qm(mul_by_qm((a - a_zp) << ls, a_m, a_s)
 *                        + mul_by_qm((b - b_zp) << ls, b_m, b_s), out_m, out_s) + out_zp). */
typedef struct hhbc_add_i8_params {
    hhbc_broadcast_i8 shape;
    int32_t left_shift;
    int32_t a_zp, a_multiplier, a_shift;
    int32_t b_zp, b_multiplier, b_shift;
    int32_t output_zp, output_multiplier, output_shift;
    int32_t act_min, act_max;
    /* ONNX (QLinearAdd as ONNX Runtime runs it on x86, in uint8: every value + 128):
     * v = (fixed + float(a + 128) * a_ratio) + float(b + 128) * b_ratio, rounded half to
     * even, - 128; a_ratio = a_scale / out_scale, b_ratio likewise, fixed =
     * (out_zp + 128) - (a_ratio * (a_zp + 128) + b_ratio * (b_zp + 128)), all float32. */
    int32_t onnx;
    float a_ratio, b_ratio, fixed;
    int32_t sub; /* 1: TFLite SUB, the b term subtracted instead of added (TFLite path only) */
} hhbc_add_i8_params;

void hhbc_add_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                 const hhbc_add_i8_params *p);

/* TFLite int8 MUL: out = clamp(mul_by_qm((a - a_zp) * (b - b_zp), m, s) + out_zp),
 * with real multiplier a_scale * b_scale / out_scale. */
typedef struct hhbc_mul_i8_params {
    hhbc_broadcast_i8 shape;
    int32_t a_zp, b_zp;
    int32_t output_zp, output_multiplier, output_shift;
    int32_t act_min, act_max;
} hhbc_mul_i8_params;

void hhbc_mul_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                 const hhbc_mul_i8_params *p);

/* ---- 2-D max and average pooling, NHWC ------------------------------------------------ */
/* Input and output share scale and zero point (as TFLite requires). Windows are clipped
 * to the input: MAX over the real taps; AVG = the sum of the real taps divided by their
 * count, rounded half away from zero. The result is clamped to [act_min, act_max].
 * ONNX average pools (QLinearAveragePool; input and output quantized independently):
 *  - HHBC_POOL_ONNX_WHOLE, a window covering the unpadded input: the integer sum minus
 *    count * in_zp, times the float32 `scale` (in_scale / count / out_scale), rounded
 *    half to even, + out_zp;
 *  - HHBC_POOL_ONNX_FLOAT, any other: each tap dequantized to float32
 *    (in_scale * (x - in_zp)), summed in float row by row, divided by the tap count
 *    (count_include_pad: the window size), then round_half_even(avg / out_scale + out_zp). */
typedef enum hhbc_pool_i8_rounding {
    HHBC_POOL_TFLITE = 0, HHBC_POOL_ONNX_WHOLE, HHBC_POOL_ONNX_FLOAT
} hhbc_pool_i8_rounding;

typedef struct hhbc_pool2d_i8_params {
    hhbc_pool_kind kind;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max;
    hhbc_pool_i8_rounding rounding;   /* ONNX: average pools only */
    int32_t count_include_pad;
    int32_t input_zp, output_zp;
    float input_scale, output_scale, scale;
} hhbc_pool2d_i8_params;

void hhbc_pool2d_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                    const hhbc_pool2d_i8_params *p);

/* ---- mean over any set of axes (TFLite int8 MEAN) ------------------------------------- */
/* out = clamp(mul_by_qm(sum(x) - input_zp * count, multiplier, shift) + output_zp), where
 * (multiplier, shift) already includes the 1/count factor (folded at compile time the way
 * TFLite folds it at run time). Output elements follow the kept axes in row-major order. */
typedef struct hhbc_mean_i8_params {
    int32_t ndim;                       /* rank of the input */
    int32_t in_dim[HHBC_MAX_DIMS];
    int32_t reduced[HHBC_MAX_DIMS];     /* 1 on reduced axes, 0 on kept axes */
    int32_t count;                      /* input elements folded into each output */
    int32_t input_zp, output_zp;
    int32_t multiplier, shift;
} hhbc_mean_i8_params;

void hhbc_mean_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_mean_i8_params *p);

/* ---- H2: SQUARED_DIFFERENCE, DIV (broadcasting) and L2_NORMALIZATION, TFLite int8 ------- */
/* SQUARED_DIFFERENCE: (a - a_zp) and (b - b_zp) shifted left by left_shift (7) and rescaled to
 * twice the larger input scale (multipliers below one), the difference squared in int32 and
 * rescaled to the output:  out = clamp(mul_by_qm(d * d, out_m, out_s) + out_zp). */
typedef struct hhbc_squared_difference_i8_params {
    hhbc_broadcast_i8 shape;
    int32_t left_shift;
    int32_t a_zp, a_multiplier, a_shift;
    int32_t b_zp, b_multiplier, b_shift;
    int32_t output_zp, output_multiplier, output_shift;
} hhbc_squared_difference_i8_params;

void hhbc_squared_difference_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                                const hhbc_squared_difference_i8_params *p);

/* DIV: num = a - a_zp, den = b - b_zp (signs moved to num), num * (1 / den) with TFLite's
 * fixed-point reciprocal, rescaled by a_scale / (b_scale * out_scale) (output_multiplier,
 * output_shift); den == 0 (undefined in TFLite) saturates by the sign of num. */
typedef struct hhbc_div_i8_params {
    hhbc_broadcast_i8 shape;
    int32_t a_zp, b_zp;
    int32_t output_zp, output_multiplier, output_shift;
    int32_t act_min, act_max;
} hhbc_div_i8_params;

void hhbc_div_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out, const hhbc_div_i8_params *p);

/* L2_NORMALIZATION over the last axis: each row's sum of (x - zp)^2, its fixed-point inverse
 * square root, out = clamp((x - zp) / norm * 128); output scale 1/128, zero point 0. */
typedef struct hhbc_l2norm_i8_params {
    int32_t outer, depth;   /* in viewed as [outer][depth] */
    int32_t input_zp;
} hhbc_l2norm_i8_params;

void hhbc_l2norm_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_l2norm_i8_params *p);

/* SUM over a set of axes as TFLite's builtin kernel computes it (its int8 reference kernel is
 * broken in the interpreter): out = clamp(roundf((float)sum(x) * scale + bias) + output_zp),
 * scale = in_scale / out_scale and bias = -input_zp * scale * count, float32, made at compile
 * time. Output elements follow the kept axes in row-major order. */
typedef struct hhbc_sum_i8_params {
    int32_t ndim;                       /* rank of the input */
    int32_t in_dim[HHBC_MAX_DIMS];
    int32_t reduced[HHBC_MAX_DIMS];     /* 1 on reduced axes, 0 on kept axes */
    int32_t output_zp;
    float scale, bias;
} hhbc_sum_i8_params;

void hhbc_sum_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_sum_i8_params *p);

/* ---- softmax along one axis (TFLite int8 SOFTMAX, output scale 1/256, zero point -128) */
/* gemmlowp fixed point: exp of (x - max) * beta * in_scale in Q5.26 (input_multiplier,
 * input_left_shift), differences below diff_min contribute nothing and output -128. */
typedef struct hhbc_softmax_i8_params {
    int32_t outer, axis_size, inner;    /* in viewed as [outer][axis_size][inner] */
    int32_t input_multiplier, input_left_shift;
    int32_t diff_min;
} hhbc_softmax_i8_params;

void hhbc_softmax_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                     const hhbc_softmax_i8_params *p);

/* ---- elementwise lookup table: LOGISTIC, TANH (256 entries made at compile time) ------ */
typedef struct hhbc_lut_i8_params {
    const int8_t *table;   /* [256], indexed by (uint8_t)x: entries for 0..127, then -128..-1 */
} hhbc_lut_i8_params;

void hhbc_lut_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_lut_i8_params *p);

/* ---- PRELU (H3c): a [channels, 256] table of TFLite's int8 arithmetic, one row per channel
 * of the last axis (made at compile time) ---------------------------------------------- */
typedef struct hhbc_prelu_i8_params {
    int32_t channels;
    const int8_t *table;   /* [channels * 256]; row c indexed by (uint8_t)x */
} hhbc_prelu_i8_params;

void hhbc_prelu_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_i8_params *p);

/* ---- hard-swish: x * relu6(x + 3) / 6 in TFLite's int16 fixed-point arithmetic -------- */
typedef struct hhbc_hardswish_i8_params {
    int32_t input_zp, output_zp;
    int16_t output_multiplier;    /* Q0.15: in_scale / 128 / out_scale, as an int16 */
    int32_t output_exponent;      /* <= 0 */
    int16_t reluish_multiplier;   /* Q0.15: in_scale / 128 / (3 / 32768) */
    int32_t reluish_exponent;
} hhbc_hardswish_i8_params;

void hhbc_hardswish_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                       const hhbc_hardswish_i8_params *p);

/* ---- requantize int8 -> int8: TFLite QUANTIZE between int8 tensors, RELU, RELU6,
 * RELU_N1_TO_1 (a rescale to the output's quantization, then the activation clamp) ------- */
/* y = mul_by_qm(x - input_zp, multiplier, shift) + output_zp, multiplier from
 * in_scale / out_scale. */
typedef struct hhbc_requant_i8 {
    int32_t input_zp, output_zp;
    int32_t multiplier, shift;
} hhbc_requant_i8;

typedef struct hhbc_requantize_i8_params {
    hhbc_requant_i8 rq;
    int32_t act_min, act_max;    /* [-128, 127] for QUANTIZE */
    /* ONNX (DequantizeLinear then QuantizeLinear, in float32): y = round_half_even(
     * (input_scale * float(x - input_zp)) / output_scale) + output_zp; multiplier unused */
    int32_t onnx;
    float input_scale, output_scale;
} hhbc_requantize_i8_params;

void hhbc_requantize_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                        const hhbc_requantize_i8_params *p);

/* ---- concat along one axis ------------------------------------------------------------ */
typedef struct hhbc_concat_i8_params {
    int32_t num_inputs;
    int32_t outer;                       /* product of dims before the axis */
    int32_t inner;                       /* product of dims after the axis */
    const int32_t *axis_dim;             /* [num_inputs] extent of each input along the axis */
    const hhbc_requant_i8 *requant;      /* [num_inputs] rescaling of each input to the
                                            output, or NULL: all share the output's scale and
                                            zero point (TFLite's int8 case), plain copies */
} hhbc_concat_i8_params;

void hhbc_concat_i8(const hhbc_tensor *const *in, const hhbc_tensor *out,
                    const hhbc_concat_i8_params *p);

/* ---- constant pad (TFLite PAD/PADV2: the value is the output zero point for PAD) ------- */
typedef struct hhbc_pad_i8_params {
    int32_t value;                       /* quantized fill, -128..127 */
    int32_t ndim;
    int32_t in_dim[HHBC_MAX_DIMS];
    int32_t out_dim[HHBC_MAX_DIMS];
    int32_t before[HHBC_MAX_DIMS];       /* elements added before each axis (>= 0) */
} hhbc_pad_i8_params;

void hhbc_pad_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_i8_params *p);

/* ---- float <-> int8 ------------------------------------------------------------------- */
typedef struct hhbc_affine_i8_params {
    float scale;
    int32_t zero_point;
    int32_t onnx;          /* quantize only: 1 rounds half to even (ONNX QuantizeLinear) */
} hhbc_affine_i8_params;

/* float in -> int8 out: clamp(round_half_away(x / scale) + zero_point, -128, 127),
 * the division in float (TFLite AffineQuantize); with onnx, ties go to even. NaN maps
 * to -128. */
void hhbc_quantize_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                      const hhbc_affine_i8_params *p);

/* int8 in -> float out: scale * (x - zero_point). */
void hhbc_dequantize_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                        const hhbc_affine_i8_params *p);

/* int8 in -> int8 out, element for element (a model output that views another tensor). */
void hhbc_copy_i8(const hhbc_tensor *in, const hhbc_tensor *out);

/* ---- data movement and selection on raw int8 (TFLite keeps the input's scale and zero
 * point): the float kernels' params structs and loop nests (ref/<op>_body.h), for int8_t. */
void hhbc_strided_slice_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                           const hhbc_strided_slice_params *p);
void hhbc_transpose_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_transpose_params *p);
/* mode NEAREST only */
void hhbc_resize2d_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_resize2d_params *p);
/* op MAX or MIN only (MAXIMUM, MINIMUM), no activation */
void hhbc_binary_i8(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                    const hhbc_binary_params *p);
/* op MAX or MIN only (REDUCE_MAX, REDUCE_MIN) */
void hhbc_reduce_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p);

/* ---- H1: transposed convolution (TFLite TRANSPOSE_CONV), NHWC ----------------------------
 * The conv2d_i8 params (groups 1, no dilation), weight [OC][KH][KW][C]. Input pixel (ih, iw)
 * contributes w * (x - input_zp) to output pixel (ih * stride_h - pad_top + kh,
 * iw * stride_w - pad_left + kw); the output size is out's. Each output's int32 sum + bias is
 * requantized as conv2d_i8's. */
void hhbc_deconv2d_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_i8_params *p);

/* ---- H1: bilinear resize (TFLite RESIZE_BILINEAR, integer reference kernel), NHWC ---------
 * Input and output share scale and zero point. out[oy][ox] = round_half_away(
 *   (x[y0][x0] (1024 - dy)(1024 - dx) + x[y1][x0] dy (1024 - dx)
 *    + x[y0][x1] (1024 - dy) dx + x[y1][x1] dy dx) / 2^20), sums in int64. */
typedef struct hhbc_resize_bilinear_i8_params {
    const int32_t *y0, *y1, *dy;   /* [OH]: source rows, sample offset past y0 in 1/1024 */
    const int32_t *x0, *x1, *dx;   /* [OW] */
} hhbc_resize_bilinear_i8_params;

void hhbc_resize_bilinear_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                             const hhbc_resize_bilinear_i8_params *p);

#endif /* HHBC_KERNELS_I8_H */
