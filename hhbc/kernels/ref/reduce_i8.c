/* hhbc reference kernel: REDUCE_MAX / REDUCE_MIN over any set of axes, int8. TFLite's int8 REDUCE_MAX and REDUCE_MIN
 * compare raw int8 values (input and output share one scale); int8 -> float is exact. The table
 * takes only max/min for int8.
 * The loop nest is reduce_body.h. */
#include <math.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_act.h"

#define HHBC_T int8_t
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_ST(v) ((int8_t)(v))
#define HHBC_KERNEL hhbc_reduce_i8

#include "reduce_body.h"
