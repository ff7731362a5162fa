/*
 * Host-side helpers for the generated kernel test drivers (tests/kernels).
 * Inputs are loaded into exact-size heap blocks and outputs are pre-filled with NaN,
 * so out-of-bounds accesses (under ASan) and unwritten outputs are both caught.
 */
#ifndef HHBC_REF_DRIVER_H
#define HHBC_REF_DRIVER_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void hb_fail(const char *what, const char *path)
{
    fprintf(stderr, "driver: %s: %s\n", what, path);
    exit(2);
}

static void *hb_load(const char *path, size_t nbytes)
{
    void *buf = malloc(nbytes ? nbytes : 1);
    FILE *f = fopen(path, "rb");
    if (!buf || !f) hb_fail("cannot open", path);
    if (fread(buf, 1, nbytes, f) != nbytes) hb_fail("short read", path);
    fclose(f);
    return buf;
}

static float *hb_out(size_t n)
{
    float *buf = (float *)malloc(n ? n * sizeof(float) : 1);
    if (!buf) hb_fail("out of memory", "");
    for (size_t i = 0; i < n; i++) buf[i] = NAN;
    return buf;
}

static void hb_save(const char *path, const float *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) hb_fail("cannot create", path);
    if (fwrite(data, sizeof(float), n, f) != n) hb_fail("short write", path);
    fclose(f);
}

#endif /* HHBC_REF_DRIVER_H */
