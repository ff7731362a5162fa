/* Reference casts between float32 and float16 (_Float16, IEEE half). */
#include "hhbc_kernels.h"

void hhbc_cast_f32_f16(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p)
{
    const float *x = (const float *)in->data;
    _Float16 *y = (_Float16 *)out->data;
    for (int32_t i = 0; i < p->size; i++) y[i] = (_Float16)x[i];
}

void hhbc_cast_f16_f32(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_cast_params *p)
{
    const _Float16 *x = (const _Float16 *)in->data;
    float *y = (float *)out->data;
    for (int32_t i = 0; i < p->size; i++) y[i] = (float)x[i];
}
