/*
 * hhbc C906 kernel: dense / fully connected, int8 (TFLite FULLY_CONNECTED), RVV 0.7.1
 * through hhbc_rvv071.h. Bit-exact with ref/dense_i8.c in every flavour: the MACs run in
 * vectors, the rescaling (fixed point, TFLite's double real_scale, or ONNX's float scale)
 * is the reference arithmetic on each output, scalar (a dense layer has few outputs).
 *
 * Constants: weight [K][N] int8 (packing.dense_kn: output features contiguous), the rest as
 * the reference has them. Per row of the input and strip of outputs (e16,m4 weights, e32,m8
 * accumulator v0, at most 32 lanes): per k one lb, one scalar subtraction of input_zp (once
 * per k for all lanes of the strip, not per MAC), one vlb.v of the weight strip, one
 * vwmacc.vx; the int32 sums go through a stack buffer to the scalar epilogue.
 */
#include "hhbc_c906_i8.h"

#define DENSE_STRIP 32

static int8_t dense_finish(int32_t acc, int32_t n, const hhbc_dense_i8_params *p)
{
    const int32_t q = p->per_channel ? n : 0;
    if (p->scale)   /* ONNX flavour */
        return (int8_t)hhbc_fp_requant_f32(acc, p->scale[q], p->output_zp, p->act_min, p->act_max);
    acc = (p->real_scale ? hhbc_fp_mul_by_real(acc, p->real_scale[q])
                         : hhbc_fp_mul_by_qm(acc, p->multiplier[q], p->shift[q]))
          + p->output_zp;
    return (int8_t)hhbc_fp_clamp(acc, p->act_min, p->act_max);
}

void hhbc_dense_i8_c906(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_dense_i8_params *p)
{
    const int8_t *src = (const int8_t *)in->data;
    int8_t *dst = (int8_t *)out->data;
    int32_t sums[DENSE_STRIP];

    for (int32_t m = 0; m < p->m; m++) {
        const int8_t *x = src + (size_t)m * p->k;
        for (int32_t n0 = 0; n0 < p->n;) {
            const int32_t left = p->n - n0;
            size_t vl;
            HV_VSETVLI(vl, (size_t)(left < DENSE_STRIP ? left : DENSE_STRIP), HV_E32M8);
            if (p->bias) {
                HV_VLE_RO(v0, p->bias + n0);
            } else {
                HV_VMV_V_I(v0, 0);
            }
            HV_VSETVLI(vl, vl, HV_E16M4);
            const int8_t *w = p->weight + n0;
            for (int32_t k = 0; k < p->k; k++, w += p->n) {
                const long xv = (long)x[k] - p->input_zp;
                HV_VLB_RO(v16, w);
                HV_VWMACC_VX(v0, xv, v16);
            }
            HV_VSETVLI(vl, vl, HV_E32M8);
            HV_VSE(v0, sums);
            for (size_t i = 0; i < vl; i++)
                dst[(size_t)m * p->n + n0 + (int32_t)i] = dense_finish(sums[i], n0 + (int32_t)i, p);
            n0 += (int32_t)vl;
        }
    }
}
