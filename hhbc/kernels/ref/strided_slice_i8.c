/* hhbc reference kernel: strided slice (a box of the input at a fixed step), int8. Elements are copied as they are:
 * TFLite's int8 STRIDED_SLICE, SLICE, SPLIT, SPLIT_V and UNPACK keep the input's quantization.
 * The loop nest is strided_slice_body.h. */
#include <math.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_act.h"

#define HHBC_T int8_t
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_ST(v) ((int8_t)(v))
#define HHBC_KERNEL hhbc_strided_slice_i8

#include "strided_slice_body.h"
