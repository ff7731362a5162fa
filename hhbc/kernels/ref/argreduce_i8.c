/* hhbc reference kernel: ArgMax/ArgMin, int8 input, int32 or int64 output. The loop nest is argreduce_body.h. */
#include <math.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_act.h"

#define HHBC_T int8_t
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_KERNEL hhbc_argreduce_i8

#include "argreduce_body.h"
