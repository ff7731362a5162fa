/* hhbc reference kernel: 2-D resize (nearest / bilinear) with index tables, NHWC, float32. The loop nest is resize2d_body.h. */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"

#define HHBC_T float
#define HHBC_T_F32 1
#define HHBC_LD(x) (x)
#define HHBC_ST(v) (v)
#define HHBC_KERNEL hhbc_resize2d_f32

#include "resize2d_body.h"
