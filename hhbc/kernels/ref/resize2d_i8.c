/* hhbc reference kernel: 2-D nearest resize with index tables, NHWC, int8. Elements are copied as they are
 * (TFLite's int8 RESIZE_NEAREST_NEIGHBOR keeps the input's quantization); the table takes
 * only mode NEAREST for int8 (bilinear int8 needs TFLite's fixed-point arithmetic).
 * The loop nest is resize2d_body.h. */
#include <math.h>

#include "hhbc_kernels_i8.h"
#include "hhbc_act.h"

#define HHBC_T int8_t
#define HHBC_T_F32 0
#define HHBC_LD(x) ((float)(x))
#define HHBC_ST(v) ((int8_t)(v))
#define HHBC_KERNEL hhbc_resize2d_i8

#include "resize2d_body.h"
