/* hhbc reference kernel: gather, int8. The loop nest is gather_body.h. */
#include <math.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_act.h"

#define HHBC_T int8_t
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_ST(v) ((int8_t)(v))
#define HHBC_KERNEL hhbc_gather_i8

#include "gather_body.h"
