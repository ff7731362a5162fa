/* hhbc reference kernel: 2-D convolution, NHWC, float16 activations (_Float16), int8 weights
 * (the float16_w_int8 scheme). out = half(act(w_scale[oc] * sum(x * w) + bias[oc])): products
 * and sums in float32, the channel scale and the bias applied once, rounded to half once.
 * The loop nest is conv2d_body.h. */
#include "hhbc_kernels_w8.h"
#include "hhbc_act.h"

static inline _Float16 conv2d_f16w8_finish(float acc, int32_t oc, const hhbc_conv2d_w8_params *p)
{
    acc *= p->w_scale[oc];
    if (p->bias) acc += p->bias[oc];
    return (_Float16)hhbc_act_apply(acc, &p->act);
}

#define HHBC_KERNEL hhbc_conv2d_f16w8
#define HHBC_T _Float16
#define HHBC_PARAMS hhbc_conv2d_w8_params
#define HHBC_W_T int8_t
#define HHBC_MAC(acc, x, w) ((acc) += (float)(x) * (float)(w))
#define HHBC_START(oc) 0.0f
#define HHBC_FINISH(acc, oc) conv2d_f16w8_finish((acc), (oc), p)

#include "conv2d_body.h"
