/* dropblock_bench: times dropblock.h against the memory-bandwidth floor.

   For every case the kernel and a plain streaming pass y = R(s*x) of the
   same dtype over the same buffers are timed in the same run, interleaved
   repetition by repetition (in rotating order), so machine noise hits both
   alike; the table reports medians. See bench/README.md for how to read it. */
/* clock_gettime, posix_memalign and fnmatch under -std=c99 */
#define _POSIX_C_SOURCE 200112L /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if !defined(__GNUC__)
#error "dropblock_bench needs GCC or Clang (its thread pool uses the __atomic builtins)"
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#define BENCH_NT 1 /* the non-temporal-store stream exists */
#endif

/* The speed targets (benchmark figures, not tests; bench/README.md). */
#define TARGET_FWD 1.3
#define STRETCH_FWD 1.1
#define TARGET_OOC 1.1
#define TARGET_OOC_NT 1.25
#define TARGET_BWD_KEPT 1.05
#define TARGET_HALF 1.2
#define TARGET_F64 1.1
#define TARGET_BLOCK_RATIO 1.15
#define TARGET_THREADS 1.8
/* Rows whose tensors (x and y together) move at least this many bytes do
   not fit the 32 MB last-level cache: the floor is DRAM. */
#define OOC_BYTES 100000000.0

#define MAX_FNS 8
#define THREADS 2

typedef enum bench_kind {
    KIND_FWD,      /* dropblock_forward_ws */
    KIND_ALLOC,    /* dropblock_forward (allocates its mask) */
    KIND_INPLACE,  /* dropblock_forward_ws, y == x */
    KIND_BWD,      /* dropblock_backward_ws (rebuilds the mask) */
    KIND_3D,       /* dropblock_forward3d, d = 1 */
    KIND_SPLIT,    /* count_kept + forward_range, two sample ranges */
    KIND_TENSOR,   /* dropblock_forward_tensor in the case's dtype */
    KIND_BWD_KEPT, /* dropblock_mask_backward from a mask built once */
    KIND_STEP,     /* one training step: mask init + build + forward + backward */
    KIND_THREADS   /* dropblock_forward_tensor on 1 and on 2 threads */
} bench_kind;

static const char *const KIND_NAMES[] = {"forward_ws",   "forward",    "forward_ws_inplace",
                                         "backward_ws",  "forward3d_ws", "count_kept+forward_range",
                                         "forward_tensor", "mask_backward", "mask_step", "forward_tensor_2t"};
static const char *const DTYPE_NAMES[] = {"f32", "f16", "bf16", "f64"};
static const size_t DTYPE_BYTES[] = {4, 2, 2, 8};

typedef struct bench_case {
    const char *name;
    dropblock_shape shape;
    int block;
    unsigned flags;
    dropblock_scale scale;
    dropblock_layout layout;
    bench_kind kind;
    dropblock_dtype dtype;
    int offset; /* x, y and the workspace this many bytes past a 64-byte boundary (malloc gives 16) */
} bench_case;

#define REF {16, 14, 14, 1024}
#define BIG {32, 56, 56, 256}
#define B DROPBLOCK_SCALE_BATCH
#define NHWC DROPBLOCK_NHWC
static const bench_case CASES[] = {
    {"forward", REF, 1, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"forward", REF, 3, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"forward", REF, 5, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"forward", REF, 7, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"forward", {16, 7, 7, 2048}, 3, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"forward", {16, 7, 7, 2048}, 7, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"forward", {16, 28, 28, 512}, 7, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"forward", {16, 56, 56, 256}, 7, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"forward", BIG, 7, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"forward", {8, 112, 112, 128}, 7, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"share-channels", REF, 7, DROPBLOCK_SHARE_CHANNELS, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"share-batch", REF, 7, DROPBLOCK_SHARE_BATCH, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"seed-anywhere", REF, 7, DROPBLOCK_SEED_ANYWHERE, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"nchw", REF, 1, 0, B, DROPBLOCK_NCHW, KIND_FWD, DROPBLOCK_F32, 0},
    {"nchw", REF, 3, 0, B, DROPBLOCK_NCHW, KIND_FWD, DROPBLOCK_F32, 0},
    {"nchw", REF, 5, 0, B, DROPBLOCK_NCHW, KIND_FWD, DROPBLOCK_F32, 0},
    {"nchw", REF, 7, 0, B, DROPBLOCK_NCHW, KIND_FWD, DROPBLOCK_F32, 0},
    {"scale-expected", REF, 7, 0, DROPBLOCK_SCALE_EXPECTED, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"in-place", REF, 7, 0, B, NHWC, KIND_INPLACE, DROPBLOCK_F32, 0},
    {"in-place", BIG, 7, 0, B, NHWC, KIND_INPLACE, DROPBLOCK_F32, 0},
    {"forward+16", REF, 7, 0, B, NHWC, KIND_FWD, DROPBLOCK_F32, 16},
    {"in-place+16", REF, 7, 0, B, NHWC, KIND_INPLACE, DROPBLOCK_F32, 16},
    {"allocating", REF, 7, 0, B, NHWC, KIND_ALLOC, DROPBLOCK_F32, 0},
    {"tensor", REF, 7, 0, B, NHWC, KIND_TENSOR, DROPBLOCK_F32, 0},
    {"tensor", REF, 7, 0, B, NHWC, KIND_TENSOR, DROPBLOCK_F16, 0},
    {"tensor", REF, 7, 0, B, NHWC, KIND_TENSOR, DROPBLOCK_BF16, 0},
    {"tensor", REF, 7, 0, B, NHWC, KIND_TENSOR, DROPBLOCK_F64, 0},
    {"backward", REF, 7, 0, B, NHWC, KIND_BWD, DROPBLOCK_F32, 0},
    {"backward", BIG, 7, 0, B, NHWC, KIND_BWD, DROPBLOCK_F32, 0},
    {"backward-kept", REF, 7, 0, B, NHWC, KIND_BWD_KEPT, DROPBLOCK_F32, 0},
    {"backward-kept", BIG, 7, 0, B, NHWC, KIND_BWD_KEPT, DROPBLOCK_F32, 0},
    {"train-step", REF, 7, 0, B, NHWC, KIND_STEP, DROPBLOCK_F32, 0},
    {"train-step", BIG, 7, 0, B, NHWC, KIND_STEP, DROPBLOCK_F32, 0},
    {"2-threads", REF, 7, 0, B, NHWC, KIND_THREADS, DROPBLOCK_F32, 0},
    {"2-threads", {1, 112, 112, 256}, 7, 0, B, NHWC, KIND_THREADS, DROPBLOCK_F32, 0},
    /* option rows: the options' own cost, and the default path through the 3-D
       entry point (d = 1) and split in two sample ranges */
    {"exact-rate", REF, 7, DROPBLOCK_EXACT_RATE, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"noise", REF, 7, DROPBLOCK_FILL_NOISE, B, NHWC, KIND_FWD, DROPBLOCK_F32, 0},
    {"3d-depth1", REF, 7, 0, B, NHWC, KIND_3D, DROPBLOCK_F32, 0},
    {"split-2", REF, 7, 0, B, NHWC, KIND_SPLIT, DROPBLOCK_F32, 0},
};
#undef REF
#undef BIG
#undef B
#undef NHWC
#define NCASES (sizeof CASES / sizeof CASES[0])

#define KEEP_PROB 0.9f
/* Seeds so rare that the mask phase is nearly all drawing, no painting. */
#define KEEP_PROB_DRAW_ONLY 0.99999f

typedef struct options {
    int reps, warmup, breakdown, list, calls;
    const char *csv, *pattern;
} options;

/* ---- a persistent pool: the calling thread and THREADS - 1 workers -------
   Part k runs on thread k % THREADS. A worker spins briefly for the next
   job (two jobs per forward call: build, then apply) and sleeps after. */

#define SPIN_NS 50000.0

typedef struct bench_pool {
    pthread_t workers[THREADS - 1];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    dropblock_task_fn fn;
    void *task;
    int parts, quit;
    unsigned gen;                /* bumped per job (atomic) */
    unsigned done[THREADS - 1];  /* the last job each worker finished (atomic) */
} bench_pool;

typedef struct worker_arg {
    bench_pool *pool;
    int id; /* 1 .. THREADS - 1 */
} worker_arg;

static double clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static worker_arg WORKER_ARGS[THREADS - 1];

static void *worker_main(void *arg) {
    bench_pool *p = ((worker_arg *)arg)->pool;
    const int id = ((worker_arg *)arg)->id;
    unsigned seen = 0;
    for (;;) {
        double t0 = clock_ns(CLOCK_MONOTONIC);
        int k;
        while (__atomic_load_n(&p->gen, __ATOMIC_ACQUIRE) == seen && clock_ns(CLOCK_MONOTONIC) - t0 < SPIN_NS)
            cpu_relax();
        pthread_mutex_lock(&p->mu);
        while (__atomic_load_n(&p->gen, __ATOMIC_ACQUIRE) == seen && !p->quit) pthread_cond_wait(&p->cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
        if (__atomic_load_n(&p->gen, __ATOMIC_ACQUIRE) == seen) return NULL; /* quit */
        seen = __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE);
        for (k = id; k < p->parts; k += THREADS) p->fn(p->task, k, p->parts);
        __atomic_store_n(&p->done[id - 1], seen, __ATOMIC_RELEASE);
    }
}

static void pool_parallel_for(void *pool, dropblock_task_fn fn, void *task, int parts) {
    bench_pool *p = (bench_pool *)pool;
    unsigned gen;
    int k;
    p->fn = fn;
    p->task = task;
    p->parts = parts;
    gen = __atomic_add_fetch(&p->gen, 1u, __ATOMIC_RELEASE);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (k = 0; k < parts; k += THREADS) fn(task, k, parts);
    for (k = 0; k < THREADS - 1; ++k)
        while (__atomic_load_n(&p->done[k], __ATOMIC_ACQUIRE) != gen) cpu_relax();
}

static void pool_start(bench_pool *p) {
    int k;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (k = 0; k < THREADS - 1; ++k) {
        WORKER_ARGS[k].pool = p;
        WORKER_ARGS[k].id = k + 1;
        if (pthread_create(&p->workers[k], NULL, worker_main, &WORKER_ARGS[k])) {
            fprintf(stderr, "dropblock_bench: pthread_create failed\n");
            exit(1);
        }
    }
}

static void pool_stop(bench_pool *p) {
    int k;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (k = 0; k < THREADS - 1; ++k) pthread_join(p->workers[k], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

/* ---- the cases ----------------------------------------------------------- */

/* Everything one timed function needs. */
typedef struct bench_ctx {
    const bench_case *bc;
    dropblock_config cfg;
    size_t total;
    void *x, *y, *g, *gx;              /* g, gx: dy and dx of the train-step row */
    dropblock_tensor tx, ty, tg, tgx;  /* their descriptors in the case's layout */
    void *ws, *kept_ws;
    size_t ws_bytes;
    dropblock_mask kept;               /* built once: backward-kept and the breakdown's apply */
    dropblock_executor exec;           /* the pool, THREADS parts */
    uint64_t sink;                     /* kept counts, so the mask phase cannot be dropped */
} bench_ctx;

typedef dropblock_status (*timed_fn)(bench_ctx *ctx, uint64_t step);

/* A repetition is timed with the monotonic clock, and it counts only if the
   thread's CPU time covers all but this fraction of it: on a busy machine
   a call that was descheduled measures the other processes, not ours. On
   the pool the process's CPU time must cover THREADS times the wall time:
   the threads work or spin throughout, so that fails exactly when one of
   them was descheduled. */
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
    void *p = NULL;
    /* 64-byte aligned: the non-temporal stream stores whole aligned vectors */
    if (posix_memalign(&p, 64, bytes ? bytes : 1)) {
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

static int is_ooc(const bench_case *bc) {
    const double elems = (double)bc->shape.n * bc->shape.h * bc->shape.w * bc->shape.c;
    return elems * 2.0 * (double)DTYPE_BYTES[bc->dtype] >= OOC_BYTES;
}

/* The non-temporal floor: only where y != x and the tensors far exceed the
   cache (where the kernel may use non-temporal stores too). */
static int has_nt(const bench_case *bc) {
#ifdef BENCH_NT
    return is_ooc(bc) && bc->dtype == DROPBLOCK_F32 && bc->kind != KIND_INPLACE && bc->kind != KIND_STEP &&
           bc->kind != KIND_THREADS;
#else
    (void)bc;
    return 0;
#endif
}

/* ---- the streaming passes: y = R(s*x) for elements [i0, i1) ------------- */

/* The plain streams are compiled for the widest vectors the CPU has,
   chosen at load time (target_clones), as the kernels choose theirs: out of
   the caches AVX-512 runs no faster than SSE2, but in place in cache and at
   L2-sized tensors it does, and the floor may not be slower than the kernel
   could be. */
#if defined(__x86_64__) && (defined(__clang__) ? __clang_major__ >= 14 : defined(__GNUC__))
#define BENCH_WIDEST __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BENCH_WIDEST
#endif

BENCH_WIDEST static void stream_f32(const float *x, float *y, size_t i0, size_t i1) {
    const float s = 1.0f / KEEP_PROB;
    size_t i;
    for (i = i0; i < i1; ++i) y[i] = x[i] * s;
}

BENCH_WIDEST static void stream_f64(const double *x, double *y, size_t i0, size_t i1) {
    const double s = 1.0 / (double)KEEP_PROB;
    size_t i;
    for (i = i0; i < i1; ++i) y[i] = x[i] * s;
}

typedef union pun32 {
    float f;
    uint32_t u;
} pun32;

/* The header's rounding: widen exactly, one float multiply, round to
   nearest even; a NaN is only made quiet. Branch-free so it vectorises
   (compute-bound in SSE2, unlike the F32 loop). */
BENCH_WIDEST static void bf16_loop(const uint16_t *x, uint16_t *y, size_t i0, size_t i1) {
    const float s = 1.0f / KEEP_PROB;
    size_t i;
    for (i = i0; i < i1; ++i) {
        const uint32_t h = x[i], nan = 0u - (uint32_t)((h & 0x7FFFu) > 0x7F80u);
        pun32 p;
        p.u = h << 16;
        p.f *= s;
        y[i] = (uint16_t)(((h | 0x40u) & nan) | (((p.u + 0x7FFFu + ((p.u >> 16) & 1u)) >> 16) & ~nan));
    }
}

/* Where the kernel runs its AVX-512 bfloat16 path, the floor is that
   path's own row loop with no mask (a NULL row keeps everything): the same
   arithmetic, hand-vectorised as well, so the ratio isolates what the mask
   adds. Compilers vectorise bf16_loop (even for AVX-512) to only 0.65x of
   it. (For binary16 the F16C loop below stays the floor: as a plain
   stream it beats the kernel's AVX-512 loop, 0.049 against 0.062 ns/elem
   in 2.0.2.) */
static void stream_bf16(const uint16_t *x, uint16_t *y, size_t i0, size_t i1) {
#ifdef DROPBLOCK__AVX512
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
        dropblock__op op;
        memset(&op, 0, sizeof op);
        op.kind = DROPBLOCK_BF16;
        op.es = 2;
        op.s = 1.0f / KEEP_PROB;
        op.avx512 = 1;
        i0 += dropblock__runs_avx512(&op, NULL, 0, i1 - i0, (const char *)(x + i0), (char *)(y + i0));
    }
#endif
    bf16_loop(x, y, i0, i1);
}

#ifdef DROPBLOCK__F16C
/* F16C where the header uses it (its own run-time test): the same widening,
   multiply and round-to-nearest-even as the kernel's binary16 path. */
__attribute__((target("avx,f16c"))) static void stream_f16_f16c(const uint16_t *x, uint16_t *y, size_t i0,
                                                                size_t i1) {
    const __m256 vs = _mm256_set1_ps(1.0f / KEEP_PROB);
    size_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m256 f = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + i)));
        _mm_storeu_si128((__m128i *)(void *)(y + i),
                         _mm256_cvtps_ph(_mm256_mul_ps(f, vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < i1; ++i) y[i] = dropblock__half_scaled(x[i], 1.0f / KEEP_PROB);
}
#endif

static void stream_f16(const uint16_t *x, uint16_t *y, size_t i0, size_t i1) {
    size_t i;
#ifdef DROPBLOCK__F16C
    if (dropblock__has_f16c()) {
        stream_f16_f16c(x, y, i0, i1);
        return;
    }
#endif
    /* no F16C: the header's scalar rounding, which its kernel uses too */
    for (i = i0; i < i1; ++i) y[i] = dropblock__half_scaled(x[i], 1.0f / KEEP_PROB);
}

static void stream_range(dropblock_dtype dt, const void *x, void *y, size_t i0, size_t i1) {
    switch (dt) {
    case DROPBLOCK_F16: stream_f16((const uint16_t *)x, (uint16_t *)y, i0, i1); return;
    case DROPBLOCK_BF16: stream_bf16((const uint16_t *)x, (uint16_t *)y, i0, i1); return;
    case DROPBLOCK_F64: stream_f64((const double *)x, (double *)y, i0, i1); return;
    default: stream_f32((const float *)x, (float *)y, i0, i1); return;
    }
}

/* The floor: read every activation once, write it once, in place when the
   case is; the train-step row streams twice (forward's and backward's). */
static dropblock_status run_stream(bench_ctx *ctx, uint64_t step) {
    const dropblock_dtype dt = ctx->bc->dtype;
    (void)step;
    stream_range(dt, ctx->x, ctx->bc->kind == KIND_INPLACE ? ctx->x : ctx->y, 0, ctx->total);
    if (ctx->bc->kind == KIND_STEP) stream_range(dt, ctx->g, ctx->gx, 0, ctx->total);
    return DROPBLOCK_OK;
}

static void stream_task(void *task, int part, int parts) {
    bench_ctx *ctx = (bench_ctx *)task;
    const size_t i0 = ctx->total * (size_t)part / (size_t)parts, i1 = ctx->total * (size_t)(part + 1) / (size_t)parts;
    stream_range(ctx->bc->dtype, ctx->x, ctx->y, i0, i1);
}

static dropblock_status run_stream_threads(bench_ctx *ctx, uint64_t step) {
    (void)step;
    ctx->exec.parallel_for(ctx->exec.pool, stream_task, ctx, ctx->exec.parts);
    return DROPBLOCK_OK;
}

#ifdef BENCH_NT
/* Non-temporal stores: y bypasses the cache (x and y are 64-byte aligned). */
static dropblock_status run_stream_nt(bench_ctx *ctx, uint64_t step) {
    const float *x = (const float *)ctx->x;
    float *y = (float *)ctx->y;
    const __m128 vs = _mm_set1_ps(1.0f / KEEP_PROB);
    size_t i = 0;
    (void)step;
    for (; i + 4 <= ctx->total; i += 4) _mm_stream_ps(y + i, _mm_mul_ps(_mm_load_ps(x + i), vs));
    _mm_sfence();
    stream_f32(x, y, i, ctx->total);
    return DROPBLOCK_OK;
}
#endif

/* ---- the kernels --------------------------------------------------------- */

/* Through the mask object: init, build, forward (in place for the in-place
   rows) and, for the train step, backward. */
static dropblock_status mask_calls(bench_ctx *ctx, uint64_t step, int backward) {
    dropblock_mask m;
    const dropblock_tensor *y = ctx->bc->kind == KIND_INPLACE ? &ctx->tx : &ctx->ty;
    dropblock_status st = dropblock_mask_init(&m, &ctx->cfg, step, &ctx->tx, ctx->ws, ctx->ws_bytes);
    if (st == DROPBLOCK_OK) st = dropblock_mask_build(&m, 0, 1);
    if (st == DROPBLOCK_OK) st = dropblock_mask_forward(&m, &ctx->tx, y, 0, 1);
    if (st == DROPBLOCK_OK && backward) st = dropblock_mask_backward(&m, &ctx->tg, &ctx->tgx, 0, 1);
    return st;
}

/* Not inlined: bench/callgrind.sh counts the instructions under it. */
__attribute__((noinline)) static dropblock_status run_kernel(bench_ctx *ctx, uint64_t step) {
    const dropblock_config *cfg = &ctx->cfg;
    dropblock_shape sh = ctx->bc->shape;
    float *x = (float *)ctx->x, *y = (float *)ctx->y;
    switch (ctx->bc->kind) {
    case KIND_ALLOC: return dropblock_forward(cfg, sh, step, x, y, NULL);
    case KIND_INPLACE: return dropblock_forward_ws(cfg, sh, step, x, x, NULL, ctx->ws, ctx->ws_bytes);
    case KIND_BWD: return dropblock_backward_ws(cfg, sh, step, x, y, ctx->ws, ctx->ws_bytes);
    case KIND_3D: {
        dropblock_shape3d s3 = {sh.n, 1, sh.h, sh.w, sh.c};
        return dropblock_forward3d(cfg, s3, step, x, y, NULL, ctx->ws, ctx->ws_bytes);
    }
    case KIND_SPLIT: { /* what two threads would do, one after the other */
        uint64_t a = 0, b = 0;
        int half = sh.n / 2;
        dropblock_status st = dropblock_count_kept(cfg, sh, step, 0, half, ctx->ws, ctx->ws_bytes, &a);
        if (st == DROPBLOCK_OK) st = dropblock_count_kept(cfg, sh, step, half, sh.n, ctx->ws, ctx->ws_bytes, &b);
        if (st == DROPBLOCK_OK)
            st = dropblock_forward_range(cfg, sh, step, 0, half, a + b, x, y, NULL, ctx->ws, ctx->ws_bytes);
        if (st == DROPBLOCK_OK)
            st = dropblock_forward_range(cfg, sh, step, half, sh.n, a + b, x, y, NULL, ctx->ws, ctx->ws_bytes);
        return st;
    }
    case KIND_TENSOR:
    case KIND_THREADS:
        return dropblock_forward_tensor(cfg, step, &ctx->tx, &ctx->ty, ctx->ws, ctx->ws_bytes, NULL, NULL);
    case KIND_BWD_KEPT: return dropblock_mask_backward(&ctx->kept, &ctx->tx, &ctx->ty, 0, 1);
    case KIND_STEP: return mask_calls(ctx, step, 1);
    default: return dropblock_forward_ws(cfg, sh, step, x, y, NULL, ctx->ws, ctx->ws_bytes);
    }
}

static dropblock_status run_kernel_threads(bench_ctx *ctx, uint64_t step) {
    return dropblock_forward_tensor(&ctx->cfg, step, &ctx->tx, &ctx->ty, ctx->ws, ctx->ws_bytes, &ctx->exec, NULL);
}

/* Mask phase alone: init + build, touches no tensor. */
static dropblock_status build_with(bench_ctx *ctx, uint64_t step, float keep_prob) {
    dropblock_config cfg = ctx->cfg;
    dropblock_mask m;
    dropblock_stats stats;
    dropblock_status st;
    cfg.keep_prob = keep_prob;
    st = dropblock_mask_init(&m, &cfg, step, &ctx->tx, ctx->ws, ctx->ws_bytes);
    if (st == DROPBLOCK_OK) st = dropblock_mask_build(&m, 0, 1);
    if (st == DROPBLOCK_OK) st = dropblock_mask_stats(&m, &stats);
    if (st == DROPBLOCK_OK) ctx->sink += stats.kept;
    return st;
}

static dropblock_status run_mask(bench_ctx *ctx, uint64_t step) { return build_with(ctx, step, KEEP_PROB); }

static dropblock_status run_draw(bench_ctx *ctx, uint64_t step) {
    return build_with(ctx, step, KEEP_PROB_DRAW_ONLY);
}

/* Forward through the mask object in one timed call: against `forward`
   it shows what the entry point adds, against mask + apply what running
   the two phases back to back costs. */
static dropblock_status run_mask_forward(bench_ctx *ctx, uint64_t step) { return mask_calls(ctx, step, 0); }

/* Apply alone: the mask built once, in place for the in-place rows. */
static dropblock_status run_apply(bench_ctx *ctx, uint64_t step) {
    (void)step;
    return dropblock_mask_forward(&ctx->kept, &ctx->tx, ctx->bc->kind == KIND_INPLACE ? &ctx->tx : &ctx->ty, 0, 1);
}

/* keep_prob 1: no seed can occur, so forward is a plain copy. */
static dropblock_status run_copy(bench_ctx *ctx, uint64_t step) {
    dropblock_config cfg = ctx->cfg;
    cfg.keep_prob = 1.0f;
    return dropblock_forward_tensor(&cfg, step, &ctx->tx, ctx->bc->kind == KIND_INPLACE ? &ctx->tx : &ctx->ty,
                                    ctx->ws, ctx->ws_bytes, NULL, NULL);
}

/* ---- timing -------------------------------------------------------------- */

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

static void noop_task(void *task, int part, int parts) {
    (void)task;
    (void)part;
    (void)parts;
}

/* A fresh order of the nfn fns for each repetition (Fisher-Yates on a
   fixed LCG): every fn follows every other equally often. With a fixed
   rotation each fn always followed the same one, whose leftovers in the
   cache (tensors of 30 to 60 MB straddle the 32 MB L3) then favoured or
   hurt it systematically. */
static void shuffle_order(int *order, int nfn, uint64_t *lcg) {
    int k;
    for (k = 0; k < nfn; ++k) order[k] = k;
    for (k = nfn - 1; k > 0; --k) {
        int j, t;
        *lcg = *lcg * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        j = (int)((*lcg >> 33) % (uint64_t)(k + 1));
        t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
}

/* Median ns per element of each fn, and the fewest repetitions a median
   used. Every repetition runs all of them, in a shuffled order, with a
   fresh step (a fresh mask) each time. pooled[f]: fn f runs on the pool,
   whose workers are woken by an untimed empty job first (an engine's pool
   is busy all through a training step, not asleep). */
static int time_interleaved(bench_ctx *ctx, const timed_fn *fns, const int *pooled, int nfn, const options *o,
                            double *ns_per_elem) {
    const size_t reps = (size_t)o->reps;
    double *whole = (double *)xmalloc(2 * reps * (size_t)nfn * sizeof *whole), *ok = whole + reps * (size_t)nfn;
    int n_ok[MAX_FNS] = {0}, order[MAX_FNS], used = o->reps, r, k;
    uint64_t lcg = 2018;
    for (r = -o->warmup; r < o->reps; ++r) {
        const int step = r + o->warmup + 1;
        shuffle_order(order, nfn, &lcg);
        for (k = 0; k < nfn; ++k) {
            const int f = order[k], threads = pooled[f] ? THREADS : 1;
            const clockid_t cpu_clock = pooled[f] ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID;
            double w0, c0, wall, cpu;
            if (pooled[f]) ctx->exec.parallel_for(ctx->exec.pool, noop_task, NULL, THREADS);
            w0 = clock_ns(CLOCK_MONOTONIC);
            c0 = clock_ns(cpu_clock);
            check(fns[f](ctx, (uint64_t)step), "a timed call");
            cpu = clock_ns(cpu_clock) - c0;
            wall = clock_ns(CLOCK_MONOTONIC) - w0;
            if (r < 0) continue;
            whole[(size_t)f * reps + (size_t)r] = wall;
            if (threads * wall - cpu <= PREEMPT_TOLERANCE * threads * wall)
                ok[(size_t)f * reps + (size_t)n_ok[f]++] = wall;
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

static dropblock_tensor describe(const bench_case *bc, void *data) {
    const dropblock_shape s = bc->shape;
    return bc->layout == DROPBLOCK_NCHW ? dropblock_tensor_nchw(data, bc->dtype, s.n, s.c, s.h, s.w)
                                        : dropblock_tensor_nhwc(data, bc->dtype, s.n, s.h, s.w, s.c);
}

/* A buffer of `bytes` bc->offset bytes past a 64-byte boundary, and its
   release. */
static void *case_alloc(const bench_case *bc, size_t bytes) {
    return (unsigned char *)xmalloc(bytes + (size_t)bc->offset) + bc->offset;
}

static void case_free(const bench_case *bc, void *p) {
    if (p) free((unsigned char *)p - bc->offset);
}

/* Normal values in [0.5, 1.5) of the case's dtype: no denormals, and every
   page faulted in. */
static void *filled(const bench_case *bc, size_t total) {
    void *p = case_alloc(bc, total * DTYPE_BYTES[bc->dtype]);
    size_t i;
    for (i = 0; i < total; ++i) {
        const float v = 0.5f + (float)(i % 1021) / 1021.0f;
        uint32_t u;
        memcpy(&u, &v, sizeof u);
        switch (bc->dtype) {
        case DROPBLOCK_F16: ((uint16_t *)p)[i] = dropblock__round16((double)v, 5); break;
        case DROPBLOCK_BF16: ((uint16_t *)p)[i] = (uint16_t)(u >> 16); break;
        case DROPBLOCK_F64: ((double *)p)[i] = (double)v; break;
        default: ((float *)p)[i] = v; break;
        }
    }
    return p;
}

static void bench_ctx_init(bench_ctx *ctx, const bench_case *bc, bench_pool *pool) {
    const int step_kind = bc->kind == KIND_STEP;
    size_t mask_bytes;
    memset(ctx, 0, sizeof *ctx);
    ctx->bc = bc;
    ctx->cfg = dropblock_config_default();
    ctx->cfg.keep_prob = KEEP_PROB;
    ctx->cfg.block_h = bc->block;
    ctx->cfg.flags = bc->flags;
    ctx->cfg.scale = bc->scale;
    ctx->cfg.layout = bc->layout;
    ctx->cfg.seed = 2018;
    ctx->total = (size_t)bc->shape.n * (size_t)bc->shape.h * (size_t)bc->shape.w * (size_t)bc->shape.c;
    ctx->x = filled(bc, ctx->total);
    ctx->y = filled(bc, ctx->total);
    ctx->g = step_kind ? filled(bc, ctx->total) : NULL;
    ctx->gx = step_kind ? filled(bc, ctx->total) : NULL;
    ctx->tx = describe(bc, ctx->x);
    ctx->ty = describe(bc, ctx->y);
    ctx->tg = describe(bc, ctx->g);
    ctx->tgx = describe(bc, ctx->gx);
    check(dropblock_workspace_size(bc->shape, &ctx->ws_bytes), "dropblock_workspace_size");
    check(dropblock_mask_workspace_size(&ctx->tx, &mask_bytes), "dropblock_mask_workspace_size");
    if (mask_bytes > ctx->ws_bytes) ctx->ws_bytes = mask_bytes;
    ctx->ws = case_alloc(bc, ctx->ws_bytes);
    ctx->kept_ws = xmalloc(ctx->ws_bytes);
    memset(ctx->ws, 0, ctx->ws_bytes);
    check(dropblock_mask_init(&ctx->kept, &ctx->cfg, 1, &ctx->tx, ctx->kept_ws, ctx->ws_bytes), "dropblock_mask_init");
    check(dropblock_mask_build(&ctx->kept, 0, 1), "dropblock_mask_build");
    ctx->exec.parallel_for = pool_parallel_for;
    ctx->exec.pool = pool;
    ctx->exec.parts = THREADS;
}

static void bench_ctx_free(bench_ctx *ctx) {
    case_free(ctx->bc, ctx->x);
    case_free(ctx->bc, ctx->y);
    case_free(ctx->bc, ctx->g);
    case_free(ctx->bc, ctx->gx);
    case_free(ctx->bc, ctx->ws);
    free(ctx->kept_ws);
}

/* ---- output -------------------------------------------------------------- */

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

/* The name --case matches: case/shape/block/dtype. */
static void label_str(const bench_case *bc, char *buf, size_t len) {
    char shape[48];
    shape_str(&bc->shape, shape, sizeof shape);
    snprintf(buf, len, "%s/%s/%d/%s", bc->name, shape, bc->block, DTYPE_NAMES[bc->dtype]);
}

static int selected(const options *o, const bench_case *bc) {
    char label[96];
    if (!o->pattern) return 1;
    label_str(bc, label, sizeof label);
    return fnmatch(o->pattern, label, 0) == 0;
}

/* Results of one case in the main table. ns and stream: the kernel and
   its floor (2-thread rows: both on two threads); nt: the non-temporal
   floor (0: none); ns1, stream1: the 2-thread rows' one-thread figures. */
typedef struct result {
    double ns, stream, nt, ns1, stream1, ws_per_elem;
    int reps_used, done;
} result;

/* Bytes the row moves per element: read x, write y (twice in a step). */
static double traffic(const bench_case *bc) {
    return (bc->kind == KIND_STEP ? 4.0 : 2.0) * (double)DTYPE_BYTES[bc->dtype];
}

static void print_header(void) {
    printf("%-14s %-15s %5s %-4s %-14s %-8s %8s %6s %9s %6s %9s %7s %5s  %s\n", "case", "shape(NxHxWxC)", "block",
           "type", "flags", "scale", "ns/elem", "GB/s", "vs-stream", "vs-nt", "stream-ns", "ws-B/el", "reps",
           "2 threads: speed-up vs 1 (stream's)");
}

static void print_row(const bench_case *bc, const result *res) {
    char shape[48], nt[16] = "-", thr[48] = "";
    shape_str(&bc->shape, shape, sizeof shape);
    if (res->nt > 0) snprintf(nt, sizeof nt, "%6.3f", res->ns / res->nt);
    if (bc->kind == KIND_THREADS)
        snprintf(thr, sizeof thr, "%.2fx (%.2fx)", res->ns1 / res->ns, res->stream1 / res->stream);
    printf("%-14s %-15s %5d %-4s %-14s %-8s %8.4f %6.2f %9.3f %6s %9.4f %7.4f %5d  %s\n", bc->name, shape, bc->block,
           DTYPE_NAMES[bc->dtype], flags_name(bc->flags), scale_name(bc->scale), res->ns, traffic(bc) / res->ns,
           res->ns / res->stream, nt, res->stream, res->ws_per_elem, res->reps_used, thr);
}

static void write_csv(const char *path, const result *res) {
    FILE *f = fopen(path, "w");
    size_t i;
    if (!f) {
        fprintf(stderr, "dropblock_bench: cannot write %s\n", path);
        exit(1);
    }
    fprintf(f, "case,kind,layout,dtype,threads,n,h,w,c,block,keep,flags,scale,ns_per_elem,gb_per_s,vs_stream,"
               "stream_ns_per_elem,vs_nt,ws_bytes_per_elem,reps_used\n");
    for (i = 0; i < NCASES; ++i) {
        const bench_case *bc = &CASES[i];
        if (!res[i].done) continue;
        fprintf(f, "%s,%s,%s,%s,%d,%d,%d,%d,%d,%d,%.2f,%s,%s,%.5f,%.3f,%.4f,%.5f,%.4f,%.5f,%d\n", bc->name,
                KIND_NAMES[bc->kind], bc->layout == DROPBLOCK_NCHW ? "nchw" : "nhwc", DTYPE_NAMES[bc->dtype],
                bc->kind == KIND_THREADS ? THREADS : 1, bc->shape.n, bc->shape.h, bc->shape.w, bc->shape.c,
                bc->block, (double)KEEP_PROB, flags_name(bc->flags), scale_name(bc->scale), res[i].ns,
                traffic(bc) / res[i].ns, res[i].ns / res[i].stream, res[i].stream,
                res[i].nt > 0 ? res[i].ns / res[i].nt : 0.0, res[i].ws_per_elem, res[i].reps_used);
    }
    fclose(f);
}

/* ---- the summary: one line per speed target --------------------------------- */

/* Option rows (option costs, the 1.x range and 3-D paths): shown, not
   among the targets. */
static int is_option_row(const bench_case *bc) {
    return bc->kind == KIND_3D || bc->kind == KIND_SPLIT ||
           (bc->flags & (DROPBLOCK_EXACT_RATE | DROPBLOCK_FILL_NOISE)) != 0;
}

static int is_forward(const bench_case *bc) {
    return (bc->kind == KIND_FWD || bc->kind == KIND_ALLOC || bc->kind == KIND_INPLACE ||
            (bc->kind == KIND_TENSOR && bc->dtype == DROPBLOCK_F32)) &&
           !is_option_row(bc);
}

static int is_backward(const bench_case *bc) { return bc->kind == KIND_BWD || bc->kind == KIND_BWD_KEPT; }

/* A row's figure for one target, or < 0 if the row is not in it. */
typedef double (*metric_fn)(const bench_case *bc, const result *res);

static double m_fwd(const bench_case *bc, const result *r) {
    return is_forward(bc) && !is_ooc(bc) ? r->ns / r->stream : -1;
}
static double m_ooc(const bench_case *bc, const result *r) {
    return is_ooc(bc) && (is_forward(bc) || is_backward(bc)) ? r->ns / r->stream : -1;
}
static double m_ooc_nt(const bench_case *bc, const result *r) {
    return r->nt > 0 && (is_forward(bc) || is_backward(bc)) ? r->ns / r->nt : -1;
}
static double m_bwd_kept(const bench_case *bc, const result *r) {
    return bc->kind == KIND_BWD_KEPT ? r->ns / r->stream : -1;
}
static double m_half(const bench_case *bc, const result *r) {
    return bc->kind == KIND_TENSOR && (bc->dtype == DROPBLOCK_F16 || bc->dtype == DROPBLOCK_BF16)
               ? r->ns / r->stream
               : -1;
}
static double m_f64(const bench_case *bc, const result *r) {
    return bc->kind == KIND_TENSOR && bc->dtype == DROPBLOCK_F64 ? r->ns / r->stream : -1;
}
static double m_threads(const bench_case *bc, const result *r) {
    return bc->kind == KIND_THREADS ? r->ns1 / r->ns : -1;
}
/* what two threads bring the stream in the same run: the machine's ceiling */
static double m_threads_stream(const bench_case *bc, const result *r) {
    return bc->kind == KIND_THREADS ? r->stream1 / r->stream : -1;
}
static double m_step(const bench_case *bc, const result *r) { return bc->kind == KIND_STEP ? r->ns / r->stream : -1; }
static double m_bwd_rebuild(const bench_case *bc, const result *r) {
    return bc->kind == KIND_BWD && !is_ooc(bc) ? r->ns / r->stream : -1;
}
static double m_option(const bench_case *bc, const result *r) { return is_option_row(bc) ? r->ns / r->stream : -1; }

/* The worst row of a target (largest figure; smallest when at_least) and
   every row that misses the limit (limit 0: no target, shown for
   reference). Prints nothing when no row of it ran. */
static void target_line(const char *what, const result *res, metric_fn f, double limit, int at_least) {
    char label[96], misses[1024] = "";
    double worst = 0;
    size_t i, worst_i = NCASES, nmiss = 0;
    for (i = 0; i < NCASES; ++i) {
        double v = res[i].done ? f(&CASES[i], &res[i]) : -1;
        if (v < 0) continue;
        if (worst_i == NCASES || (at_least ? v < worst : v > worst)) {
            worst = v;
            worst_i = i;
        }
        if (limit > 0 && (at_least ? v < limit : v > limit)) {
            size_t used = strlen(misses);
            label_str(&CASES[i], label, sizeof label);
            snprintf(misses + used, sizeof misses - used, "%s%s %.3f", nmiss++ ? ", " : "", label, v);
        }
    }
    if (worst_i == NCASES) return;
    label_str(&CASES[worst_i], label, sizeof label);
    if (limit > 0)
        printf("  %-36s %6.3f %s %4.2f  %s  (worst: %s)\n", what, worst, at_least ? ">=" : "<=", limit,
               at_least ? (worst >= limit ? "PASS" : "MISS") : (worst <= limit ? "PASS" : "MISS"), label);
    else
        printf("  %-36s %6.3f   (no target; worst: %s)\n", what, worst, label);
    if (nmiss > 1) printf("      misses: %s\n", misses);
}

/* slowest / fastest of the plain forward rows at one shape and layout
   (block sizes; aligned buffers), each taken as its ratio to its own interleaved stream:
   the stream is the same pass at one shape, so the ratio of two rows'
   ratios is the ratio of their times on the same machine, and a change of
   the machine's speed between rows (others' jobs) cancels. */
static void block_ratio_line(const result *res, dropblock_shape shape, dropblock_layout layout) {
    char s[48];
    double slow = 0, fast = 1e300;
    size_t i;
    int rows = 0;
    for (i = 0; i < NCASES; ++i) {
        const bench_case *bc = &CASES[i];
        if (!res[i].done || bc->kind != KIND_FWD || bc->flags || bc->offset || bc->layout != layout ||
            bc->scale != DROPBLOCK_SCALE_BATCH || memcmp(&bc->shape, &shape, sizeof shape) != 0)
            continue;
        if (res[i].ns / res[i].stream > slow) slow = res[i].ns / res[i].stream;
        if (res[i].ns / res[i].stream < fast) fast = res[i].ns / res[i].stream;
        ++rows;
    }
    if (rows < 2) return;
    shape_str(&shape, s, sizeof s);
    printf("  slowest/fastest block at %-15s%s %6.3f <= %4.2f  %s  (%d block sizes)\n", s,
           layout == DROPBLOCK_NCHW ? " NCHW" : "", slow / fast, TARGET_BLOCK_RATIO,
           slow / fast <= TARGET_BLOCK_RATIO ? "PASS" : "MISS", rows);
}

static void print_summary(const result *res) {
    static const dropblock_shape ref = {16, 14, 14, 1024}, small = {16, 7, 7, 2048};
    double worst_fwd_bits = 0;
    size_t i;
    printf("\nsummary (the speed targets; benchmark figures, not tests; vs the same-run stream)\n");
    target_line("forward in cache, vs stream", res, m_fwd, TARGET_FWD, 0);
    target_line("  stretch", res, m_fwd, STRETCH_FWD, 0);
    target_line("out of cache fwd+bwd, vs stream", res, m_ooc, TARGET_OOC, 0);
    target_line("out of cache fwd+bwd, vs NT stream", res, m_ooc_nt, TARGET_OOC_NT, 0);
    target_line("backward from a kept mask", res, m_bwd_kept, TARGET_BWD_KEPT, 0);
    target_line("F16/BF16 vs same-dtype stream", res, m_half, TARGET_HALF, 0);
    target_line("F64 vs double stream", res, m_f64, TARGET_F64, 0);
    block_ratio_line(res, ref, DROPBLOCK_NHWC);
    block_ratio_line(res, small, DROPBLOCK_NHWC);
    block_ratio_line(res, ref, DROPBLOCK_NCHW);
    target_line("2 threads, speed-up vs 1 thread", res, m_threads, TARGET_THREADS, 1);
    target_line("  the stream's own 2-thread speed-up", res, m_threads_stream, 0, 1);
    target_line("train step vs two streams", res, m_step, 0, 0);
    target_line("backward rebuilding (1.x), in cache", res, m_bwd_rebuild, 0, 0);
    target_line("option rows (options, 3-D, split)", res, m_option, 0, 0);
    for (i = 0; i < NCASES; ++i)
        if (res[i].done && res[i].ws_per_elem * 8.0 > worst_fwd_bits) worst_fwd_bits = res[i].ws_per_elem * 8.0;
    /* SPEC: at most E/8 + E/256 + 88 bytes, i.e. 1 + 1/32 bit per element
       plus a few bytes per call */
    printf("  %-36s %6.3f <= 1.04  %s\n", "workspace bits/elem", worst_fwd_bits,
           worst_fwd_bits <= 1.04 ? "PASS" : "MISS");
    printf("  torchvision: run bench/peer_torchvision.py on --csv (>= 50x on every row it has)\n");
}

static void time_case(const bench_case *bc, bench_pool *pool, const options *o, result *res) {
    bench_ctx ctx;
    double ns[MAX_FNS];
    timed_fn fns[MAX_FNS];
    int pooled[MAX_FNS] = {0}, nfn = 0;
    bench_ctx_init(&ctx, bc, pool);
    fns[nfn++] = run_kernel;
    fns[nfn++] = run_stream;
    if (bc->kind == KIND_THREADS) {
        pooled[nfn] = 1;
        fns[nfn++] = run_kernel_threads;
        pooled[nfn] = 1;
        fns[nfn++] = run_stream_threads;
    }
#ifdef BENCH_NT
    if (has_nt(bc)) fns[nfn++] = run_stream_nt;
#endif
    res->reps_used = time_interleaved(&ctx, fns, pooled, nfn, o, ns);
    res->ns = ns[0];
    res->stream = ns[1];
    res->nt = has_nt(bc) ? ns[2] : 0;
    if (bc->kind == KIND_THREADS) {
        res->ns1 = ns[0];
        res->stream1 = ns[1];
        res->ns = ns[2];
        res->stream = ns[3];
    }
    res->ws_per_elem = (double)ctx.ws_bytes / (double)ctx.total;
    res->done = 1;
    bench_ctx_free(&ctx);
}

static void run_main(const options *o, bench_pool *pool) {
    static result res[NCASES];
    size_t i;
    for (i = 0; i < NCASES && !selected(o, &CASES[i]); ++i) continue;
    if (i == NCASES) {
        fprintf(stderr, "dropblock_bench: no case matches %s (see --list)\n", o->pattern);
        exit(2);
    }
    /* One untimed pass over the first case first: otherwise the first rows
       of every run came out slower (clock ramp, cold allocator). */
    time_case(&CASES[i], pool, o, &res[i]);
    res[i].done = 0;
    print_header();
    for (i = 0; i < NCASES; ++i) {
        if (!selected(o, &CASES[i])) continue;
        time_case(&CASES[i], pool, o, &res[i]);
        print_row(&CASES[i], &res[i]);
        fflush(stdout);
    }
    print_summary(res);
    if (o->csv) write_csv(o->csv, res);
}

/* Phases through the public API, for every one-thread forward row:
   mask = dropblock_mask_init + dropblock_mask_build (no tensor touched),
   draw = the same at keep 0.99999 (drawing with almost nothing to paint),
   apply = dropblock_mask_forward on a mask built once, copy = forward at
   keep 1 (no seed can occur), and the stream(s). */
static void run_breakdown(const options *o, bench_pool *pool) {
    size_t i;
    printf("\nbreakdown (ns/elem, medians; mask = init + build, apply = mask_forward on a built mask)\n");
    printf("%-14s %-15s %5s %-4s %-14s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %5s\n", "case", "shape(NxHxWxC)",
           "block", "type", "flags", "forward", "mask", "draw", "apply", "copy", "stream", "nt", "mask/str", "apl/str",
           "m-obj", "reps");
    for (i = 0; i < NCASES; ++i) {
        const bench_case *bc = &CASES[i];
        static const timed_fn base[7] = {run_kernel, run_mask, run_draw, run_apply, run_copy, run_stream,
                                         run_mask_forward};
        timed_fn fns[MAX_FNS];
        bench_ctx ctx;
        double ns[MAX_FNS] = {0};
        char shape[48], nt[16] = "-";
        static const int pooled[MAX_FNS] = {0};
        int used, nfn = 7;
        if (!selected(o, bc) || !(bc->kind == KIND_FWD || bc->kind == KIND_INPLACE || bc->kind == KIND_TENSOR))
            continue;
        memcpy(fns, base, sizeof base);
#ifdef BENCH_NT
        if (has_nt(bc)) fns[nfn++] = run_stream_nt;
#endif
        bench_ctx_init(&ctx, bc, pool);
        used = time_interleaved(&ctx, fns, pooled, nfn, o, ns);
        shape_str(&bc->shape, shape, sizeof shape);
        if (nfn > 7) snprintf(nt, sizeof nt, "%8.4f", ns[7]);
        printf("%-14s %-15s %5d %-4s %-14s %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8s %8.3f %8.3f %8.4f %5d\n",
               bc->name, shape, bc->block, DTYPE_NAMES[bc->dtype], flags_name(bc->flags), ns[0], ns[1], ns[2], ns[3],
               ns[4], ns[5], nt, ns[1] / ns[5], ns[3] / ns[5], ns[6], used);
        fflush(stdout);
        bench_ctx_free(&ctx);
    }
}

/* --calls N: only the kernel of each selected case, N times with fresh
   steps, untimed; for instruction counts (bench/callgrind.sh). */
static void run_calls(const options *o, bench_pool *pool) {
    size_t i;
    int k;
    for (i = 0; i < NCASES; ++i) {
        bench_ctx ctx;
        char label[96];
        if (!selected(o, &CASES[i])) continue;
        bench_ctx_init(&ctx, &CASES[i], pool);
        for (k = 1; k <= o->calls; ++k) check(run_kernel(&ctx, (uint64_t)k), "a kernel call");
        label_str(&CASES[i], label, sizeof label);
        printf("%s calls %d elements %zu\n", label, o->calls, ctx.total);
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
    fprintf(stderr, "usage: dropblock_bench [--reps N] [--quick] [--csv PATH] [--breakdown] [--case GLOB]\n"
                    "                       [--list] [--calls N]\n"
                    "  --reps N     timed repetitions per case (default 101)\n"
                    "  --quick      3 repetitions, 1 warm-up: checks that it runs\n"
                    "  --csv PATH   also write the table as CSV (for bench/peer_torchvision.py)\n"
                    "  --breakdown  also time the phases of each forward case\n"
                    "  --case GLOB  only the cases whose case/shape/block/type matches (see --list)\n"
                    "  --list       print the case names and exit\n"
                    "  --calls N    call only the kernel of each selected case N times, untimed\n");
}

static int parse_count(const char *s, int *out) {
    char *end;
    long n = strtol(s, &end, 10);
    if (*end || n < 1 || n > 1000000) return 0;
    *out = (int)n;
    return 1;
}

static int parse_args(int argc, char **argv, options *o) {
    int i;
    memset(o, 0, sizeof *o);
    o->reps = 101;
    o->warmup = 5;
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            if (!parse_count(argv[++i], &o->reps)) return 0;
        } else if (!strcmp(argv[i], "--calls") && i + 1 < argc) {
            if (!parse_count(argv[++i], &o->calls)) return 0;
        } else if (!strcmp(argv[i], "--quick")) {
            o->reps = 3;
            o->warmup = 1;
        } else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
            o->csv = argv[++i];
        } else if (!strcmp(argv[i], "--case") && i + 1 < argc) {
            o->pattern = argv[++i];
        } else if (!strcmp(argv[i], "--breakdown")) {
            o->breakdown = 1;
        } else if (!strcmp(argv[i], "--list")) {
            o->list = 1;
        } else {
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    options o;
    bench_pool pool;
    size_t i;
    if (!parse_args(argc, argv, &o)) {
        usage();
        return 2;
    }
    if (o.list) {
        for (i = 0; i < NCASES; ++i) {
            char label[96];
            label_str(&CASES[i], label, sizeof label);
            if (selected(&o, &CASES[i])) printf("%s\n", label);
        }
        return 0;
    }
    pool_start(&pool);
    if (o.calls) {
        run_calls(&o, &pool);
        pool_stop(&pool);
        return 0;
    }
    printf("dropblock.h %s bench: keep %.2f, %d reps (median), %d warm-up, one thread unless the row says\n",
           DROPBLOCK_VERSION_STRING, (double)KEEP_PROB, o.reps, o.warmup);
#ifndef NDEBUG
    printf("note: assertions are on (not a Release build); figures may be pessimistic\n");
#endif
    print_load("at start");
    run_main(&o, &pool);
    if (o.breakdown) run_breakdown(&o, &pool);
    print_load("at end");
    pool_stop(&pool);
    return 0;
}
