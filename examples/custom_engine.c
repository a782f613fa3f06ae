/* custom_engine.c - calling DropBlock from an inference/training engine.

   An engine wants three things from a layer: no allocation in the hot path,
   buffers it owns, and work it can split across its own threads. This
   program shows each, and checks every claim it prints (exit 1 if one
   fails, so ctest runs it as a test):

   1. A layer object that asks dropblock_workspace_size() once, owns the
      workspace, and calls dropblock_forward_ws() / dropblock_backward_ws()
      each training step: zero allocations per step.
   2. One batch split across pthreads with dropblock_count_kept() and
      dropblock_forward_range() / dropblock_backward_range(). The default
      batch scale (T / kept) needs the kept count of the WHOLE tensor, so it
      takes two phases: every thread counts its samples, the counts are
      summed, then every thread applies. The result equals one
      dropblock_forward_ws() call bit for bit. Splitting pays only for large
      tensors: the call is one streaming pass over memory, so on small ones
      the thread handoff can cost more than it saves (measure yours).
   3. The 3-D entry point (video, volumes), and that a 2-D call is the 3-D
      call with depth 1.

   Build: cc -std=c99 -O2 -Iinclude examples/custom_engine.c -lpthread */
#define _POSIX_C_SOURCE 200809L
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 8, H = 16, W = 16, C = 32, TOTAL = N * H * W * C, THREADS = 3, STEPS = 4 };

static int failures = 0;

static void check(int ok, const char *what) {
    printf("  [%s] %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

static void fill_input(float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) x[i] = 1.0f + (float)(i % 7) * 0.25f; /* nonzero: a 0 out means dropped */
}

/* ---- 1. a layer that owns its workspace ---------------------------------- */

typedef struct {
    dropblock_config cfg;
    dropblock_shape shape;
    void *workspace; /* sized once, reused every step */
    size_t workspace_bytes;
} dropblock_layer;

static int layer_init(dropblock_layer *layer, dropblock_shape shape, int block, float keep_prob,
                      uint64_t seed) {
    memset(layer, 0, sizeof *layer);
    layer->cfg.block_h = block;
    layer->cfg.keep_prob = keep_prob;
    layer->cfg.seed = seed;
    layer->shape = shape;
    if (dropblock_workspace_size(shape, &layer->workspace_bytes) != DROPBLOCK_OK) return 0;
    layer->workspace = malloc(layer->workspace_bytes);
    return layer->workspace != NULL;
}

static void layer_free(dropblock_layer *layer) {
    free(layer->workspace);
    layer->workspace = NULL;
}

static void demo_layer(void) {
    static float x[TOTAL], y[TOTAL], dy[TOTAL], dx[TOTAL];
    static uint8_t mask[TOTAL];
    dropblock_shape shape = {N, H, W, C};
    dropblock_layer layer;
    uint64_t step;
    size_t i, agree = 0;
    int ok = 1;
    printf("1. layer with a caller-owned workspace\n");
    if (!layer_init(&layer, shape, 5, 0.9f, 1234)) {
        check(0, "layer_init");
        return;
    }
    printf("  dropblock_workspace_size(%dx%dx%dx%d) = %zu bytes, allocated once\n", N, H, W, C,
           layer.workspace_bytes);
    fill_input(x, TOTAL);
    for (i = 0; i < TOTAL; ++i) dy[i] = 1.0f;
    for (step = 0; step < STEPS; ++step) {
        size_t kept = 0;
        ok &= dropblock_forward_ws(&layer.cfg, layer.shape, step, x, y, mask, layer.workspace,
                                   layer.workspace_bytes) == DROPBLOCK_OK &&
              dropblock_backward_ws(&layer.cfg, layer.shape, step, dy, dx, layer.workspace,
                                    layer.workspace_bytes) == DROPBLOCK_OK;
        /* Backward regenerates forward's mask and scale: dx = y / x here. */
        for (i = 0; i < TOTAL; ++i) {
            kept += mask[i];
            agree += (mask[i] ? dx[i] * x[i] == y[i] : dx[i] == 0.0f && y[i] == 0.0f);
        }
        printf("  step %d: kept %5.2f%%, scale %.4f\n", (int)step, 100.0 * (double)kept / TOTAL,
               kept ? (double)TOTAL / (double)kept : 0.0);
    }
    check(ok && agree == STEPS * (size_t)TOTAL, "every step: backward_ws used exactly forward_ws's mask and scale");
    layer_free(&layer);
}

/* ---- 2. one batch across threads ------------------------------------------ */

typedef struct {
    const dropblock_config *cfg;
    dropblock_shape shape;
    uint64_t step;
    int n_begin, n_end;  /* this thread's samples                       */
    void *workspace;     /* sized for n_end - n_begin samples            */
    size_t workspace_bytes;
    uint64_t kept;       /* phase 1 result                               */
    uint64_t total_kept; /* phase 2 input: the sum over all threads      */
    const float *x, *dy;
    float *y, *dx;
    uint8_t *mask;
    dropblock_status status;
} slice;

static void *count_phase(void *arg) {
    slice *s = arg;
    s->status = dropblock_count_kept(s->cfg, s->shape, s->step, s->n_begin, s->n_end, s->workspace,
                                     s->workspace_bytes, &s->kept);
    return NULL;
}

/* Forward and backward of this slice; both need the whole tensor's count. */
static void *apply_phase(void *arg) {
    slice *s = arg;
    s->status = dropblock_forward_range(s->cfg, s->shape, s->step, s->n_begin, s->n_end, s->total_kept, s->x,
                                        s->y, s->mask, s->workspace, s->workspace_bytes);
    if (s->status == DROPBLOCK_OK)
        s->status = dropblock_backward_range(s->cfg, s->shape, s->step, s->n_begin, s->n_end, s->total_kept,
                                             s->dy, s->dx, s->workspace, s->workspace_bytes);
    return NULL;
}

/* Runs fn on every slice in its own thread and waits for all: the join is
   the barrier between the two phases. */
static int run_threads(void *(*fn)(void *), slice *slices) {
    pthread_t tid[THREADS];
    int t, ok = 1;
    for (t = 0; t < THREADS; ++t)
        if (pthread_create(&tid[t], NULL, fn, &slices[t]) != 0) return 0;
    for (t = 0; t < THREADS; ++t) {
        pthread_join(tid[t], NULL);
        ok &= slices[t].status == DROPBLOCK_OK;
    }
    return ok;
}

static void demo_threads(void) {
    static float x[TOTAL], dy[TOTAL], y1[TOTAL], dx1[TOTAL], yt[TOTAL], dxt[TOTAL];
    static uint8_t m1[TOTAL], mt[TOTAL];
    dropblock_config cfg = {0};
    dropblock_shape shape = {N, H, W, C};
    slice slices[THREADS];
    uint64_t total = 0;
    size_t bytes, i;
    void *ws;
    int t, ok;
    printf("2. one batch of %d samples split over %d threads (scale: batch)\n", N, THREADS);
    cfg.keep_prob = 0.85f;
    cfg.block_h = 3;
    cfg.seed = 99;
    fill_input(x, TOTAL);
    for (i = 0; i < TOTAL; ++i) dy[i] = (float)(i % 5) - 2.0f;

    /* Reference: the whole batch in one call. */
    ok = dropblock_workspace_size(shape, &bytes) == DROPBLOCK_OK && (ws = malloc(bytes)) != NULL;
    if (!ok) {
        check(0, "reference workspace");
        return;
    }
    ok = dropblock_forward_ws(&cfg, shape, 7, x, y1, m1, ws, bytes) == DROPBLOCK_OK &&
         dropblock_backward_ws(&cfg, shape, 7, dy, dx1, ws, bytes) == DROPBLOCK_OK;
    free(ws);
    check(ok, "single-call reference");

    /* Uneven split on purpose (2 + 3 + 3 samples): any split is exact. */
    for (t = 0; t < THREADS; ++t) {
        slice *s = &slices[t];
        dropblock_shape part = shape;
        memset(s, 0, sizeof *s);
        s->cfg = &cfg; s->shape = shape; s->step = 7;
        s->n_begin = N * t / THREADS;
        s->n_end = N * (t + 1) / THREADS;
        s->x = x; s->y = yt; s->dy = dy; s->dx = dxt; s->mask = mt;
        part.n = s->n_end - s->n_begin;
        ok = dropblock_workspace_size(part, &s->workspace_bytes) == DROPBLOCK_OK &&
             (s->workspace = malloc(s->workspace_bytes)) != NULL;
        if (!ok) {
            check(0, "slice workspace");
            while (t-- > 0) free(slices[t].workspace);
            return;
        }
    }
    ok = run_threads(count_phase, slices);
    for (t = 0; t < THREADS; ++t) {
        printf("  thread %d: samples [%d, %d) kept %llu\n", t, slices[t].n_begin, slices[t].n_end,
               (unsigned long long)slices[t].kept);
        total += slices[t].kept;
    }
    /* Other scale modes ignore total_kept, so they can skip phase 1. */
    for (t = 0; t < THREADS; ++t) slices[t].total_kept = total;
    ok = ok && run_threads(apply_phase, slices);
    for (t = 0; t < THREADS; ++t) free(slices[t].workspace);
    printf("  total kept %llu of %d\n", (unsigned long long)total, TOTAL);
    check(ok, "count_kept, forward_range and backward_range succeeded");
    check(memcmp(y1, yt, sizeof y1) == 0, "threaded forward output == single call, bit for bit");
    check(memcmp(m1, mt, sizeof m1) == 0, "threaded keep_mask == single call");
    check(memcmp(dx1, dxt, sizeof dx1) == 0, "threaded backward output == single call, bit for bit");
}

/* ---- 3. 3-D ---------------------------------------------------------------- */

static void demo_3d(void) {
    enum { D = 6, TOTAL3 = 2 * D * H * W * 4 };
    static float x[TOTAL3], y[TOTAL3], y2d[TOTAL3];
    static uint8_t mask[TOTAL3];
    dropblock_config cfg = {0};
    dropblock_shape3d clip = {2, D, H, W, 4};  /* NDHWC: 2 clips of 6 frames */
    dropblock_shape3d flat = {2, 1, H, W, 4};  /* depth 1 ...                */
    dropblock_shape plain = {2, H, W, 4};      /* ... is the 2-D call        */
    size_t bytes, kept = 0, i;
    void *ws;
    int ok;
    printf("3. 3-D DropBlock on 2 clips of %d frames, %dx%d, 4 channels, block 3x3x3\n", D, H, W);
    cfg.keep_prob = 0.9f;
    cfg.block_h = 3; /* block_w and block_d 0: same as block_h */
    cfg.seed = 5;
    fill_input(x, TOTAL3);
    /* The 3-D workspace covers the smaller tensors of the 2-D comparison too. */
    ok = dropblock_workspace_size3d(clip, &bytes) == DROPBLOCK_OK && (ws = malloc(bytes)) != NULL;
    if (!ok) {
        check(0, "3-D workspace");
        return;
    }
    ok = dropblock_forward3d(&cfg, clip, 0, x, y, mask, ws, bytes) == DROPBLOCK_OK;
    for (i = 0; i < TOTAL3; ++i) kept += mask[i];
    printf("  kept %.2f%% (target about 90%%: blocks overlap, so a little more is kept)\n",
           100.0 * (double)kept / TOTAL3);
    check(ok, "dropblock_forward3d");
    ok = dropblock_forward3d(&cfg, flat, 0, x, y, NULL, ws, bytes) == DROPBLOCK_OK &&
         dropblock_forward_ws(&cfg, plain, 0, x, y2d, NULL, ws, bytes) == DROPBLOCK_OK;
    check(ok && memcmp(y, y2d, sizeof(float) * 2 * H * W * 4) == 0, "3-D call with depth 1 == 2-D call");
    free(ws);
}

int main(void) {
    demo_layer();
    demo_threads();
    demo_3d();
    printf("%s\n", failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
