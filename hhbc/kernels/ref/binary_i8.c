/* hhbc reference kernel: elementwise MAXIMUM / MINIMUM with broadcasting, int8. TFLite's int8 MAXIMUM and MINIMUM
 * compare the raw int8 values (input and output share one scale); int8 -> float is exact, so
 * the float comparison of binary_body.h gives them bit for bit. The table takes only max/min.
 * The loop nest is binary_body.h. */
#include <math.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_act.h"

#define HHBC_T int8_t
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_ST(v) ((int8_t)(v))
#define HHBC_KERNEL hhbc_binary_i8

#include "binary_body.h"
