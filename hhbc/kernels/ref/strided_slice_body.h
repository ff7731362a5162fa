/*
 * hhbc reference kernel body: strided slice (a box of the input at a fixed step).
 * Type-generic (see conv2d_body.h); elements are copied as they are.
 *
 * out is dense with extents out_dim[0..ndim); the element at index idx reads
 * in[offset + sum idx[i] * in_stride[i]]. The last output axis is the inner loop;
 * the outer axes advance as an odometer.
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_strided_slice_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t last = p->ndim - 1;
    const int32_t inner = p->out_dim[last];
    const int32_t is = p->in_stride[last];
    int32_t idx[HHBC_MAX_DIMS] = {0};
    int32_t outer = 1;
    int32_t ib = p->offset;

    for (int32_t i = 0; i < last; i++) outer *= p->out_dim[i];

    for (int32_t o = 0; o < outer; o++) {
        const HHBC_T *x = src + ib;
        for (int32_t j = 0; j < inner; j++) dst[j] = x[j * is];
        dst += inner;
        for (int32_t ax = last - 1; ax >= 0; ax--) {
            idx[ax]++;
            ib += p->in_stride[ax];
            if (idx[ax] < p->out_dim[ax]) break;
            ib -= p->in_stride[ax] * p->out_dim[ax];
            idx[ax] = 0;
        }
    }
}
