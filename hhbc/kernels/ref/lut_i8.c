/* hhbc reference kernel: elementwise 256-entry table lookup, int8 (TFLite LOGISTIC, TANH). */
#include "hhbc_kernels_i8.h"

/* out[i] = table[(uint8_t)in[i]]; the table is built at compile time. */
void hhbc_lut_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_lut_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t size = hhbc_numel(in);
    for (int32_t i = 0; i < size; i++) dst[i] = p->table[(uint8_t)src[i]];
}
