/* hhbc reference kernel: where, float16. The loop nest is where_body.h. */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"

#define HHBC_T _Float16
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_ST(v) ((_Float16)(v))
#define HHBC_KERNEL hhbc_where_f16

#include "where_body.h"
