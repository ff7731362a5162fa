/*
 * hhbc reference kernel body: where with a constant condition (ONNX Where).
 * Type-generic (see conv2d_body.h); elements are copied as they are.
 *
 * out is dense with extents out_dim[0..ndim); at index idx it is
 *   cond[sum idx*c_stride] ? a[sum idx*a_stride] : b[sum idx*b_stride]
 * (broadcast axes have stride 0). cond is one byte per element, 0 or 1.
 */
void HHBC_KERNEL(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                 const hhbc_where_params *p)
{
    const HHBC_T *pa = (const HHBC_T *)a->data;
    const HHBC_T *pb = (const HHBC_T *)b->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    int32_t idx[HHBC_MAX_DIMS] = {0};
    int32_t ia = 0, ib = 0, ic = 0;
    int32_t total = 1;

    for (int32_t i = 0; i < p->ndim; i++) total *= p->out_dim[i];
    for (int32_t e = 0; e < total; e++) {
        dst[e] = p->cond[ic] ? pa[ia] : pb[ib];
        for (int32_t ax = p->ndim - 1; ax >= 0; ax--) {
            idx[ax]++;
            ia += p->a_stride[ax];
            ib += p->b_stride[ax];
            ic += p->c_stride[ax];
            if (idx[ax] < p->out_dim[ax]) break;
            ia -= p->a_stride[ax] * p->out_dim[ax];
            ib -= p->b_stride[ax] * p->out_dim[ax];
            ic -= p->c_stride[ax] * p->out_dim[ax];
            idx[ax] = 0;
        }
    }
}
