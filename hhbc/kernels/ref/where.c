/* hhbc reference kernel: where, float32. The loop nest is where_body.h. */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"

#define HHBC_T float
#define HHBC_T_F32 1
#define HHBC_LD(x) (x)
#define HHBC_ST(v) (v)
#define HHBC_KERNEL hhbc_where_f32

#include "where_body.h"
