/*
 * hhbc reference kernel body: N-D padding (constant, edge, reflect). Type-generic (see
 * conv2d_body.h); elements are copied as they are, the float32 fill value is rounded once.
 */

/*
 * Source index along one axis for output index o, or -1 when a constant fill is
 * due. EDGE clamps to the border (numpy 'edge'); REFLECT mirrors without repeating
 * the border element (numpy 'reflect'), periodically for pads wider than the axis.
 */
static inline int32_t hhbc_pad_src_index(hhbc_pad_mode mode, int32_t o, int32_t before, int32_t n)
{
    int32_t i = o - before;

    if (i >= 0 && i < n) return i;
    switch (mode) {
    case HHBC_PAD_EDGE:
        return i < 0 ? 0 : n - 1;
    case HHBC_PAD_REFLECT:
        if (n == 1) return 0;
        {
            const int32_t period = 2 * (n - 1);
            i %= period;
            if (i < 0) i += period;
            return i < n ? i : period - i;
        }
    case HHBC_PAD_CONSTANT:
    default:
        return -1;
    }
}

/*
 * out[idx] = in[src(idx)] per axis, or value where any axis falls in a constant pad.
 * The last output axis is the inner loop; the outer axes advance as an odometer.
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_pad_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const HHBC_T value = HHBC_ST(p->value);
    const int32_t last = p->ndim - 1;
    const int32_t inner = p->out_dim[last];
    int32_t in_stride[HHBC_MAX_DIMS];
    int32_t idx[HHBC_MAX_DIMS] = {0};
    int32_t outer = 1;

    in_stride[last] = 1;
    for (int32_t ax = last - 1; ax >= 0; ax--) in_stride[ax] = in_stride[ax + 1] * p->in_dim[ax + 1];
    for (int32_t ax = 0; ax < last; ax++) outer *= p->out_dim[ax];

    for (int32_t o = 0; o < outer; o++) {
        /* input row for the current outer index, or none (constant fill) */
        int32_t row = 0;
        int32_t fill = 0;
        for (int32_t ax = 0; ax < last; ax++) {
            const int32_t s = hhbc_pad_src_index(p->mode, idx[ax], p->before[ax], p->in_dim[ax]);
            if (s < 0) { fill = 1; break; }
            row += s * in_stride[ax];
        }
        if (fill) {
            for (int32_t j = 0; j < inner; j++) dst[j] = value;
        } else {
            const HHBC_T *x = src + row;
            for (int32_t j = 0; j < inner; j++) {
                const int32_t s = hhbc_pad_src_index(p->mode, j, p->before[last], p->in_dim[last]);
                dst[j] = s < 0 ? value : x[s];
            }
        }
        dst += inner;
        for (int32_t ax = last - 1; ax >= 0; ax--) {
            if (++idx[ax] < p->out_dim[ax]) break;
            idx[ax] = 0;
        }
    }
}
