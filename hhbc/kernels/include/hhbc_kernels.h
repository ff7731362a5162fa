/*
 * hhbc kernel library: the C ABI shared by every kernel variant.
 *
 * Conventions (CSI-NN2 style, simplified):
 *  - A kernel is one function per op and dtype: hhbc_<op>_<dtype>(inputs..., output, params).
 *  - Tensors are dense, row-major, described by hhbc_tensor. 4-D activations are NHWC.
 *  - All "prepare" work (shape arithmetic, broadcast strides, weight packing, index
 *    tables) happens at compile time in Python; params structs only carry its results.
 *  - Kernels never allocate and never fail: hhbc validated every shape before emitting.
 *  - A target-specific variant keeps the same signature and params struct; only the
 *    packed weight layout it documents may differ, chosen at compile time.
 */
#ifndef HHBC_KERNELS_H
#define HHBC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#define HHBC_MAX_DIMS 6

typedef struct hhbc_tensor {
    void *data;                    /* arena, user buffer or const weights */
    int32_t dim[HHBC_MAX_DIMS];    /* extents, outermost first */
    int32_t ndim;
} hhbc_tensor;

/* Number of elements of a tensor. */
static inline int32_t hhbc_numel(const hhbc_tensor *t)
{
    int32_t n = 1;
    for (int32_t i = 0; i < t->ndim; i++) n *= t->dim[i];
    return n;
}

/* ---- activations, fusable into conv2d/dense and usable on their own ---------- */
typedef enum hhbc_act_kind {
    HHBC_ACT_NONE = 0,
    HHBC_ACT_RELU,        /* max(x, 0) */
    HHBC_ACT_CLIP,        /* min(max(x, lo), hi); ReLU6 is lo=0, hi=6 */
    HHBC_ACT_LEAKY_RELU,  /* x >= 0 ? x : alpha * x */
    HHBC_ACT_HARDSWISH,   /* x * min(max(x + 3, 0), 6) / 6 */
    HHBC_ACT_SIGMOID      /* 1 / (1 + exp(-x)) */
} hhbc_act_kind;

typedef struct hhbc_act {
    hhbc_act_kind kind;
    float lo, hi;   /* HHBC_ACT_CLIP bounds */
    float alpha;    /* HHBC_ACT_LEAKY_RELU slope */
} hhbc_act;

/* ---- conv2d, NHWC --------------------------------------------------------------- */
typedef struct hhbc_conv2d_params {
    const void *weight;    /* float, or _Float16 for the _f16 kernels; ref layout:
                              [out_c][kernel_h][kernel_w][in_c / groups]; vector
                              variants document their packed layout */
    const float *bias;     /* [out_c], or NULL; float32 for every dtype */
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;   /* bottom/right padding is implied by the output size */
    int32_t groups;
    hhbc_act act;
} hhbc_conv2d_params;

/* in [N][H][W][C], out [N][OH][OW][OC]; any stride, padding, dilation and groups. */
void hhbc_conv2d_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p);

/* Depthwise: groups == C, OC == C * multiplier; output channel oc reads input channel
 * oc / multiplier. Weight layout: [kernel_h][kernel_w][OC]. groups field is ignored. */
void hhbc_depthwise_conv2d_f32(const hhbc_tensor *in, const hhbc_tensor *out,
                               const hhbc_conv2d_params *p);

/* ---- dense: out[m][n] = act(sum_k in[m][k] * weight[n][k] + bias[n]) ------------ */
typedef struct hhbc_dense_params {
    const void *weight;    /* float or _Float16; ref layout: [N][K] */
    const float *bias;     /* [N], or NULL; float32 for every dtype */
    int32_t m, n, k;       /* in is [M][K] (leading dims flattened), out is [M][N] */
    hhbc_act act;
} hhbc_dense_params;

void hhbc_dense_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p);

/* ---- batched matmul of two activations: out[b] = a[b] (MxK) x b[b] (KxN) ---------- */
typedef struct hhbc_matmul_params {
    int32_t batch, m, n, k;
    int32_t a_batch_stride, b_batch_stride;   /* elements; 0 broadcasts one matrix */
} hhbc_matmul_params;

void hhbc_matmul_f32(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                     const hhbc_matmul_params *p);

/* ---- elementwise binary with numpy broadcasting --------------------------------- */
typedef enum hhbc_binary_op {
    HHBC_BIN_ADD = 0, HHBC_BIN_SUB, HHBC_BIN_MUL, HHBC_BIN_DIV, HHBC_BIN_MAX, HHBC_BIN_MIN,
    HHBC_BIN_POW
} hhbc_binary_op;

typedef struct hhbc_binary_params {
    hhbc_binary_op op;
    int32_t ndim;                          /* rank of the output, 1..HHBC_MAX_DIMS */
    int32_t out_dim[HHBC_MAX_DIMS];
    int32_t a_stride[HHBC_MAX_DIMS];       /* element strides of a per output axis; 0 = broadcast */
    int32_t b_stride[HHBC_MAX_DIMS];
    hhbc_act act;                          /* applied to the result */
} hhbc_binary_params;

void hhbc_binary_f32(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                     const hhbc_binary_params *p);

/* ---- elementwise unary ------------------------------------------------------------ */
typedef enum hhbc_unary_op {
    HHBC_UN_ACT = 0,   /* apply params.act only */
    HHBC_UN_TANH, HHBC_UN_EXP, HHBC_UN_LOG, HHBC_UN_SQRT, HHBC_UN_RSQRT, HHBC_UN_ABS,
    HHBC_UN_NEG, HHBC_UN_ERF,
    /* ref kernels only: ROUND is half to even, SIGN keeps zeros and NaN, SOFTPLUS is log(1 + exp(x)) */
    HHBC_UN_FLOOR, HHBC_UN_CEIL, HHBC_UN_ROUND, HHBC_UN_SIGN, HHBC_UN_SOFTPLUS
} hhbc_unary_op;

typedef struct hhbc_unary_params {
    hhbc_unary_op op;
    int32_t size;       /* elements */
    hhbc_act act;       /* applied after op (HHBC_UN_ACT: the whole operation) */
} hhbc_unary_params;

void hhbc_unary_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_unary_params *p);

/* ---- PReLU: x >= 0 ? x : slope[c] * x, c the channel axis ----------------------- */
typedef struct hhbc_prelu_params {
    const float *slope;      /* [channels] */
    int32_t outer, channels, inner;   /* in viewed as [outer][channels][inner] */
} hhbc_prelu_params;

void hhbc_prelu_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_params *p);

/* ---- 2-D pooling, NHWC ------------------------------------------------------------ */
typedef enum hhbc_pool_kind { HHBC_POOL_MAX = 0, HHBC_POOL_AVG } hhbc_pool_kind;

typedef struct hhbc_pool2d_params {
    hhbc_pool_kind kind;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left, pad_bottom, pad_right;
    int32_t count_include_pad;   /* AVG: divide by the window clipped to the padded
                                    input (1) or to the real input (0) */
} hhbc_pool2d_params;

void hhbc_pool2d_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_params *p);

/* ---- reduction over any set of axes ------------------------------------------------ */
typedef enum hhbc_reduce_op { HHBC_RED_MEAN = 0, HHBC_RED_SUM, HHBC_RED_MAX, HHBC_RED_MIN } hhbc_reduce_op;

typedef struct hhbc_reduce_params {
    hhbc_reduce_op op;
    int32_t ndim;                          /* rank of the input */
    int32_t in_dim[HHBC_MAX_DIMS];
    int32_t out_stride[HHBC_MAX_DIMS];     /* output element stride per input axis; 0 on reduced axes */
    int32_t out_size;                      /* output elements */
    int32_t reduce_count;                  /* input elements folded into each output */
} hhbc_reduce_params;

void hhbc_reduce_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p);

/* ---- concat along one axis -------------------------------------------------------- */
typedef struct hhbc_concat_params {
    int32_t num_inputs;
    int32_t outer;                 /* product of dims before the axis */
    int32_t inner;                 /* product of dims after the axis */
    const int32_t *axis_dim;       /* [num_inputs] extent of each input along the axis */
} hhbc_concat_params;

void hhbc_concat_f32(const hhbc_tensor *const *in, const hhbc_tensor *out,
                     const hhbc_concat_params *p);

/* ---- gather: in [outer][axis_dim][inner] -> out [outer][num_indices][inner] ---------
 * out[o][j][i] = in[o][indices[j]][i]; indices int32 or int64 (index_bytes 4 or 8), negative
 * ones count from the end, out-of-range ones are clamped to [0, axis_dim). f32, f16, i8. */
typedef struct hhbc_gather_params {
    int32_t outer, axis_dim, inner, num_indices;
    int32_t index_bytes;   /* 4: int32 indices, 8: int64 */
} hhbc_gather_params;

void hhbc_gather_f32(const hhbc_tensor *in, const hhbc_tensor *indices, const hhbc_tensor *out,
                     const hhbc_gather_params *p);
void hhbc_gather_f16(const hhbc_tensor *in, const hhbc_tensor *indices, const hhbc_tensor *out,
                     const hhbc_gather_params *p);
void hhbc_gather_i8(const hhbc_tensor *in, const hhbc_tensor *indices, const hhbc_tensor *out,
                    const hhbc_gather_params *p);

/* ---- ArgMax / ArgMin: in [outer][axis_dim][inner] -> out [outer][inner] int32 or int64 */
typedef enum hhbc_argreduce_op { HHBC_ARG_MAX = 0, HHBC_ARG_MIN } hhbc_argreduce_op;

typedef struct hhbc_argreduce_params {
    hhbc_argreduce_op op;
    int32_t outer, axis_dim, inner;
    int32_t select_last;   /* ties: 0 the first index, 1 the last */
    int32_t out_bytes;     /* 4: int32 output, 8: int64 */
} hhbc_argreduce_params;

void hhbc_argreduce_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_argreduce_params *p);
void hhbc_argreduce_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_argreduce_params *p);
void hhbc_argreduce_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_argreduce_params *p);

/* ---- where with a constant condition: out = cond ? a : b, numpy broadcasting -------- */
typedef struct hhbc_where_params {
    const uint8_t *cond;                   /* 0/1 per element, read at c_stride */
    int32_t ndim;
    int32_t out_dim[HHBC_MAX_DIMS];
    int32_t a_stride[HHBC_MAX_DIMS], b_stride[HHBC_MAX_DIMS], c_stride[HHBC_MAX_DIMS];
} hhbc_where_params;

void hhbc_where_f32(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                    const hhbc_where_params *p);
void hhbc_where_f16(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                    const hhbc_where_params *p);

/* ---- transpose (permute dims) ----------------------------------------------------- */
typedef struct hhbc_transpose_params {
    int32_t ndim;
    int32_t out_dim[HHBC_MAX_DIMS];
    int32_t in_stride[HHBC_MAX_DIMS];   /* input element stride for each output axis */
} hhbc_transpose_params;

void hhbc_transpose_f32(const hhbc_tensor *in, const hhbc_tensor *out,
                        const hhbc_transpose_params *p);

/* ---- pad -------------------------------------------------------------------------- */
typedef enum hhbc_pad_mode { HHBC_PAD_CONSTANT = 0, HHBC_PAD_EDGE, HHBC_PAD_REFLECT } hhbc_pad_mode;

typedef struct hhbc_pad_params {
    hhbc_pad_mode mode;
    float value;                         /* HHBC_PAD_CONSTANT fill */
    int32_t ndim;
    int32_t in_dim[HHBC_MAX_DIMS];
    int32_t out_dim[HHBC_MAX_DIMS];
    int32_t before[HHBC_MAX_DIMS];       /* elements added before each axis (>= 0) */
} hhbc_pad_params;

void hhbc_pad_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_params *p);

/* ---- softmax along one axis --------------------------------------------------------- */
typedef struct hhbc_softmax_params {
    int32_t outer, axis_size, inner;   /* in viewed as [outer][axis_size][inner] */
    int32_t log;                       /* 1: log-softmax */
} hhbc_softmax_params;

void hhbc_softmax_f32(const hhbc_tensor *in, const hhbc_tensor *out,
                      const hhbc_softmax_params *p);

/* ---- 2-D resize, NHWC, with compile-time index tables -------------------------------- */
typedef enum hhbc_resize_mode { HHBC_RESIZE_NEAREST = 0, HHBC_RESIZE_BILINEAR } hhbc_resize_mode;

typedef struct hhbc_resize2d_params {
    hhbc_resize_mode mode;
    /* NEAREST: source row y0[oy] and column x0[ox].
     * BILINEAR: out = (1-wy)(1-wx) in[y0][x0] + (1-wy) wx in[y0][x1]
     *               + wy (1-wx) in[y1][x0] + wy wx in[y1][x1]. */
    const int32_t *y0, *y1, *x0, *x1;   /* [OH], [OH], [OW], [OW]; y1/x1 NULL for NEAREST */
    const float *wy, *wx;               /* [OH], [OW]; NULL for NEAREST */
} hhbc_resize2d_params;

void hhbc_resize2d_f32(const hhbc_tensor *in, const hhbc_tensor *out,
                       const hhbc_resize2d_params *p);

/* ---- plain copy (an output that is only a view of an input or a constant) ----------- */
void hhbc_copy_f32(const hhbc_tensor *in, const hhbc_tensor *out);

/* ---- transposed convolution (deconvolution), NHWC ----------------------------------- */
/* The conv2d params: weight ref layout [out_c][kernel_h][kernel_w][in_c / groups], bias
 * [out_c] or NULL; pad_top/pad_left are the padding the transposed convolution crops. */
typedef hhbc_conv2d_params hhbc_deconv2d_params;

/* in [N][H][W][C], out [N][OH][OW][OC]: input pixel (ih, iw) of group g contributes
 * weight[oc][kh][kw][.] to output pixel (ih * stride_h - pad_top + kh * dilation_h,
 * iw * stride_w - pad_left + kw * dilation_w) for each oc of group g. The output size
 * comes from out->dim (any output padding included). */
void hhbc_deconv2d_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_deconv2d_params *p);

/* ---- strided slice (also crop) -------------------------------------------------------- */
typedef struct hhbc_strided_slice_params {
    int32_t ndim;
    int32_t out_dim[HHBC_MAX_DIMS];
    int32_t in_stride[HHBC_MAX_DIMS];   /* input element step per output axis (axis stride x slice step) */
    int32_t offset;                     /* input element read by output element 0 */
} hhbc_strided_slice_params;

/* out[idx] = in[offset + sum idx[i] * in_stride[i]]. */
void hhbc_strided_slice_f32(const hhbc_tensor *in, const hhbc_tensor *out,
                            const hhbc_strided_slice_params *p);

/* ---- local response normalization across channels (Caffe LRN) ------------------------- */
typedef struct hhbc_lrn_params {
    int32_t outer, channels, inner;   /* in viewed as [outer][channels][inner] */
    int32_t size, pre_pad;            /* channel c sums channels [c - pre_pad, c - pre_pad + size) */
    float alpha_over_size;            /* alpha / size */
    float k, beta;
} hhbc_lrn_params;

/* out = in * (k + alpha_over_size * sum of in^2 over the window, clipped to the
 * channels)^(-beta). */
void hhbc_lrn_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_lrn_params *p);

/* ---- cast between float32 and float16 (IEEE half, _Float16) ------------------------- */
typedef struct hhbc_cast_params {
    int32_t size;   /* elements */
} hhbc_cast_params;

/* out[i] = (_Float16)in[i] (round to nearest even) / out[i] = (float)in[i] (exact). */
void hhbc_cast_f32_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p);
void hhbc_cast_f16_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p);

/* ---- float16 reference kernels ----------------------------------------------------------
 * Same params and semantics as the _f32 kernels; activations (and conv/dense weights) are
 * _Float16; bias, PReLU slopes, resize weights and act params stay float32. They compute
 * in float32 (convert on load) and round to half once, on the store. */
void hhbc_conv2d_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_conv2d_params *p);
void hhbc_depthwise_conv2d_f16(const hhbc_tensor *in, const hhbc_tensor *out,
                               const hhbc_conv2d_params *p);
void hhbc_dense_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_params *p);
void hhbc_matmul_f16(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                     const hhbc_matmul_params *p);
void hhbc_binary_f16(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                     const hhbc_binary_params *p);
void hhbc_unary_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_unary_params *p);
void hhbc_prelu_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_params *p);
void hhbc_pool2d_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pool2d_params *p);
void hhbc_reduce_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_reduce_params *p);
void hhbc_concat_f16(const hhbc_tensor *const *in, const hhbc_tensor *out,
                     const hhbc_concat_params *p);
void hhbc_transpose_f16(const hhbc_tensor *in, const hhbc_tensor *out,
                        const hhbc_transpose_params *p);
void hhbc_pad_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_params *p);
void hhbc_softmax_f16(const hhbc_tensor *in, const hhbc_tensor *out,
                      const hhbc_softmax_params *p);
void hhbc_resize2d_f16(const hhbc_tensor *in, const hhbc_tensor *out,
                       const hhbc_resize2d_params *p);
void hhbc_copy_f16(const hhbc_tensor *in, const hhbc_tensor *out);
void hhbc_deconv2d_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_deconv2d_params *p);
void hhbc_strided_slice_f16(const hhbc_tensor *in, const hhbc_tensor *out,
                            const hhbc_strided_slice_params *p);
void hhbc_lrn_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_lrn_params *p);

#endif /* HHBC_KERNELS_H */
