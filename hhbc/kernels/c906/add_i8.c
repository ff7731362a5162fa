/*
 * hhbc C906 kernel: elementwise add (and TFLite SUB) with numpy broadcasting, int8 (TFLite
 * ADD), RVV 0.7.1 through hhbc_rvv071.h. Bit-exact with ref/add_i8.c (TFLite flavour; the
 * ONNX QLinearAdd flavour stays on the reference kernel).
 *
 * The broadcast walk goes row by row over the output's innermost axis (hhbc_broadcast_i8);
 * along a row each input is contiguous (stride 1, vlb.v) or one value (stride 0, vmv.v.x).
 * Per strip (e32,m8, 32 lanes at VLEN 128): (x - zp) << left_shift, each input's
 * MultiplyByQuantizedMultiplier (vsmul + rounding shift, hhbc_c906_i8.h), the wrapping sum,
 * the output's, + zero point, clamp, vsb.v.
 */
#include "hhbc_c906_i8.h"

void hhbc_add_i8_c906(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out,
                      const hhbc_add_i8_params *p)
{
    const hhbc_broadcast_i8 *s = &p->shape;
    const int8_t *pa = (const int8_t *)a->data;
    const int8_t *pb = (const int8_t *)b->data;
    int8_t *dst = (int8_t *)out->data;
    const int32_t last = s->ndim - 1, row = s->out_dim[last];
    const int32_t sa = s->a_stride[last], sb = s->b_stride[last];
    const long ls = p->left_shift;
    int32_t idx[HHBC_MAX_DIMS] = {0};
    size_t ia = 0, ib = 0, o = 0;

    HC8_VXRM_RNU();
    do {
        for (int32_t i = 0; i < row;) {
            size_t vl;
            HV_VSETVLI(vl, (size_t)(row - i), HV_E32M8);
            if (sa) {
                HV_VLB_RO(v0, pa + ia + i);
            } else {
                HV_VMV_V_X(v0, (long)pa[ia]);
            }
            if (sb) {
                HV_VLB_RO(v8, pb + ib + i);
            } else {
                HV_VMV_V_X(v8, (long)pb[ib]);
            }
            HV_VSUB_VX(v0, v0, (long)p->a_zp);
            HV_VSUB_VX(v8, v8, (long)p->b_zp);
            HV_VSLL_VX(v0, v0, ls);
            HV_VSLL_VX(v8, v8, ls);
            HC8_MUL_BY_QM(v0, v16, p->a_multiplier, p->a_shift);
            HC8_MUL_BY_QM(v8, v16, p->b_multiplier, p->b_shift);
            if (p->sub) {
                HV_VSUB_VV(v0, v0, v8);
            } else {
                HV_VADD_VV(v0, v0, v8);
            }
            HC8_MUL_BY_QM(v0, v16, p->output_multiplier, p->output_shift);
            HV_VADD_VX(v0, v0, (long)p->output_zp);
            HV_VMAX_VX(v0, v0, (long)p->act_min);
            HV_VMIN_VX(v0, v0, (long)p->act_max);
            HV_VSB(v0, dst + o + i);
            i += (int32_t)vl;
        }
        o += (size_t)row;
    } while (hhbc_broadcast_next_row(s, idx, &ia, &ib));
}
