/* hhbc reference kernel: strided slice (a box of the input at a fixed step), float32. The loop nest is strided_slice_body.h. */
#include <math.h>

#include "hhbc_kernels.h"
#include "hhbc_act.h"

#define HHBC_T float
#define HHBC_T_F32 1
#define HHBC_LD(x) (x)
#define HHBC_ST(v) (v)
#define HHBC_KERNEL hhbc_strided_slice_f32

#include "strided_slice_body.h"
