/* dropblock_bench: times dropblock.h against the memory-bandwidth floor.

   For every case the kernel and a plain streaming pass y[i] = x[i]*s over
   the same buffers are timed in the same run, interleaved repetition by
   repetition (in rotating order), so machine noise hits both alike; the
   table reports medians. See bench/README.md for how to read it. */
/* clock_gettime under -std=c99 */
#define _POSIX_C_SOURCE 199309L /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Targets of issue 3. */
#define TARGET_VS_STREAM 1.5
#define TARGET_BLOCK_RATIO 1.25

#define MAX_FNS 5

typedef enum bench_kind { KIND_FWD, KIND_ALLOC, KIND_INPLACE, KIND_BWD, KIND_3D, KIND_SPLIT } bench_kind;

static const char *const KIND_NAMES[] = {"forward_ws", "forward", "forward_ws_inplace", "backward_ws",
                                         "forward3d_ws",  "count_kept+forward_range"};

typedef struct bench_case {
    const char *name;
    dropblock_shape shape;
    int block;
    unsigned flags;
    dropblock_scale scale;
    dropblock_layout layout;
    bench_kind kind;
} bench_case;

#define REF {16, 14, 14, 1024}
static const bench_case CASES[] = {
    {"forward", REF, 1, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"forward", REF, 3, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"forward", REF, 5, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"forward", REF, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"forward", {16, 7, 7, 2048}, 3, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"forward", {16, 7, 7, 2048}, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"forward", {16, 28, 28, 512}, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"forward", {16, 56, 56, 256}, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"share-channels", REF, 7, DROPBLOCK_SHARE_CHANNELS, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"share-batch", REF, 7, DROPBLOCK_SHARE_BATCH, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"seed-anywhere", REF, 7, DROPBLOCK_SEED_ANYWHERE, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"nchw", REF, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NCHW, KIND_FWD},
    {"scale-expected", REF, 7, 0, DROPBLOCK_SCALE_EXPECTED, DROPBLOCK_NHWC, KIND_FWD},
    {"in-place", REF, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_INPLACE},
    {"allocating", REF, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_ALLOC},
    {"backward", REF, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_BWD},
    /* issue 6: the options' own cost, and the default path through the 3-D
       entry point (d = 1) and split in two sample ranges */
    {"exact-rate", REF, 7, DROPBLOCK_EXACT_RATE, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"noise", REF, 7, DROPBLOCK_FILL_NOISE, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_FWD},
    {"3d-depth1", REF, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_3D},
    {"split-2", REF, 7, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, KIND_SPLIT},
};
#undef REF
#define NCASES (sizeof CASES / sizeof CASES[0])

#define KEEP_PROB 0.9f
/* Seeds so rare that the mask phase is nearly all drawing, no painting. */
#define KEEP_PROB_DRAW_ONLY 0.99999f

typedef struct options {
    int reps, warmup, breakdown;
    const char *csv;
} options;

/* Everything one timed function needs. */
typedef struct bench_ctx {
    const bench_case *bc;
    dropblock_config cfg;
    size_t total;
    float *x, *y;
    void *ws;
    size_t ws_bytes;
    uint64_t sink; /* kept counts, so the mask phase cannot be dropped */
} bench_ctx;

typedef dropblock_status (*timed_fn)(bench_ctx *ctx, uint64_t step);

static double clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A repetition is timed with the monotonic clock, and it counts only if the
   thread's CPU time covers all but this fraction of it: on a busy machine
   a call that was descheduled measures the other processes, not ours. */
#define PREEMPT_TOLERANCE 0.05

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) {
        fprintf(stderr, "dropblock_bench: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

static void check(dropblock_status st, const char *what) {
    if (st != DROPBLOCK_OK) {
        fprintf(stderr, "dropblock_bench: %s failed: %s\n", what, dropblock_status_string(st));
        exit(1);
    }
}

/* The floor: read every activation once, write it once. In place when the
   case is, so it touches exactly the kernel's memory. */
static dropblock_status run_stream(bench_ctx *ctx, uint64_t step) {
    const float *x = ctx->x;
    float *y = ctx->bc->kind == KIND_INPLACE ? ctx->x : ctx->y;
    const float s = 1.0f / KEEP_PROB;
    size_t i;
    (void)step;
    for (i = 0; i < ctx->total; ++i) y[i] = x[i] * s;
    return DROPBLOCK_OK;
}

static dropblock_status run_kernel(bench_ctx *ctx, uint64_t step) {
    const dropblock_config *cfg = &ctx->cfg;
    dropblock_shape sh = ctx->bc->shape;
    switch (ctx->bc->kind) {
    case KIND_ALLOC: return dropblock_forward(cfg, sh, step, ctx->x, ctx->y, NULL);
    case KIND_INPLACE: return dropblock_forward_ws(cfg, sh, step, ctx->x, ctx->x, NULL, ctx->ws, ctx->ws_bytes);
    case KIND_BWD: return dropblock_backward_ws(cfg, sh, step, ctx->x, ctx->y, ctx->ws, ctx->ws_bytes);
    case KIND_3D: {
        dropblock_shape3d s3 = {sh.n, 1, sh.h, sh.w, sh.c};
        return dropblock_forward3d(cfg, s3, step, ctx->x, ctx->y, NULL, ctx->ws, ctx->ws_bytes);
    }
    case KIND_SPLIT: { /* what two threads would do, one after the other */
        uint64_t a = 0, b = 0;
        int half = sh.n / 2;
        dropblock_status st = dropblock_count_kept(cfg, sh, step, 0, half, ctx->ws, ctx->ws_bytes, &a);
        if (st == DROPBLOCK_OK) st = dropblock_count_kept(cfg, sh, step, half, sh.n, ctx->ws, ctx->ws_bytes, &b);
        if (st == DROPBLOCK_OK)
            st = dropblock_forward_range(cfg, sh, step, 0, half, a + b, ctx->x, ctx->y, NULL, ctx->ws, ctx->ws_bytes);
        if (st == DROPBLOCK_OK)
            st = dropblock_forward_range(cfg, sh, step, half, sh.n, a + b, ctx->x, ctx->y, NULL, ctx->ws,
                                         ctx->ws_bytes);
        return st;
    }
    default: return dropblock_forward_ws(cfg, sh, step, ctx->x, ctx->y, NULL, ctx->ws, ctx->ws_bytes);
    }
}

/* Mask phase alone: count_kept builds the mask and touches no tensor. */
static dropblock_status count_with(bench_ctx *ctx, uint64_t step, float keep_prob) {
    dropblock_config cfg = ctx->cfg;
    uint64_t kept = 0;
    dropblock_status st;
    cfg.keep_prob = keep_prob;
    st = dropblock_count_kept(&cfg, ctx->bc->shape, step, 0, ctx->bc->shape.n, ctx->ws, ctx->ws_bytes, &kept);
    ctx->sink += kept;
    return st;
}

static dropblock_status run_mask(bench_ctx *ctx, uint64_t step) { return count_with(ctx, step, KEEP_PROB); }

static dropblock_status run_draw(bench_ctx *ctx, uint64_t step) {
    return count_with(ctx, step, KEEP_PROB_DRAW_ONLY);
}

/* keep_prob 1: no seed can occur, so forward is a plain copy. */
static dropblock_status run_copy(bench_ctx *ctx, uint64_t step) {
    dropblock_config cfg = ctx->cfg;
    cfg.keep_prob = 1.0f;
    return dropblock_forward_ws(&cfg, ctx->bc->shape, step, ctx->x, ctx->y, NULL, ctx->ws, ctx->ws_bytes);
}

/* Median over the repetitions that ran undisturbed (all of them if fewer
   than a quarter did); returns how many it used. whole: wall times; ok:
   the undisturbed ones, packed. */
static int robust_median(double *whole, double *ok, int n_ok, int reps, double *med) {
    if (n_ok >= 3 && n_ok >= reps / 4) {
        *med = median(ok, n_ok);
        return n_ok;
    }
    *med = median(whole, reps);
    return reps;
}

/* Median ns per element of each fn, and the fewest repetitions a median
   used. Every repetition runs all of them, in an order that rotates, with
   a fresh step (a fresh mask) each time. */
static int time_interleaved(bench_ctx *ctx, const timed_fn *fns, int nfn, const options *o, double *ns_per_elem) {
    const size_t reps = (size_t)o->reps;
    double *whole = (double *)xmalloc(2 * reps * (size_t)nfn * sizeof *whole), *ok = whole + reps * (size_t)nfn;
    int n_ok[MAX_FNS] = {0}, used = o->reps, r, k;
    for (r = -o->warmup; r < o->reps; ++r) {
        const int step = r + o->warmup + 1;
        for (k = 0; k < nfn; ++k) {
            int f = (k + (r < 0 ? 0 : r)) % nfn;
            double w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), wall, cpu;
            check(fns[f](ctx, (uint64_t)step), "a timed call");
            cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
            wall = clock_ns(CLOCK_MONOTONIC) - w0;
            if (r < 0) continue;
            whole[(size_t)f * reps + (size_t)r] = wall;
            if (wall - cpu <= PREEMPT_TOLERANCE * wall) ok[(size_t)f * reps + (size_t)n_ok[f]++] = wall;
        }
    }
    for (k = 0; k < nfn; ++k) {
        double med;
        int u = robust_median(whole + (size_t)k * reps, ok + (size_t)k * reps, n_ok[k], o->reps, &med);
        ns_per_elem[k] = med / (double)ctx->total;
        if (u < used) used = u;
    }
    free(whole);
    return used;
}

static void bench_ctx_init(bench_ctx *ctx, const bench_case *bc) {
    size_t i;
    memset(ctx, 0, sizeof *ctx);
    ctx->bc = bc;
    ctx->cfg.keep_prob = KEEP_PROB;
    ctx->cfg.block_h = bc->block;
    ctx->cfg.flags = bc->flags;
    ctx->cfg.scale = bc->scale;
    ctx->cfg.layout = bc->layout;
    ctx->cfg.seed = 2018;
    ctx->total = (size_t)bc->shape.n * (size_t)bc->shape.h * (size_t)bc->shape.w * (size_t)bc->shape.c;
    check(dropblock_workspace_size(bc->shape, &ctx->ws_bytes), "dropblock_workspace_size");
    ctx->x = (float *)xmalloc(ctx->total * sizeof(float));
    ctx->y = (float *)xmalloc(ctx->total * sizeof(float));
    ctx->ws = xmalloc(ctx->ws_bytes);
    /* Normal values in [0.5, 1.5): no denormals; every page faulted in. */
    for (i = 0; i < ctx->total; ++i) ctx->x[i] = 0.5f + (float)(i % 1021) / 1021.0f;
    memset(ctx->y, 0, ctx->total * sizeof(float));
    memset(ctx->ws, 0, ctx->ws_bytes);
}

static void bench_ctx_free(bench_ctx *ctx) {
    free(ctx->x);
    free(ctx->y);
    free(ctx->ws);
}

static const char *flags_name(unsigned flags) {
    switch (flags) {
    case 0: return "-";
    case DROPBLOCK_SHARE_CHANNELS: return "SHARE_CHANNELS";
    case DROPBLOCK_SHARE_BATCH: return "SHARE_BATCH";
    case DROPBLOCK_SEED_ANYWHERE: return "SEED_ANYWHERE";
    case DROPBLOCK_EXACT_RATE: return "EXACT_RATE";
    case DROPBLOCK_FILL_NOISE: return "FILL_NOISE";
    default: return "several";
    }
}

static const char *scale_name(dropblock_scale s) {
    static const char *const names[] = {"batch", "sample", "expected", "none"};
    return names[s];
}

static void shape_str(const dropblock_shape *s, char *buf, size_t len) {
    snprintf(buf, len, "%dx%dx%dx%d", s->n, s->h, s->w, s->c);
}

/* Results of one case in the main table. */
typedef struct result {
    double ns, stream_ns, ws_per_elem;
    int reps_used;
} result;

static void print_header(void) {
    printf("%-15s %-14s %5s %4s %-14s %-8s %8s %6s %9s %10s %8s %5s\n", "case", "shape(NxHxWxC)", "block", "keep",
           "flags", "scale", "ns/elem", "GB/s", "vs-stream", "stream-ns", "ws-B/el", "reps");
}

static void print_row(const bench_case *bc, const result *res) {
    char shape[48];
    shape_str(&bc->shape, shape, sizeof shape);
    printf("%-15s %-14s %5d %4.2f %-14s %-8s %8.4f %6.2f %9.3f %10.4f %8.4f %5d\n", bc->name, shape, bc->block,
           (double)KEEP_PROB, flags_name(bc->flags), scale_name(bc->scale), res->ns, 8.0 / res->ns,
           res->ns / res->stream_ns, res->stream_ns, res->ws_per_elem, res->reps_used);
}

static void write_csv(const char *path, const result *res) {
    FILE *f = fopen(path, "w");
    size_t i;
    if (!f) {
        fprintf(stderr, "dropblock_bench: cannot write %s\n", path);
        exit(1);
    }
    fprintf(f, "case,kind,layout,n,h,w,c,block,keep,flags,scale,ns_per_elem,gb_per_s,vs_stream,"
               "stream_ns_per_elem,ws_bytes_per_elem,reps_used\n");
    for (i = 0; i < NCASES; ++i) {
        const bench_case *bc = &CASES[i];
        fprintf(f, "%s,%s,%s,%d,%d,%d,%d,%d,%.2f,%s,%s,%.5f,%.3f,%.4f,%.5f,%.5f,%d\n", bc->name, KIND_NAMES[bc->kind],
                bc->layout == DROPBLOCK_NCHW ? "nchw" : "nhwc", bc->shape.n, bc->shape.h, bc->shape.w,
                bc->shape.c, bc->block, (double)KEEP_PROB, flags_name(bc->flags), scale_name(bc->scale),
                res[i].ns, 8.0 / res[i].ns, res[i].ns / res[i].stream_ns, res[i].stream_ns,
                res[i].ws_per_elem, res[i].reps_used);
    }
    fclose(f);
}

static int is_ref_block_row(const bench_case *bc) {
    return bc->kind == KIND_FWD && bc->flags == 0 && bc->layout == DROPBLOCK_NHWC &&
           bc->scale == DROPBLOCK_SCALE_BATCH && bc->shape.h == 14 && bc->shape.c == 1024;
}

static const char *verdict(int pass) { return pass ? "PASS" : "MISS"; }

/* Rows of issue 6, which issue 3's targets do not cover. */
static int is_issue6_row(const bench_case *bc) {
    return bc->kind == KIND_3D || bc->kind == KIND_SPLIT ||
           (bc->flags & (DROPBLOCK_EXACT_RATE | DROPBLOCK_FILL_NOISE)) != 0;
}

/* One line per target of issue 3. */
static void print_summary(const result *res) {
    double worst_fwd = 0.0, bwd = 0.0, slow = 0.0, fast = 1e300, worst_bits = 0.0;
    size_t i, worst_i = 0;
    for (i = 0; i < NCASES; ++i) {
        const bench_case *bc = &CASES[i];
        double vs = res[i].ns / res[i].stream_ns;
        if (is_issue6_row(bc)) continue;
        if (bc->kind == KIND_BWD) {
            bwd = vs;
        } else if (vs > worst_fwd) {
            worst_fwd = vs;
            worst_i = i;
        }
        if (is_ref_block_row(bc)) {
            if (res[i].ns > slow) slow = res[i].ns;
            if (res[i].ns < fast) fast = res[i].ns;
        }
        if (res[i].ws_per_elem * 8.0 > worst_bits) worst_bits = res[i].ws_per_elem * 8.0;
    }
    printf("\nsummary (targets of issue 3; benchmark figures, not tests)\n");
    printf("  forward vs-stream, max over forward rows : %6.3f (%s block %d)  <= %.2f  %s\n", worst_fwd,
           CASES[worst_i].name, CASES[worst_i].block, TARGET_VS_STREAM, verdict(worst_fwd <= TARGET_VS_STREAM));
    printf("  slowest/fastest block at 16x14x14x1024  : %6.3f                       <= %.2f  %s\n", slow / fast,
           TARGET_BLOCK_RATIO, verdict(slow / fast <= TARGET_BLOCK_RATIO));
    printf("  backward vs-stream                       : %6.3f                       <= %.2f  %s\n", bwd,
           TARGET_VS_STREAM, verdict(bwd <= TARGET_VS_STREAM));
    /* one bit per element; the rounding to 64-bit words and the alignment
       slack are a few bytes per call, under 0.001 bit per element here */
    printf("  workspace bits/elem (zero-alloc path)    : %6.3f                       <= 1.00  %s\n", worst_bits,
           verdict(worst_bits <= 1.001));
}

static void run_main(const options *o) {
    static const timed_fn fns[2] = {run_kernel, run_stream};
    result res[NCASES];
    size_t i;
    {
        /* One untimed pass over the first case first: otherwise the first
           rows of every run came out slower (clock ramp, cold allocator). */
        bench_ctx ctx;
        double ns[2];
        bench_ctx_init(&ctx, &CASES[0]);
        time_interleaved(&ctx, fns, 2, o, ns);
        bench_ctx_free(&ctx);
    }
    print_header();
    for (i = 0; i < NCASES; ++i) {
        bench_ctx ctx;
        double ns[2];
        bench_ctx_init(&ctx, &CASES[i]);
        res[i].reps_used = time_interleaved(&ctx, fns, 2, o, ns);
        res[i].ns = ns[0];
        res[i].stream_ns = ns[1];
        res[i].ws_per_elem = (double)ctx.ws_bytes / (double)ctx.total;
        bench_ctx_free(&ctx);
        print_row(&CASES[i], &res[i]);
        fflush(stdout);
    }
    print_summary(res);
    if (o->csv) write_csv(o->csv, res);
}

/* Phases through the public API, for the plain forward rows:
   mask = count_kept (draw seeds, paint blocks, count; no tensor touched),
   draw = the same at keep 0.99999 (drawing with almost nothing to paint),
   apply = forward - mask, copy = forward at keep 1 (memcpy). */
static void run_breakdown(const options *o) {
    static const timed_fn fns[MAX_FNS] = {run_kernel, run_mask, run_draw, run_copy, run_stream};
    size_t i;
    printf("\nbreakdown (ns/elem, medians; apply = forward - mask)\n");
    printf("%-15s %-14s %5s %-14s %8s %8s %8s %8s %8s %8s %8s %5s\n", "case", "shape(NxHxWxC)", "block", "flags",
           "forward", "mask", "draw", "paint", "apply", "copy", "stream", "reps");
    for (i = 0; i < NCASES; ++i) {
        bench_ctx ctx;
        double ns[MAX_FNS];
        char shape[48];
        int used;
        if (CASES[i].kind != KIND_FWD) continue;
        bench_ctx_init(&ctx, &CASES[i]);
        used = time_interleaved(&ctx, fns, MAX_FNS, o, ns);
        shape_str(&CASES[i].shape, shape, sizeof shape);
        printf("%-15s %-14s %5d %-14s %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %5d\n", CASES[i].name, shape,
               CASES[i].block, flags_name(CASES[i].flags), ns[0], ns[1], ns[2], ns[1] - ns[2], ns[0] - ns[1],
               ns[3], ns[4], used);
        fflush(stdout);
        bench_ctx_free(&ctx);
    }
}

/* Other processes share the cores and the L3: say how busy the machine was
   (Linux only; elsewhere nothing is printed). */
static void print_load(const char *when) {
    FILE *f = fopen("/proc/loadavg", "r");
    char line[128];
    if (!f) return;
    if (fgets(line, sizeof line, f)) printf("load average %s: %.2f\n", when, strtod(line, NULL));
    fclose(f);
}

static void usage(void) {
    fprintf(stderr, "usage: dropblock_bench [--reps N] [--quick] [--csv PATH] [--breakdown]\n"
                    "  --reps N     timed repetitions per case (default 101)\n"
                    "  --quick      3 repetitions, 1 warm-up: checks that it runs\n"
                    "  --csv PATH   also write the table as CSV (for bench/peer_torchvision.py)\n"
                    "  --breakdown  also time the phases of each forward case\n");
}

static int parse_args(int argc, char **argv, options *o) {
    int i;
    o->reps = 101;
    o->warmup = 5;
    o->breakdown = 0;
    o->csv = NULL;
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 1000000) return 0;
            o->reps = (int)n;
        } else if (!strcmp(argv[i], "--quick")) {
            o->reps = 3;
            o->warmup = 1;
        } else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
            o->csv = argv[++i];
        } else if (!strcmp(argv[i], "--breakdown")) {
            o->breakdown = 1;
        } else {
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    options o;
    if (!parse_args(argc, argv, &o)) {
        usage();
        return 2;
    }
    printf("dropblock.h %s bench: keep %.2f, %d reps (median), %d warm-up, single thread\n",
           DROPBLOCK_VERSION_STRING, (double)KEEP_PROB, o.reps, o.warmup);
#ifndef NDEBUG
    printf("note: assertions are on (not a Release build); figures may be pessimistic\n");
#endif
    print_load("at start");
    run_main(&o);
    if (o.breakdown) run_breakdown(&o);
    print_load("at end");
    return 0;
}
