/* hhbc reference kernel: ArgMax/ArgMin, float16 input, int32 or int64 output. The loop nest is argreduce_body.h. */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"

#define HHBC_T _Float16
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_KERNEL hhbc_argreduce_f16

#include "argreduce_body.h"
