/*
 * hhbc reference kernel body: concatenation along one axis. Type-generic (see
 * conv2d_body.h); elements are copied as they are.
 *
 * Each input i is viewed as [outer][axis_dim[i]][inner] and out as
 * [outer][sum axis_dim][inner]; for every outer index the inputs' contiguous
 * blocks of axis_dim[i] * inner elements are copied one after another.
 */
void HHBC_KERNEL(const hhbc_tensor *const *in, const hhbc_tensor *out, const hhbc_concat_params *p)
{
    HHBC_T *dst = (HHBC_T *)out->data;

    for (int32_t o = 0; o < p->outer; o++) {
        for (int32_t i = 0; i < p->num_inputs; i++) {
            const int32_t block = p->axis_dim[i] * p->inner;
            const HHBC_T *x = (const HHBC_T *)in[i]->data + (size_t)o * block;
            for (int32_t j = 0; j < block; j++) dst[j] = x[j];
            dst += block;
        }
    }
}
