/*
 * hhbc fused activation, shared by every kernel variant.
 * Semantics: see hhbc_act_kind in hhbc_kernels.h.
 */
#ifndef HHBC_ACT_H
#define HHBC_ACT_H

#include <math.h>

#include "hhbc_kernels.h"

static inline float hhbc_act_apply(float x, const hhbc_act *a)
{
    switch (a->kind) {
    case HHBC_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case HHBC_ACT_CLIP:
        return fminf(fmaxf(x, a->lo), a->hi);
    case HHBC_ACT_LEAKY_RELU:
        return x >= 0.0f ? x : a->alpha * x;
    case HHBC_ACT_HARDSWISH:
        return x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case HHBC_ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case HHBC_ACT_NONE:
    default:
        return x;
    }
}

#endif /* HHBC_ACT_H */
