/* hhbc reference kernel: ArgMax/ArgMin, float32 input, int32 or int64 output. The loop nest is argreduce_body.h. */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"

#define HHBC_T float
#define HHBC_T_F32 1
#define HHBC_LD(x) (x)
#define HHBC_KERNEL hhbc_argreduce_f32

#include "argreduce_body.h"
