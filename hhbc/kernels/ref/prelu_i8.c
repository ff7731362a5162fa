/* hhbc reference kernel: PRELU, int8 (TFLite PRELU, one slope per channel of the last axis). */
#include "hhbc_kernels_i8.h"

/* out[i] = table[c * 256 + (uint8_t)in[i]], c the channel (last axis) of element i; the
 * [channels, 256] table holds TFLite's int8 arithmetic, made at compile time. */
void hhbc_prelu_i8(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_prelu_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t size = hhbc_numel(in);
    int32_t c = 0;
    for (int32_t i = 0; i < size; i++) {
        dst[i] = p->table[(size_t)c * 256u + (uint8_t)src[i]];
        if (++c == p->channels) c = 0;
    }
}
