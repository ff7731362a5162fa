/* hhbc reference kernel: reduction over any set of axes, float32. The loop nest is reduce_body.h. */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"

#define HHBC_T float
#define HHBC_T_F32 1
#define HHBC_LD(x) (x)
#define HHBC_ST(v) (v)
#define HHBC_KERNEL hhbc_reduce_f32

#include "reduce_body.h"
