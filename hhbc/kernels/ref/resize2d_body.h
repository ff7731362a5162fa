/*
 * hhbc reference kernel body: 2-D resize (nearest / bilinear) with index tables, NHWC.
 * Type-generic (see conv2d_body.h): NEAREST copies elements as they are; BILINEAR
 * computes in float (float32 weight tables) and rounds once.
 *
 * in [N][H][W][C], out [N][OH][OW][C].
 *  NEAREST:  out[oy][ox] = in[y0[oy]][x0[ox]].
 *  BILINEAR: out[oy][ox] = (1-wy)(1-wx) in[y0][x0] + (1-wy) wx in[y0][x1]
 *                        + wy (1-wx) in[y1][x0] + wy wx in[y1][x1]
 *            with y0/y1/wy indexed by oy and x0/x1/wx by ox.
 */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_resize2d_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t batch = in->dim[0], ih_n = in->dim[1], iw_n = in->dim[2], c_n = in->dim[3];
    const int32_t oh_n = out->dim[1], ow_n = out->dim[2];
    const size_t row = (size_t)iw_n * c_n;   /* elements per input row */

    for (int32_t n = 0; n < batch; n++) {
        const HHBC_T *src_n = src + (size_t)n * ih_n * row;
        for (int32_t oy = 0; oy < oh_n; oy++) {
            const HHBC_T *r0 = src_n + (size_t)p->y0[oy] * row;
            if (p->mode == HHBC_RESIZE_NEAREST) {
                for (int32_t ox = 0; ox < ow_n; ox++) {
                    const HHBC_T *x = r0 + (size_t)p->x0[ox] * c_n;
                    for (int32_t c = 0; c < c_n; c++) dst[c] = x[c];
                    dst += c_n;
                }
            } else {
                const HHBC_T *r1 = src_n + (size_t)p->y1[oy] * row;
                const float wy = p->wy[oy];
                for (int32_t ox = 0; ox < ow_n; ox++) {
                    const float wx = p->wx[ox];
                    const float w00 = (1.0f - wy) * (1.0f - wx), w01 = (1.0f - wy) * wx;
                    const float w10 = wy * (1.0f - wx), w11 = wy * wx;
                    const HHBC_T *p00 = r0 + (size_t)p->x0[ox] * c_n;
                    const HHBC_T *p01 = r0 + (size_t)p->x1[ox] * c_n;
                    const HHBC_T *p10 = r1 + (size_t)p->x0[ox] * c_n;
                    const HHBC_T *p11 = r1 + (size_t)p->x1[ox] * c_n;
                    for (int32_t c = 0; c < c_n; c++)
                        dst[c] = HHBC_ST(w00 * HHBC_LD(p00[c]) + w01 * HHBC_LD(p01[c])
                                         + w10 * HHBC_LD(p10[c]) + w11 * HHBC_LD(p11[c]));
                    dst += c_n;
                }
            }
        }
    }
}
