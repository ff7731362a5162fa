/*
 * hhbc reference kernel body: elementwise unary op followed by an activation.
 * Type-generic (see conv2d_body.h): computed in float, rounded once.
 */
/* Round half to even (ONNX Round, numpy.round) whatever the current rounding mode. */
static inline float hhbc_round_half_even(float x)
{
    float r = floorf(x);
    float d = x - r;
    if (d > 0.5f || (d == 0.5f && fmodf(r, 2.0f) != 0.0f))
        r += 1.0f;
    return r;
}

/* log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)). */
static inline float hhbc_softplus(float x)
{
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

static inline float hhbc_unary_apply(hhbc_unary_op op, float x)
{
    switch (op) {
    case HHBC_UN_TANH:  return tanhf(x);
    case HHBC_UN_EXP:   return expf(x);
    case HHBC_UN_LOG:   return logf(x);
    case HHBC_UN_SQRT:  return sqrtf(x);
    case HHBC_UN_RSQRT: return 1.0f / sqrtf(x);
    case HHBC_UN_ABS:   return fabsf(x);
    case HHBC_UN_NEG:   return -x;
    case HHBC_UN_ERF:   return erff(x);
    case HHBC_UN_FLOOR: return floorf(x);
    case HHBC_UN_CEIL:  return ceilf(x);
    case HHBC_UN_ROUND: return isfinite(x) ? hhbc_round_half_even(x) : x;
    case HHBC_UN_SIGN:  return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x;   /* keeps 0, -0 and NaN */
    case HHBC_UN_SOFTPLUS: return hhbc_softplus(x);
    case HHBC_UN_ACT:
    default:            return x;
    }
}

/* out[i] = act(op(in[i])) for i < size; HHBC_UN_ACT applies act only. */
void HHBC_KERNEL(const hhbc_tensor *in, const hhbc_tensor *out, const hhbc_unary_params *p)
{
    const HHBC_T *src = (const HHBC_T *)in->data;
    HHBC_T *dst = (HHBC_T *)out->data;

    for (int32_t i = 0; i < p->size; i++)
        dst[i] = HHBC_ST(hhbc_act_apply(hhbc_unary_apply(p->op, HHBC_LD(src[i])), &p->act));
}
