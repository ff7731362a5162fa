/* hhbc reference kernel: plain copy of numel(out) int8 elements. */
#include "hhbc_kernels_i8.h"

void hhbc_copy_i8(const hhbc_tensor *in, const hhbc_tensor *out)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t n = hhbc_numel(out);

    if (src == dst) return;
    for (int32_t i = 0; i < n; i++) dst[i] = src[i];
}
