/*
 * insn_count.c -- a QEMU TCG plugin that counts executed RISC-V instructions per region.
 *
 * Built by hhbc.profile.build_plugin() with
 *     python -m ziglang cc -target x86_64-linux-gnu -shared -fPIC -O2 insn_count.c -o insn_count.so
 * and loaded by xuantie-qemu (6.0.94, plugin API version 1) as
 *     qemu-riscv64 -plugin insn_count.so,arg=out=PATH[,arg=vtype=v07] prog args...
 *
 * Regions.  `slti x0, x0, imm` (0x00002013 | imm << 20) is a RISC-V HINT, an architectural
 * no-op.  Executing one switches the current region to `imm` (0..4095, the 12-bit field read
 * unsigned).  Region 0 is current before the first marker.  The marker instruction itself is
 * counted in the region it opens.
 *
 * Classes.  Every executed instruction is counted once in `total` and in exactly one of
 *     vsetvl     OP-V (0x57) with funct3 = 111: vsetvli, vsetivli, vsetvl
 *     vec_arith  any other OP-V (0x57) instruction, and XTheadVdot's th.vmaqa* (custom-0
 *                0x0b, funct3 = 110, funct7 = 100xxxx: C908 int8 dot products)
 *     vec_mem    LOAD-FP (0x07) / STORE-FP (0x27) whose width field is not 1..4
 *                (1..4 are the scalar FLH/FLW/FLD/FLQ and their stores)
 *     scalar     everything else, including 16-bit compressed instructions.
 * RVV 0.7.1 (c906 "XTheadVector") uses the same major opcodes and width encodings, so the
 * classification is the same for both vector specs.
 *
 * LMUL weighting.  vec_lmul_weighted = sum over vec_arith + vec_mem instructions of the
 * LMUL in force when they execute (fractional LMUL weighs 1; RVV 1.0 whole-register
 * loads/stores vl<n>r / vs<n>r weigh n, mask loads/stores vlm/vsm weigh 1).  LMUL comes from
 * the vtype immediate of vsetvli / vsetivli: RVV 1.0 vlmul = vtype[2:0] (the default), RVV
 * 0.7.1 vlmul = vtype[1:0] (`arg=vtype=v07`).  A vsetvl with a register vtype leaves the last
 * known LMUL in place.  The initial LMUL is 1.
 *
 * Design.  At translation each TB is cut at its markers into segments; each segment's class
 * counts are static.  A segment's vector instructions whose LMUL follows from an earlier
 * vsetvli in the same TB get their weight statically; the others ("dynamic") are weighted by
 * the run-time LMUL, which only changes when a segment containing a vsetvli(imm) executes.
 *   - the first segment of a TB, when it neither has dynamic vector instructions nor sets
 *     LMUL, gets an inline ADD_U64 on its execution counter (no helper call).  These counters
 *     are folded into the current region lazily: whenever the region changes and at exit.
 *   - the first segment of a TB that does have either gets a TB exec callback, which adds its
 *     counts to the current region directly and updates the run-time LMUL.
 *   - a segment that starts at a marker gets an exec callback on the marker instruction: it
 *     folds the pending inline counters into the old region, switches region, then adds the
 *     segment's counts like the TB callback does.
 * A TB that leaves early (a fault in its middle) is counted as if it had run to the end.
 * The counters are not atomic: guests are expected to be single-threaded.
 *
 * Output (at exit, to out=PATH; stderr when no path is given), JSON:
 *   {"format": "hhbc-insn-count-1", "vtype": "v10",
 *    "regions": {"0": {"total": N, "scalar": N, "vec_arith": N, "vec_mem": N,
 *                      "vsetvl": N, "vec_lmul_weighted": N}, ...}}
 * listing only regions that executed at least one instruction.
 *
 * No package ships qemu-plugin.h, so the few entry points used are declared here; their
 * signatures are the ones of QEMU 6.0/6.1 (API versions 0 and 1).
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the QEMU plugin API (subset of qemu-plugin.h, QEMU 6.x) ---- */

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;   /* never dereferenced */

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

/* xuantie-qemu 6.0.94 accepts API versions 0..1 (it rejects 2 with "supports only up to
 * version 1"); 1 is the version of the QEMU 6.1 header these declarations follow. */
QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* ---- counters ---- */

enum { C_TOTAL, C_SCALAR, C_VARITH, C_VMEM, C_VSETVL, C_WEIGHTED, N_COUNTERS };
static const char *const counter_names[N_COUNTERS] = {
    "total", "scalar", "vec_arith", "vec_mem", "vsetvl", "vec_lmul_weighted",
};

#define N_REGIONS 4096

typedef struct Segment {
    uint64_t execs;              /* inline-incremented (inline segments only) */
    uint64_t folded;             /* execs already folded into a region */
    uint64_t counts[N_COUNTERS]; /* per execution; C_WEIGHTED holds the static part only */
    uint64_t dynamic_vec;        /* vector insns weighted by the run-time LMUL */
    uint32_t exit_lmul;          /* LMUL after the segment, 0 = unchanged */
    uint32_t region;             /* region opened by the marker starting it (marker segments) */
} Segment;

static uint64_t regions[N_REGIONS][N_COUNTERS];
static uint32_t current_region;
static uint64_t current_lmul = 1;

static Segment **inline_segments;     /* all segments with an inline counter */
static size_t n_inline, cap_inline;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool vtype_v07;
static char *out_path;

/* ---- decoding ---- */

static bool is_marker(uint32_t w)
{
    /* slti x0, x0, imm: opcode OP-IMM (0x13), rd = 0, funct3 = 010, rs1 = 0 */
    return (w & 0x000fffffu) == 0x00002013u;
}

static uint32_t lmul_weight(uint32_t vtype)
{
    if (vtype_v07)
        return 1u << (vtype & 3u);                 /* vlmul[1:0]: 1, 2, 4, 8 */
    uint32_t vlmul = vtype & 7u;                   /* vlmul[2:0] */
    return vlmul <= 3 ? (1u << vlmul) : 1u;        /* 1..8; fractional (and reserved) -> 1 */
}

typedef struct Decoded {
    int cls;            /* C_SCALAR, C_VARITH, C_VMEM, C_VSETVL */
    uint32_t set_lmul;  /* vsetvli/vsetivli: the LMUL it sets; 0 otherwise */
    uint32_t fixed_weight; /* vector insn whose weight does not depend on LMUL; 0 otherwise */
} Decoded;

static Decoded decode(const uint8_t *bytes, size_t size)
{
    Decoded d = {C_SCALAR, 0, 0};
    if (size != 4)
        return d;
    uint32_t w = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16
               | (uint32_t)bytes[3] << 24;
    uint32_t opcode = w & 0x7fu, funct3 = (w >> 12) & 7u;
    if (opcode == 0x57) {
        if (funct3 != 7) {
            d.cls = C_VARITH;
            return d;
        }
        d.cls = C_VSETVL;
        if (!(w >> 31))                            /* vsetvli: zimm[10:0] = w[30:20] */
            d.set_lmul = lmul_weight((w >> 20) & 0x7ffu);
        else if (!vtype_v07 && (w >> 30) == 3)     /* vsetivli: zimm[9:0] = w[29:20] */
            d.set_lmul = lmul_weight((w >> 20) & 0x3ffu);
        /* vsetvl rd, rs1, rs2: vtype in a register -> keep the last known LMUL */
        return d;
    }
    if (opcode == 0x0b && funct3 == 6 && (w >> 29) == 4u) {   /* th.vmaqa{,u,su,us}.{vv,vx} */
        d.cls = C_VARITH;
        return d;
    }
    if ((opcode == 0x07 || opcode == 0x27) && !(funct3 >= 1 && funct3 <= 4)) {
        d.cls = C_VMEM;
        if (!vtype_v07) {
            uint32_t mop = (w >> 26) & 3u, lumop = (w >> 20) & 0x1fu, nf = w >> 29;
            if (mop == 0 && lumop == 0x08)        /* vl<nf+1>r.v / vs<nf+1>r.v */
                d.fixed_weight = nf + 1;
            else if (mop == 0 && lumop == 0x0b)   /* vlm.v / vsm.v */
                d.fixed_weight = 1;
        }
    }
    return d;
}

/* ---- run time ---- */

static void fold_inline(void)
{
    uint64_t *r = regions[current_region];
    for (size_t i = 0; i < n_inline; i++) {
        Segment *s = inline_segments[i];
        uint64_t delta = s->execs - s->folded;
        if (delta) {
            s->folded = s->execs;
            for (int c = 0; c < N_COUNTERS; c++)
                r[c] += delta * s->counts[c];
        }
    }
}

static void add_segment(const Segment *s)
{
    uint64_t *r = regions[current_region];
    for (int c = 0; c < N_COUNTERS; c++)
        r[c] += s->counts[c];
    r[C_WEIGHTED] += s->dynamic_vec * current_lmul;
    if (s->exit_lmul)
        current_lmul = s->exit_lmul;
}

static void vcpu_segment_exec(unsigned int vcpu_index, void *udata)
{
    (void)vcpu_index;
    add_segment((const Segment *)udata);
}

static void vcpu_marker_exec(unsigned int vcpu_index, void *udata)
{
    (void)vcpu_index;
    const Segment *s = (const Segment *)udata;
    pthread_mutex_lock(&lock);
    fold_inline();
    current_region = s->region;
    pthread_mutex_unlock(&lock);
    add_segment(s);
}

/* ---- translation ---- */

static Segment *new_segment(void)
{
    Segment *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "insn_count: out of memory\n");
        abort();
    }
    return s;
}

static void finish_segment(struct qemu_plugin_tb *tb, struct qemu_plugin_insn *marker, Segment *s)
{
    if (!s || s->counts[C_TOTAL] == 0)
        return;
    if (marker) {
        qemu_plugin_register_vcpu_insn_exec_cb(marker, vcpu_marker_exec, QEMU_PLUGIN_CB_NO_REGS, s);
    } else if (s->dynamic_vec || s->exit_lmul) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, vcpu_segment_exec, QEMU_PLUGIN_CB_NO_REGS, s);
    } else {
        pthread_mutex_lock(&lock);
        if (n_inline == cap_inline) {
            size_t cap = cap_inline ? 2 * cap_inline : 1024;
            Segment **grown = realloc(inline_segments, cap * sizeof *grown);
            if (!grown) {
                fprintf(stderr, "insn_count: out of memory\n");
                abort();
            }
            inline_segments = grown;
            cap_inline = cap;
        }
        inline_segments[n_inline++] = s;
        pthread_mutex_unlock(&lock);
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &s->execs, 1);
    }
}

static void vcpu_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    Segment *seg = NULL;
    struct qemu_plugin_insn *seg_marker = NULL;   /* the marker starting seg, NULL for the first */
    uint32_t known_lmul = 0;                      /* 0: LMUL is whatever it was at TB entry */

    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const uint8_t *bytes = (const uint8_t *)qemu_plugin_insn_data(insn);
        size_t size = qemu_plugin_insn_size(insn);
        uint32_t w = 0;
        if (size == 4)
            w = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16
              | (uint32_t)bytes[3] << 24;

        if (size == 4 && is_marker(w)) {
            finish_segment(tb, seg_marker, seg);
            seg = new_segment();
            seg_marker = insn;
            seg->region = w >> 20;
        } else if (!seg) {
            seg = new_segment();
        }

        Decoded d = decode(bytes, size);
        seg->counts[C_TOTAL]++;
        seg->counts[d.cls]++;
        if (d.cls == C_VSETVL) {
            if (d.set_lmul) {
                known_lmul = d.set_lmul;
                seg->exit_lmul = d.set_lmul;
            }
        } else if (d.cls == C_VARITH || d.cls == C_VMEM) {
            if (d.fixed_weight)
                seg->counts[C_WEIGHTED] += d.fixed_weight;
            else if (known_lmul)
                seg->counts[C_WEIGHTED] += known_lmul;
            else
                seg->dynamic_vec++;
        }
    }
    finish_segment(tb, seg_marker, seg);
}

/* ---- exit ---- */

static void plugin_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    pthread_mutex_lock(&lock);
    fold_inline();
    FILE *f = out_path ? fopen(out_path, "w") : stderr;
    if (!f) {
        fprintf(stderr, "insn_count: cannot write %s\n", out_path);
        pthread_mutex_unlock(&lock);
        return;
    }
    fprintf(f, "{\"format\": \"hhbc-insn-count-1\", \"vtype\": \"%s\", \"regions\": {",
            vtype_v07 ? "v07" : "v10");
    const char *sep = "";
    for (int r = 0; r < N_REGIONS; r++) {
        if (!regions[r][C_TOTAL])
            continue;
        fprintf(f, "%s\n  \"%d\": {", sep, r);
        for (int c = 0; c < N_COUNTERS; c++)
            fprintf(f, "%s\"%s\": %" PRIu64, c ? ", " : "", counter_names[c], regions[r][c]);
        fputc('}', f);
        sep = ",";
    }
    fputs("\n}}\n", f);
    if (f != stderr)
        fclose(f);
    pthread_mutex_unlock(&lock);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "arg=", 4) == 0)   /* tolerate a doubled prefix */
            a += 4;
        if (strncmp(a, "out=", 4) == 0) {
            free(out_path);
            out_path = strdup(a + 4);
        } else if (strcmp(a, "vtype=v07") == 0 || strcmp(a, "vtype=0.7.1") == 0) {
            vtype_v07 = true;
        } else if (strcmp(a, "vtype=v10") == 0 || strcmp(a, "vtype=1.0") == 0) {
            vtype_v07 = false;
        } else {
            fprintf(stderr, "insn_count: unknown argument '%s' (expected out=PATH, vtype=v07|v10)\n", a);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, vcpu_tb_trans);
    qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
    return 0;
}
