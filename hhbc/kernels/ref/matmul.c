/* hhbc reference kernel: batched matrix multiply of two activations, float32. The loop nest is matmul_body.h. */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"

#define HHBC_T float
#define HHBC_T_F32 1
#define HHBC_LD(x) (x)
#define HHBC_ST(v) (v)
#define HHBC_KERNEL hhbc_matmul_f32

#include "matmul_body.h"
