/* hhbc reference kernel: transpose (dimension permutation, or any strided copy), int8. Elements are copied as they are:
 * TFLite's int8 TRANSPOSE, DEPTH_TO_SPACE, SPACE_TO_DEPTH and *_TO_*_ND keep the input's quantization.
 * The loop nest is transpose_body.h. */
#include <math.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_act.h"

#define HHBC_T int8_t
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_ST(v) ((int8_t)(v))
#define HHBC_KERNEL hhbc_transpose_i8

#include "transpose_body.h"
