/* Windows, parts and streams (the header's THE MATH and THE GENERATOR).
   Windows: any split of a batch into n_offset windows, each with its own
   buffer and mask, counts combined with dropblock_mask_set_batch, gives
   the one-call output bit for bit, in every scale mode and with shared
   maps; set_batch's DROPBLOCK_ERR_KEPT rules. Parts: build and apply cut
   into 1, 2, 3, 7, 64 and more parts than rows, run in shuffled order and
   on pthreads through a dropblock_executor, batch 1 included, equal one
   part, also for the channel-major masks of NCHW tensors; one mask serves
   forward, backward and every dtype. Streams:
   stream 0 is the 1.x mask, stream s keys the generator with
   mix(mix(seed + G) ^ step) ^ mix(s), and two streams are independent at
   the right drop rate. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <string.h>

#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "reference.h"
#include "tensor_util.h"

/* ---- executors ---------------------------------------------------------------------- */

#define MAX_THREADS 4
#define MAX_PARTS 4096

/* A pthread pool (threads started per call, parts dealt round robin), or
   with threads 0 the calling thread in a shuffled order. It records how it
   was called. */
typedef struct pool {
    int threads;
    int calls, wrong_parts, expect_parts;
    tu_prng shuffle;
} pool;

typedef struct worker { dropblock_task_fn fn; void *task; int parts, first, step; } worker;

static void *worker_run(void *arg) {
    const worker *w = (const worker *)arg;
    int k;
    for (k = w->first; k < w->parts; k += w->step) w->fn(w->task, k, w->parts);
    return NULL;
}

static void pool_for(void *p, dropblock_task_fn fn, void *task, int parts) {
    pool *pl = (pool *)p;
    ++pl->calls;
    if (parts != pl->expect_parts) ++pl->wrong_parts;
    if (parts < 1) return;
    if (pl->threads == 0) {
        static int order[MAX_PARTS];
        int k;
        if (parts > MAX_PARTS) abort();
        tt_shuffle(&pl->shuffle, order, parts);
        for (k = 0; k < parts; ++k) fn(task, order[k], parts);
    } else {
        pthread_t th[MAX_THREADS];
        worker w[MAX_THREADS];
        int t, nt = pl->threads < parts ? pl->threads : parts;
        for (t = 0; t < nt; ++t) {
            w[t].fn = fn; w[t].task = task; w[t].parts = parts; w[t].first = t; w[t].step = nt;
            if (pthread_create(&th[t], NULL, worker_run, &w[t]) != 0) abort();
        }
        for (t = 0; t < nt; ++t) pthread_join(th[t], NULL);
    }
}

static dropblock_executor make_exec(pool *pl, int threads, int parts, uint64_t seed) {
    dropblock_executor e;
    memset(pl, 0, sizeof *pl);
    pl->threads = threads;
    pl->expect_parts = parts;
    tu_prng_seed(&pl->shuffle, seed);
    e.parallel_for = pool_for;
    e.pool = pl;
    e.parts = parts;
    return e;
}

/* The mask calls as executor tasks, for build and apply on threads. */
typedef struct mask_task {
    const dropblock_mask *m;
    const dropblock_tensor *x, *y;
    int kind; /* 0 build, 1 forward, 2 backward */
    dropblock_status st[MAX_PARTS];
} mask_task;

static void mask_task_run(void *task, int part, int parts) {
    mask_task *t = (mask_task *)task;
    t->st[part] = t->kind == 0   ? dropblock_mask_build(t->m, part, parts)
                  : t->kind == 1 ? dropblock_mask_forward(t->m, t->x, t->y, part, parts)
                                 : dropblock_mask_backward(t->m, t->x, t->y, part, parts);
}

static void run_mask_task(const dropblock_executor *e, mask_task *t) {
    int k;
    for (k = 0; k < e->parts; ++k) t->st[k] = (dropblock_status)1; /* not run */
    e->parallel_for(e->pool, mask_task_run, t, e->parts);
    for (k = 0; k < e->parts; ++k) assert_int_equal(t->st[k], DROPBLOCK_OK);
}

/* ---- windows -------------------------------------------------------------------------- */

#define MAX_WINDOWS 8

typedef struct wcase {
    dropblock_config cfg;
    dropblock_dtype dt;
    int n, d, h, w, c;
    uint64_t step;
} wcase;

static wcase random_wcase(tu_prng *r) {
    static const float keeps[] = {0.9f, 0.6f, 0.8f, 1.0f};
    wcase k;
    k.n = 2 + (int)tu_prng_below(r, 6);
    k.d = tu_prng_below(r, 4) ? 1 : 2;
    k.h = 1 + (int)tu_prng_below(r, 9);
    k.w = 1 + (int)tu_prng_below(r, 9);
    k.c = 1 + (int)tu_prng_below(r, 4);
    k.dt = (dropblock_dtype)tu_prng_below(r, 4);
    k.cfg = tu_config(keeps[tu_prng_below(r, 4)], (int)tu_prng_below(r, 3), 1 + (int)tu_prng_below(r, 4),
                      (int)tu_prng_below(r, 4), tu_prng_below(r, 32), (dropblock_scale)tu_prng_below(r, 4),
                      DROPBLOCK_NHWC, tu_prng_next(r));
    k.cfg.stream = tu_prng_below(r, 3) ? tu_prng_next(r) : 0;
    k.step = tu_prng_below(r, 50);
    return k;
}

static dropblock_tensor wtensor(const wcase *k, void *data, int n, int64_t n_offset) {
    dropblock_tensor t = tt_ndhwc(data, k->dt, n, k->d, k->h, k->w, k->c);
    t.n_offset = n_offset;
    return t;
}

/* The batch cut at cuts[0] = 0 < ... < cuts[nw] = n; each window has its
   own x and y buffers and mask; concatenated forward and backward outputs
   equal one call. */
static void check_windows(const wcase *k, const int *cuts, int nw, tu_prng *r) {
    dropblock_tensor whole = wtensor(k, NULL, k->n, 0);
    size_t count = tt_count(&whole), es = tt_dtype_size(k->dt), sample = count / (size_t)k->n;
    unsigned char *x = (unsigned char *)tu_xmalloc(count * es), *want = (unsigned char *)tu_xmalloc(count * es);
    unsigned char *want_b = (unsigned char *)tu_xmalloc(count * es), *got = (unsigned char *)tu_xmalloc(count * es);
    unsigned char *wx[MAX_WINDOWS], *wy[MAX_WINDOWS];
    dropblock_mask m[MAX_WINDOWS];
    void *ws[MAX_WINDOWS];
    dropblock_stats all, st;
    uint64_t kept = 0, total = 0;
    int i, backward;
    assert_true(nw >= 1 && nw <= MAX_WINDOWS && cuts[0] == 0 && cuts[nw] == k->n);
    tt_fill_values(r, k->dt, x, count);
    whole.data = x;
    {
        dropblock_tensor y = whole;
        y.data = want;
        assert_int_equal(dropblock_forward_tensor(&k->cfg, k->step, &whole, &y, NULL, 0, NULL, &all), DROPBLOCK_OK);
        y.data = want_b;
        assert_int_equal(dropblock_backward_tensor(&k->cfg, k->step, &whole, &y, NULL, 0, NULL), DROPBLOCK_OK);
    }
    for (i = 0; i < nw; ++i) {
        size_t len = (size_t)(cuts[i + 1] - cuts[i]) * sample * es;
        dropblock_tensor t = wtensor(k, NULL, cuts[i + 1] - cuts[i], cuts[i]);
        wx[i] = (unsigned char *)tu_xmalloc(len);
        wy[i] = (unsigned char *)tu_xmalloc(len);
        memcpy(wx[i], x + (size_t)cuts[i] * sample * es, len);
        assert_int_equal(tt_mask_make(&m[i], &k->cfg, k->step, &t, &ws[i]), DROPBLOCK_OK);
        assert_int_equal(dropblock_mask_stats(&m[i], &st), DROPBLOCK_OK);
        assert_int_equal(st.total, len / es);
        kept += st.kept;
        total += st.total;
    }
    assert_true(kept == all.kept && total == all.total);
    for (i = 0; i < nw; ++i) assert_int_equal(dropblock_mask_set_batch(&m[i], kept, total), DROPBLOCK_OK);
    for (backward = 0; backward < 2; ++backward) {
        for (i = 0; i < nw; ++i) {
            dropblock_tensor tx = wtensor(k, wx[i], cuts[i + 1] - cuts[i], cuts[i]), ty = tx;
            ty.data = wy[i];
            assert_int_equal(backward ? dropblock_mask_backward(&m[i], &tx, &ty, 0, 1)
                                      : dropblock_mask_forward(&m[i], &tx, &ty, 0, 1),
                             DROPBLOCK_OK);
            memcpy(got + (size_t)cuts[i] * sample * es, wy[i], (size_t)(cuts[i + 1] - cuts[i]) * sample * es);
        }
        assert_memory_equal(got, backward ? want_b : want, count * es);
    }
    /* the scales that need no batch count: a window's one call is the slice */
    if (k->cfg.scale != DROPBLOCK_SCALE_BATCH)
        for (i = 0; i < nw; ++i) {
            dropblock_tensor tx = wtensor(k, wx[i], cuts[i + 1] - cuts[i], cuts[i]), ty = tx;
            ty.data = wy[i];
            assert_int_equal(dropblock_forward_tensor(&k->cfg, k->step, &tx, &ty, NULL, 0, NULL, NULL), DROPBLOCK_OK);
            assert_memory_equal(wy[i], want + (size_t)cuts[i] * sample * es,
                                (size_t)(cuts[i + 1] - cuts[i]) * sample * es);
        }
    for (i = 0; i < nw; ++i) {
        free(wx[i]);
        free(wy[i]);
        free(ws[i]);
    }
    free(x);
    free(want);
    free(want_b);
    free(got);
}

static void test_windows(void **state) {
    tu_prng r;
    int k;
    (void)state;
    tu_prng_seed(&r, 404);
    for (k = 0; k < 120; ++k) {
        wcase c = random_wcase(&r);
        int cuts[MAX_WINDOWS + 1], nw = 0, s;
        cuts[0] = 0;
        for (s = 1; s < c.n && nw < MAX_WINDOWS - 1; ++s)
            if (k % 4 == 0 || tu_prng_below(&r, 2)) cuts[++nw] = s; /* every fourth: one sample each */
        cuts[++nw] = c.n;
        check_windows(&c, cuts, nw, &r);
    }
}

/* The whole batch as one window starting at n_offset 0 with set_batch of
   its own counts: unchanged. */
static void test_single_window(void **state) {
    tu_prng r;
    int k;
    (void)state;
    tu_prng_seed(&r, 405);
    for (k = 0; k < 20; ++k) {
        wcase c = random_wcase(&r);
        int cuts[2];
        cuts[0] = 0;
        cuts[1] = c.n;
        check_windows(&c, cuts, 1, &r);
    }
}

/* ---- set_batch ------------------------------------------------------------------------------ */

/* dropblock_mask_set_batch: kept <= total, each at least this window's, at least as many
   dropped as it drops; otherwise DROPBLOCK_ERR_KEPT and nothing changes.
   Every scale mode validates; only SCALE_BATCH uses the counts. */
static void test_set_batch_rules(void **state) {
    int scale;
    (void)state;
    for (scale = 0; scale < 4; ++scale) {
        enum { N = 2, H = 12, W = 12, C = 3, COUNT = N * H * W * C };
        dropblock_config cfg = tu_config(0.8f, 0, 3, 0, 0, (dropblock_scale)scale, DROPBLOCK_NHWC, 61);
        float x[COUNT], before[COUNT], y[COUNT];
        dropblock_tensor tx = tt_ndhwc(x, DROPBLOCK_F32, N, 1, H, W, C), ty = tx;
        dropblock_stats st0, st;
        dropblock_mask m;
        uint64_t k, t, d;
        void *ws;
        size_t i;
        tu_prng r;
        tu_prng_seed(&r, 9);
        tt_fill_values(&r, DROPBLOCK_F32, x, COUNT);
        tx.n_offset = ty.n_offset = 5; /* a window of some larger batch */
        assert_int_equal(tt_mask_make(&m, &cfg, 3, &tx, &ws), DROPBLOCK_OK);
        assert_int_equal(dropblock_mask_stats(&m, &st0), DROPBLOCK_OK);
        k = st0.kept;
        t = st0.total;
        d = t - k;
        assert_true(k > 1 && d > 1);
        ty.data = before;
        assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
        ty.data = y;
        {
            const uint64_t bad[][2] = {
                {t + 1, t},         /* kept > total                  */
                {k - 1, t},         /* fewer kept than this window   */
                {k - 1, t - 1},     /* fewer kept, same dropped      */
                {k + 1, t},         /* fewer dropped                 */
                {k, t - 1},         /* smaller total, fewer dropped  */
                {UINT64_MAX, 0},
                {0, 0},
            };
            for (i = 0; i < sizeof bad / sizeof *bad; ++i) {
                assert_int_equal(dropblock_mask_set_batch(&m, bad[i][0], bad[i][1]), DROPBLOCK_ERR_KEPT);
                assert_int_equal(dropblock_mask_stats(&m, &st), DROPBLOCK_OK);
                assert_memory_equal(&st, &st0, sizeof st);
                memset(y, 0xEE, sizeof y);
                assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
                assert_memory_equal(y, before, sizeof y);
            }
        }
        {
            const uint64_t good[][2] = {{k, t}, {k + 7, t + 7}, {k, t + 9}, {3 * k, 3 * t}, {k, t}};
            for (i = 0; i < sizeof good / sizeof *good; ++i) {
                assert_int_equal(dropblock_mask_set_batch(&m, good[i][0], good[i][1]), DROPBLOCK_OK);
                assert_int_equal(dropblock_mask_stats(&m, &st), DROPBLOCK_OK);
                assert_true(st.kept == k && st.total == t && st.gamma == st0.gamma); /* its own counts */
                if (scale == DROPBLOCK_SCALE_BATCH) {
                    assert_true(st.scale == (double)good[i][1] / (double)good[i][0]);
                } else {
                    assert_true(st.scale == st0.scale);
                    memset(y, 0xEE, sizeof y);
                    assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
                    assert_memory_equal(y, before, sizeof y);
                }
            }
        }
        /* last set_batch was the window's own counts: the window's own output */
        memset(y, 0xEE, sizeof y);
        assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
        assert_memory_equal(y, before, sizeof y);
        assert_int_equal(dropblock_mask_set_batch(NULL, k, t), DROPBLOCK_ERR_NULL);
        free(ws);
    }
}

/* Where no seed can occur, s stays 1 and the output is a bit copy, whatever
   set_batch says; under FILL_NOISE s is 1 in every scale mode, so set_batch
   changes neither the scale nor the output. */
static void test_set_batch_without_seeds(void **state) {
    enum { COUNT = 2 * 6 * 6 * 2 };
    dropblock_config cfg = tu_config(1.0f, 0, 3, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 62);
    float x[COUNT], y[COUNT], before[COUNT];
    dropblock_tensor tx = tt_ndhwc(x, DROPBLOCK_F32, 2, 1, 6, 6, 2), ty = tx;
    dropblock_stats st;
    dropblock_mask m;
    void *ws;
    tu_prng r;
    (void)state;
    tu_prng_seed(&r, 10);
    tt_fill_values(&r, DROPBLOCK_F32, x, COUNT);
    ty.data = y;
    assert_int_equal(tt_mask_make(&m, &cfg, 3, &tx, &ws), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_set_batch(&m, COUNT, (uint64_t)3 * COUNT), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_stats(&m, &st), DROPBLOCK_OK);
    assert_true(st.scale == 1.0);
    assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
    assert_memory_equal(x, y, sizeof x);
    free(ws);
    cfg.keep_prob = 0.8f;
    cfg.flags = DROPBLOCK_FILL_NOISE;
    assert_int_equal(tt_mask_make(&m, &cfg, 3, &tx, &ws), DROPBLOCK_OK);
    ty.data = before;
    assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_stats(&m, &st), DROPBLOCK_OK);
    assert_true(st.scale == 1.0 && st.kept < st.total);
    assert_int_equal(dropblock_mask_set_batch(&m, st.kept, st.total + 9), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_stats(&m, &st), DROPBLOCK_OK);
    assert_true(st.scale == 1.0);
    ty.data = y;
    assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
    assert_memory_equal(y, before, sizeof y);
    free(ws);
}

/* ---- parts ----------------------------------------------------------------------------------- */

typedef struct pcase { int n, d, h, w, c; } pcase;

static const pcase pcases[] = {
    {1, 1, 40, 9, 3},  /* batch 1: only rows can split */
    {1, 1, 1, 37, 2},  /* batch 1, one row              */
    {3, 1, 11, 8, 4},
    {2, 5, 6, 7, 2},   /* 3-D                           */
    {1, 4, 9, 5, 1},   /* 3-D batch 1                    */
};

static const unsigned part_flags[] = {
    0, DROPBLOCK_SHARE_CHANNELS, DROPBLOCK_SHARE_BATCH | DROPBLOCK_SEED_ANYWHERE, DROPBLOCK_FILL_NOISE,
    DROPBLOCK_EXACT_RATE | DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SHARE_BATCH,
};

/* Builds and applies the mask of (cfg, p) in `parts` build parts and
   `apply` apply parts on executor `threads` (0: shuffled, this thread),
   forward into y and backward into dx. */
static void run_parts_on(const dropblock_config *cfg, dropblock_tensor tx, void *y, void *dx, int parts, int apply,
                         int threads, dropblock_stats *stats) {
    dropblock_tensor ty = tx, tdx = tx;
    dropblock_executor eb, ea;
    pool pb, pa;
    mask_task *task = (mask_task *)tu_xmalloc(sizeof *task);
    dropblock_mask m;
    size_t bytes = 0;
    void *ws;
    ty.data = y;
    tdx.data = dx;
    eb = make_exec(&pb, threads, parts, (uint64_t)parts * 31 + 1);
    ea = make_exec(&pa, threads, apply, (uint64_t)apply * 17 + 2);
    assert_int_equal(dropblock_mask_workspace_size(&tx, &bytes), DROPBLOCK_OK);
    ws = tu_xmalloc(bytes);
    memset(&m, 0, sizeof m); /* empty if init fails: asserts do not stop the analyzer */
    assert_int_equal(dropblock_mask_init(&m, cfg, 7, &tx, ws, bytes), DROPBLOCK_OK);
    task->m = &m;
    task->x = &tx;
    task->kind = 0;
    run_mask_task(&eb, task);
    assert_int_equal(dropblock_mask_stats(&m, stats), DROPBLOCK_OK);
    task->y = &ty;
    task->kind = 1;
    run_mask_task(&ea, task);
    task->y = &tdx;
    task->kind = 2;
    run_mask_task(&ea, task);
    free(ws);
    free(task);
}

static void run_parts(const dropblock_config *cfg, const pcase *p, const void *x, void *y, void *dx, int parts,
                      int apply, int threads, dropblock_stats *stats) {
    run_parts_on(cfg, tt_ndhwc((void *)x, DROPBLOCK_F32, p->n, p->d, p->h, p->w, p->c), y, dx, parts, apply, threads,
                 stats);
}

/* A run's output, gradient and stats equal the one-part run's. */
static void assert_same_run(const float *y, const float *y1, const float *d, const float *d1, const dropblock_stats *s,
                            const dropblock_stats *s1, size_t count) {
    assert_memory_equal(y, y1, count * 4);
    assert_memory_equal(d, d1, count * 4);
    assert_memory_equal(s, s1, sizeof *s);
}

/* 1, 2, 3, 7, 64 and more parts than rows, for build and apply separately,
   shuffled and on pthreads, equal one part (outputs and stats). */
static void test_parts_identical(void **state) {
    size_t pc, fl;
    (void)state;
    for (pc = 0; pc < sizeof pcases / sizeof *pcases; ++pc)
        for (fl = 0; fl < sizeof part_flags / sizeof *part_flags; ++fl) {
            const pcase *p = &pcases[pc];
            size_t count = (size_t)p->n * p->d * p->h * p->w * p->c;
            int rows = p->n * p->d * p->h;
            const int parts[] = {1, 2, 3, 7, 64, rows + 5};
            dropblock_config cfg = tu_config(0.75f, 2, 3, 2, part_flags[fl], (dropblock_scale)(fl % 4),
                                             DROPBLOCK_NHWC, 1000 + fl);
            float *x = (float *)tu_xmalloc(count * 4), *y1 = (float *)tu_xmalloc(count * 4);
            float *d1 = (float *)tu_xmalloc(count * 4), *y = (float *)tu_xmalloc(count * 4);
            float *d = (float *)tu_xmalloc(count * 4);
            dropblock_stats s1, s;
            size_t a, b;
            tu_prng r;
            tu_prng_seed(&r, 70 + pc);
            tt_fill_values(&r, DROPBLOCK_F32, x, count);
            run_parts(&cfg, p, x, y1, d1, 1, 1, 0, &s1);
            for (a = 0; a < 6; ++a)
                for (b = 0; b < 6; ++b) {
                    if (a != b && (a + b) % 3) continue; /* equal counts and a spread of mixed ones */
                    memset(y, 0xEE, count * 4);
                    memset(d, 0xEE, count * 4);
                    run_parts(&cfg, p, x, y, d, parts[a], parts[b], (int)((a + b) % 2) * MAX_THREADS, &s);
                    assert_same_run(y, y1, d, d1, &s, &s1, count);
                }
            free(x);
            free(y1);
            free(d1);
            free(y);
            free(d);
        }
}

/* Channel-major masks, chosen for NCHW-like tensors whose (sample, depth)
   slices have at least 4096 bits: their bands are runs of channel planes,
   two to a slice in the first two shapes (so that build parts cut slices
   between planes) and a whole slice in the 3-D one; the fourth shape's
   slices are too small and keep pixel-major rows. The last five have
   channels in groups of 64, so that where AVX-512 is available their builds
   take the dense path (planes drawn, dilated and transposed 64 at a time)
   at blocks 1 and 3: bands that cut a group of 64 planes (3x4x768,
   20x20x64), 49-pixel planes, a 3-D shape (dense at block 1, seed by seed
   at block 3), and 576-pixel planes (one group of 64 at a time). Built and
   applied in 1, 2, 3, 5 and 64 parts, shuffled and on pthreads, at block 1
   (each seed row painted at once) and 3, with noise and with shared maps,
   output and gradient (gathered into NDHWC order) and stats equal those of
   the same values in an NDHWC tensor; also with the planes padded apart
   (stride_c = D*H*W + 3, so that a sample's planes are not one run). */
static void test_parts_channel_major(void **state) {
    static const pcase shapes[] = {{1, 1, 4, 5, 500}, {2, 1, 7, 7, 300}, {2, 3, 5, 7, 150}, {3, 1, 5, 6, 8},
                                   {1, 1, 3, 4, 768}, {2, 1, 7, 7, 128}, {2, 3, 4, 4, 512}, {1, 1, 20, 20, 64},
                                   {1, 1, 24, 24, 64}};
    static const unsigned flags[] = {0, DROPBLOCK_FILL_NOISE, DROPBLOCK_SHARE_BATCH | DROPBLOCK_SEED_ANYWHERE};
    static const int parts[] = {1, 2, 3, 5, 64};
    size_t si, fl, bi, pi;
    (void)state;
    for (si = 0; si < sizeof shapes / sizeof *shapes; ++si)
        for (fl = 0; fl < sizeof flags / sizeof *flags; ++fl)
            for (bi = 0; bi < 2; ++bi) {
                const pcase *p = &shapes[si];
                const int block = bi ? 3 : 1, pad = 3;
                const size_t count = (size_t)p->n * p->d * p->h * p->w * p->c;
                const size_t spread = count + (size_t)p->n * p->c * pad; /* padded planes */
                dropblock_config cfg = tu_config(bi ? 0.8f : 0.9f, block, block, block, flags[fl],
                                                 (dropblock_scale)((si + fl) % 4), DROPBLOCK_NHWC, 2000 + 7 * si + fl);
                float *x = (float *)tu_xmalloc(count * 4), *y1 = (float *)tu_xmalloc(count * 4);
                float *d1 = (float *)tu_xmalloc(count * 4), *buf = (float *)tu_xmalloc(spread * 4);
                float *yb = (float *)tu_xmalloc(spread * 4), *db = (float *)tu_xmalloc(spread * 4);
                float *y = (float *)tu_xmalloc(count * 4), *d = (float *)tu_xmalloc(count * 4);
                dropblock_stats s1, s;
                tu_prng r;
                tu_prng_seed(&r, 90 + si);
                tt_fill_values(&r, DROPBLOCK_F32, x, count);
                run_parts(&cfg, p, x, y1, d1, 1, 1, 0, &s1);
                for (pi = 0; pi < 2 * sizeof parts / sizeof *parts; ++pi) {
                    const int np = parts[pi / 2], padded = (int)(pi % 2);
                    dropblock_tensor t = tt_ncdhw(buf, DROPBLOCK_F32, p->n, p->d, p->h, p->w, p->c), ty, td;
                    if (padded) {
                        t.stride_c += pad;
                        t.stride_n = (ptrdiff_t)p->c * t.stride_c;
                    }
                    tt_scatter(&t, x);
                    ty = t;
                    td = t;
                    ty.data = yb;
                    td.data = db;
                    memset(yb, 0xEE, spread * 4);
                    memset(db, 0xEE, spread * 4);
                    run_parts_on(&cfg, t, yb, db, np, parts[(pi / 2 + 2) % 5], (int)(pi % 3 == 1) * MAX_THREADS, &s);
                    tt_gather(&ty, y);
                    tt_gather(&td, d);
                    assert_same_run(y, y1, d, d1, &s, &s1, count);
                }
                free(x);
                free(y1);
                free(d1);
                free(buf);
                free(yb);
                free(db);
                free(y);
                free(d);
            }
}

/* Apply parts are disjoint, cover the tensor, and split a single sample:
   part k of `parts` writes exactly the elements no other part writes, and
   their number is its share of the rows (sample, depth, row) to within one
   row either way. */
static void test_parts_split_the_work(void **state) {
    static const pcase shapes[] = {{1, 1, 64, 16, 8}, {1, 3, 20, 7, 2}, {3, 1, 5, 9, 4}};
    static const int parts_list[] = {2, 3, 4, 7, 16};
    size_t si, pi;
    (void)state;
    for (si = 0; si < sizeof shapes / sizeof *shapes; ++si)
        for (pi = 0; pi < sizeof parts_list / sizeof *parts_list; ++pi) {
            const pcase *p = &shapes[si];
            int parts = parts_list[pi], k, rows = p->n * p->d * p->h;
            size_t count = (size_t)p->n * p->d * p->h * p->w * p->c, row = (size_t)p->w * p->c, e, covered = 0;
            dropblock_config cfg = tu_config(0.8f, 0, 3, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 5000 + si);
            float *x = (float *)tu_xmalloc(count * 4), *y = (float *)tu_xmalloc(count * 4);
            uint8_t *owner = (uint8_t *)calloc(count, 1);
            dropblock_tensor tx = tt_ndhwc(x, DROPBLOCK_F32, p->n, p->d, p->h, p->w, p->c), ty = tx;
            dropblock_mask m;
            void *ws;
            tu_prng r;
            assert_non_null(owner);
            tu_prng_seed(&r, 3);
            tt_fill_values(&r, DROPBLOCK_F32, x, count);
            ty.data = y;
            assert_int_equal(tt_mask_make(&m, &cfg, 1, &tx, &ws), DROPBLOCK_OK);
            for (k = 0; k < parts; ++k) {
                size_t written = 0;
                double share = (double)rows / parts * (double)row;
                memset(y, 0xFF, count * 4); /* a NaN pattern no output has */
                assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, k, parts), DROPBLOCK_OK);
                for (e = 0; e < count; ++e) {
                    if (tu_bits(y[e]) == 0xFFFFFFFFu) continue;
                    ++written;
                    assert_int_equal(owner[e], 0); /* no element in two parts */
                    owner[e] = 1;
                }
                covered += written;
                assert_true((double)written >= share - (double)row && (double)written <= share + (double)row);
            }
            assert_int_equal(covered, count);
            free(ws);
            free(x);
            free(y);
            free(owner);
        }
}

/* dropblock_forward_tensor / _backward_tensor through an executor: the
   build and the apply each go through parallel_for (so at least two
   calls), every call has exec->parts parts, the result is the
   calling-thread one. */
static void test_executor_calls(void **state) {
    size_t pc;
    (void)state;
    for (pc = 0; pc < sizeof pcases / sizeof *pcases; ++pc) {
        const pcase *p = &pcases[pc];
        size_t count = (size_t)p->n * p->d * p->h * p->w * p->c;
        int rows = p->n * p->d * p->h, threads;
        const int parts[] = {1, 2, 3, 7, 64, rows + 5};
        dropblock_config cfg = tu_config(0.8f, 0, 3, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 2000 + pc);
        uint16_t *x = (uint16_t *)tu_xmalloc(count * 2), *y1 = (uint16_t *)tu_xmalloc(count * 2);
        uint16_t *y = (uint16_t *)tu_xmalloc(count * 2);
        dropblock_tensor tx = tt_ndhwc(x, DROPBLOCK_BF16, p->n, p->d, p->h, p->w, p->c), ty = tx;
        dropblock_stats s1, s;
        size_t a;
        tu_prng r;
        tu_prng_seed(&r, 90 + pc);
        tt_fill_values(&r, DROPBLOCK_BF16, x, count);
        ty.data = y1;
        assert_int_equal(dropblock_forward_tensor(&cfg, 5, &tx, &ty, NULL, 0, NULL, &s1), DROPBLOCK_OK);
        ty.data = y;
        for (threads = 0; threads <= MAX_THREADS; threads += MAX_THREADS)
            for (a = 0; a < 6; ++a) {
                pool pl;
                dropblock_executor e = make_exec(&pl, threads, parts[a], a + 1);
                memset(y, 0xEE, count * 2);
                assert_int_equal(dropblock_forward_tensor(&cfg, 5, &tx, &ty, NULL, 0, &e, &s), DROPBLOCK_OK);
                assert_memory_equal(y, y1, count * 2);
                assert_memory_equal(&s, &s1, sizeof s);
                assert_true(pl.calls >= 2);
                assert_int_equal(pl.wrong_parts, 0);
                pl.calls = 0;
                assert_int_equal(dropblock_backward_tensor(&cfg, 5, &tx, &ty, NULL, 0, &e), DROPBLOCK_OK);
                assert_memory_equal(y, y1, count * 2); /* no noise: backward is forward */
                assert_true(pl.calls >= 2);
                assert_int_equal(pl.wrong_parts, 0);
            }
        free(x);
        free(y1);
        free(y);
    }
}

/* A mask built once serves forward and backward in every dtype, equal to
   the one-call results of each dtype, and applying it leaves its
   workspace as build left it. */
static void test_mask_serves_every_dtype(void **state) {
    enum { N = 2, H = 10, W = 9, C = 3, COUNT = N * H * W * C };
    dropblock_config cfg = tu_config(0.7f, 0, 3, 0, DROPBLOCK_SHARE_CHANNELS, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC,
                                     3030);
    dropblock_tensor like = tt_ndhwc(NULL, DROPBLOCK_F16, N, 1, H, W, C);
    unsigned char x[(size_t)COUNT * 8], y[(size_t)COUNT * 8], want[(size_t)COUNT * 8], *built;
    dropblock_mask m;
    size_t ws_bytes = 0;
    void *ws;
    int dt, backward;
    tu_prng r;
    (void)state;
    tu_prng_seed(&r, 12);
    assert_int_equal(tt_mask_make(&m, &cfg, 9, &like, &ws), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_workspace_size(&like, &ws_bytes), DROPBLOCK_OK);
    built = (unsigned char *)tu_xmalloc(ws_bytes);
    memcpy(built, ws, ws_bytes);
    for (dt = 0; dt < 4; ++dt)
        for (backward = 0; backward < 2; ++backward) {
            dropblock_tensor tx = tt_ndhwc(x, (dropblock_dtype)dt, N, 1, H, W, C), ty = tx;
            size_t bytes = COUNT * tt_dtype_size((dropblock_dtype)dt);
            tt_fill_values(&r, (dropblock_dtype)dt, x, COUNT);
            ty.data = want;
            assert_int_equal(backward ? dropblock_backward_tensor(&cfg, 9, &tx, &ty, NULL, 0, NULL)
                                      : dropblock_forward_tensor(&cfg, 9, &tx, &ty, NULL, 0, NULL, NULL),
                             DROPBLOCK_OK);
            ty.data = y;
            memset(y, 0xEE, sizeof y);
            assert_int_equal(backward ? dropblock_mask_backward(&m, &tx, &ty, 0, 1)
                                      : dropblock_mask_forward(&m, &tx, &ty, 0, 1),
                             DROPBLOCK_OK);
            assert_memory_equal(y, want, bytes);
            assert_memory_equal(ws, built, ws_bytes); /* applying only reads the mask */
        }
    free(ws);
    free(built);
}

/* ---- streams ----------------------------------------------------------------------------------- */

/* The reference keep mask (tensor layout) of stream `stream`: the key of
   THE GENERATOR's stream (seed, step) with mix(stream) xored in. */
static void ref_keep_stream(const dropblock_config *cfg, dropblock_shape3d s, uint64_t step, uint64_t stream,
                            uint8_t *keep) {
    ref_geom g = ref_setup(cfg, s, step);
    g.key ^= tu_mix(stream);
    ref_keep_mask_naive(&g, keep);
}

/* Stream 0 is the 1.x mask; stream s the documented key; the 1.x calls
   honour the stream too. */
static void test_stream_keys(void **state) {
    static const uint64_t streams[] = {0, 1, 2, 12345, UINT64_C(0xFFFFFFFFFFFFFFFF)};
    tu_prng r;
    int k;
    (void)state;
    tu_prng_seed(&r, 55);
    for (k = 0; k < 40; ++k) {
        dropblock_shape3d s;
        dropblock_config cfg;
        size_t count, e, i;
        uint8_t *want, *got;
        float *x, *y, *y2;
        s.n = 1 + (int)tu_prng_below(&r, 3);
        s.d = k % 4 == 3 ? 2 : 1;
        s.h = 2 + (int)tu_prng_below(&r, 9);
        s.w = 2 + (int)tu_prng_below(&r, 9);
        s.c = 1 + (int)tu_prng_below(&r, 3);
        count = (size_t)s.n * s.d * s.h * s.w * s.c;
        cfg = tu_config(0.75f, 0, 1 + (int)tu_prng_below(&r, 3), 0,
                        tu_prng_below(&r, 8), /* shares and placement: the reference has no noise or exact rate */
                        DROPBLOCK_SCALE_BATCH, (dropblock_layout)tu_prng_below(&r, 2), tu_prng_next(&r));
        want = (uint8_t *)tu_xmalloc(count);
        got = (uint8_t *)tu_xmalloc(count);
        x = (float *)tu_xmalloc(count * 4);
        y = (float *)tu_xmalloc(count * 4);
        y2 = (float *)tu_xmalloc(count * 4);
        for (e = 0; e < count; ++e) x[e] = 1.0f;
        for (i = 0; i < sizeof streams / sizeof *streams; ++i) {
            dropblock_tensor tx = cfg.layout == DROPBLOCK_NCHW ? tt_ncdhw(x, DROPBLOCK_F32, s.n, s.d, s.h, s.w, s.c)
                                                               : tt_ndhwc(x, DROPBLOCK_F32, s.n, s.d, s.h, s.w, s.c);
            dropblock_tensor ty = tx;
            size_t bytes = 0;
            void *ws = tu_workspace3d(s, &bytes);
            assert_non_null(ws);
            cfg.stream = streams[i];
            ref_keep_stream(&cfg, s, 6, streams[i], want);
            assert_int_equal(dropblock_forward3d(&cfg, s, 6, x, y, got, ws, bytes), DROPBLOCK_OK);
            assert_memory_equal(got, want, count);
            ty.data = y2;
            assert_int_equal(dropblock_forward_tensor(&cfg, 6, &tx, &ty, NULL, 0, NULL, NULL), DROPBLOCK_OK);
            assert_memory_equal(y2, y, count * 4);
            free(ws);
        }
        free(want);
        free(got);
        free(x);
        free(y);
        free(y2);
    }
}

/* Kept fraction of stream `stream` on a 4 x 64 x 64 x 8 tensor, and its
   keep bits in *keep. */
static double stream_keep(dropblock_config cfg, uint64_t stream, uint8_t *keep, double *gamma) {
    dropblock_tensor like = tt_ndhwc(NULL, DROPBLOCK_F32, 4, 1, 64, 64, 8);
    dropblock_stats st;
    dropblock_mask m;
    void *ws;
    cfg.stream = stream;
    assert_int_equal(tt_mask_make(&m, &cfg, 21, &like, &ws), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_stats(&m, &st), DROPBLOCK_OK);
    assert_int_equal(tt_mask_keep(&m, &like, keep), DROPBLOCK_OK);
    free(ws);
    *gamma = st.gamma;
    return (double)st.kept / (double)st.total;
}

/* Two streams' masks agree where independence predicts, q1 q2 + (1-q1)(1-q2),
   and each drops what dropblock_expected_keep predicts. A block b x b makes
   an element's bit depend on its (2b-1)^2 neighbours, which bounds the
   variance of either fraction by (2b-1)^2 p (1-p) / N; the tolerance is 5
   such standard deviations. */
static void test_stream_independence(void **state) {
    enum { COUNT = 4 * 64 * 64 * 8 };
    static const int blocks[] = {1, 3};
    uint8_t *a = (uint8_t *)tu_xmalloc(COUNT), *b = (uint8_t *)tu_xmalloc(COUNT);
    size_t bi;
    (void)state;
    for (bi = 0; bi < 2; ++bi) {
        const uint64_t pairs[][2] = {{0, 1}, {1, 2}, {3, UINT64_C(0x8000000000000000)}, {7, 8}};
        int bs = blocks[bi];
        double inflate = (double)(2 * bs - 1) * (2 * bs - 1);
        dropblock_config cfg = tu_config(bs == 1 ? 0.5f : 0.9f, 0, bs, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC,
                                         777);
        size_t i, e;
        for (i = 0; i < sizeof pairs / sizeof *pairs; ++i) {
            double g1, g2, q1 = stream_keep(cfg, pairs[i][0], a, &g1), q2 = stream_keep(cfg, pairs[i][1], b, &g2);
            double expect = dropblock_expected_keep(g1, bs, bs, 64, 64, 0), agree = 0.0, p, tol;
            for (e = 0; e < COUNT; ++e) agree += a[e] == b[e];
            agree /= COUNT;
            p = q1 * q2 + (1.0 - q1) * (1.0 - q2);
            tol = 5.0 * sqrt(inflate * p * (1.0 - p) / COUNT);
            assert_true(g1 == g2);
            assert_true(fabs(agree - p) <= tol);
            tol = 5.0 * sqrt(inflate * expect * (1.0 - expect) / COUNT);
            assert_true(fabs(q1 - expect) <= tol);
            assert_true(fabs(q2 - expect) <= tol);
        }
    }
    free(a);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_single_window),
        cmocka_unit_test(test_set_batch_rules),
        cmocka_unit_test(test_set_batch_without_seeds),
        cmocka_unit_test(test_parts_identical),
        cmocka_unit_test(test_parts_channel_major),
        cmocka_unit_test(test_parts_split_the_work),
        cmocka_unit_test(test_executor_calls),
        cmocka_unit_test(test_mask_serves_every_dtype),
        cmocka_unit_test(test_stream_keys),
        cmocka_unit_test(test_stream_independence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
