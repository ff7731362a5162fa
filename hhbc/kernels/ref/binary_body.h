/*
 * hhbc reference kernel body: elementwise binary op with broadcasting. Type-generic
 * (see conv2d_body.h): operands are converted to float, the result rounded once.
 */
static inline float hhbc_binary_apply(hhbc_binary_op op, float x, float y)
{
    switch (op) {
    case HHBC_BIN_ADD: return x + y;
    case HHBC_BIN_SUB: return x - y;
    case HHBC_BIN_MUL: return x * y;
    case HHBC_BIN_DIV: return x / y;
    case HHBC_BIN_MAX: return fmaxf(x, y);
    case HHBC_BIN_MIN: return fminf(x, y);
    case HHBC_BIN_POW: return powf(x, y);
    default: return x;
    }
}

/*
 * out is dense with extents out_dim[0..ndim); the element at index idx reads
 * a[sum idx[i] * a_stride[i]] and b[sum idx[i] * b_stride[i]] (stride 0 broadcasts).
 * The last axis is the inner loop; the outer axes advance as an odometer.
 */
void HHBC_KERNEL(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                 const hhbc_binary_params *p)
{
    const HHBC_T *pa = (const HHBC_T *)a->data;
    const HHBC_T *pb = (const HHBC_T *)b->data;
    HHBC_T *dst = (HHBC_T *)out->data;
    const int32_t nd = p->ndim;
    const int32_t last = nd - 1;
    const int32_t inner = p->out_dim[last];
    const int32_t sa = p->a_stride[last], sb = p->b_stride[last];
    int32_t idx[HHBC_MAX_DIMS] = {0};
    int32_t outer = 1;
    int32_t oa = 0, ob = 0;

    for (int32_t i = 0; i < last; i++) outer *= p->out_dim[i];

    for (int32_t o = 0; o < outer; o++) {
        for (int32_t j = 0; j < inner; j++) {
            const float v = hhbc_binary_apply(p->op, HHBC_LD(pa[oa + j * sa]), HHBC_LD(pb[ob + j * sb]));
            dst[j] = HHBC_ST(hhbc_act_apply(v, &p->act));
        }
        dst += inner;
        /* advance the outer index (axes last-1 .. 0) */
        for (int32_t ax = last - 1; ax >= 0; ax--) {
            idx[ax]++;
            oa += p->a_stride[ax];
            ob += p->b_stride[ax];
            if (idx[ax] < p->out_dim[ax]) break;
            oa -= p->a_stride[ax] * p->out_dim[ax];
            ob -= p->b_stride[ax] * p->out_dim[ax];
            idx[ax] = 0;
        }
    }
}
