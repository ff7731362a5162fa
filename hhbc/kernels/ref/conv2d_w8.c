/* hhbc reference kernel: 2-D convolution, NHWC, float32 activations, int8 weights.
 * out = act(w_scale[oc] * sum(x * w) + bias[oc]); the loop nest is conv2d_body.h. */
#include "hhbc_kernels_w8.h"
#include "hhbc_act.h"

static inline float conv2d_w8_finish(float acc, int32_t oc, const hhbc_conv2d_w8_params *p)
{
    acc *= p->w_scale[oc];
    if (p->bias) acc += p->bias[oc];
    return hhbc_act_apply(acc, &p->act);
}

#define HHBC_KERNEL hhbc_conv2d_w8
#define HHBC_T float
#define HHBC_PARAMS hhbc_conv2d_w8_params
#define HHBC_W_T int8_t
#define HHBC_MAC(acc, x, w) ((acc) += (x) * (float)(w))
#define HHBC_START(oc) 0.0f
#define HHBC_FINISH(acc, oc) conv2d_w8_finish((acc), (oc), p)

#include "conv2d_body.h"
