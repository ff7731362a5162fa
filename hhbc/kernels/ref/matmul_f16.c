/* hhbc reference kernel: batched matrix multiply of two activations, float16 (_Float16 activations),
 * computed in float32 and rounded to half once per output. The loop nest is matmul_body.h. */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"

#define HHBC_T _Float16
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_ST(v) ((_Float16)(v))
#define HHBC_KERNEL hhbc_matmul_f16

#include "matmul_body.h"
