/* hhbc reference kernel: int8 -> float (TFLite DEQUANTIZE). */
#include "hhbc_kernels_i8.h"

/* scale * (x - zero_point): one float rounding of an exact product, as TFLite's double
 * product rounded to float. */
void hhbc_dequantize_i8(const hhbc_tensor *in, const hhbc_tensor *out,
                        const hhbc_affine_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    float *dst = (float *)out->data;
    const int32_t size = hhbc_numel(in);
    for (int32_t i = 0; i < size; i++) dst[i] = p->scale * (float)((int32_t)src[i] - p->zero_point);
}
