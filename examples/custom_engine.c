/* custom_engine.c - DropBlock as a layer of a C training engine (engine API).

   What an engine wants from a layer, shown and checked (exit 1 if a check
   fails, so ctest runs this as a test):

   1. A layer object that owns its stream (its index in the network), its
      workspace (sized once), and the mask it builds in forward and keeps
      for backward: one build per training step, no allocation per step.
   2. The engine's own thread pool: a persistent pthread pool (pool.h) whose
      parallel_for is handed to the library as a dropblock_executor. Build
      and apply are cut over (sample, depth, row), so batch 1 splits too.
   3. The engine's element type and layout: NCHW bf16 activations, no copy.
   4. Two layers with the same seed, step and shape draw different masks.

   Build: cc -std=c99 -O2 -Iinclude examples/custom_engine.c -lpthread -lm */
#define _POSIX_C_SOURCE 200809L
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

enum { THREADS = 3, N = 1, C = 64, H = 56, W = 56, TOTAL = N * C * H * W };

static int failures = 0;

static void check(int ok, const char *what) {
    printf("  [%s] %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

/* ---- the layer --------------------------------------------------------------- */

typedef struct dropblock_layer {
    dropblock_config cfg;
    dropblock_mask mask; /* built by forward, used again by backward */
    void *workspace;
    size_t workspace_bytes;
} dropblock_layer;

typedef struct apply_task {
    const dropblock_mask *mask;
    const dropblock_tensor *in, *out;
    int backward;
} apply_task;

static void build_part(void *task, int part, int parts) {
    (void)dropblock_mask_build((const dropblock_mask *)task, part, parts);
}

static void apply_part(void *task, int part, int parts) {
    const apply_task *a = (const apply_task *)task;
    if (a->backward)
        (void)dropblock_mask_backward(a->mask, a->in, a->out, part, parts);
    else
        (void)dropblock_mask_forward(a->mask, a->in, a->out, part, parts);
}

static int layer_init(dropblock_layer *l, uint64_t index, float keep_prob, const dropblock_tensor *like) {
    l->cfg = dropblock_config_default();
    l->cfg.keep_prob = keep_prob;
    l->cfg.seed = 2026;
    l->cfg.stream = index; /* layers sharing seed, step and shape still differ */
    if (dropblock_mask_workspace_size(like, &l->workspace_bytes) != DROPBLOCK_OK) return 0;
    l->workspace = malloc(l->workspace_bytes);
    return l->workspace != NULL;
}

/* Training forward: draws this step's mask (in parts on the pool), applies
   it, and keeps it for backward. */
static dropblock_status layer_forward(dropblock_layer *l, uint64_t step, const dropblock_tensor *x,
                                      const dropblock_tensor *y, const dropblock_executor *ex) {
    apply_task a;
    dropblock_status st = dropblock_mask_init(&l->mask, &l->cfg, step, x, l->workspace, l->workspace_bytes);
    if (st != DROPBLOCK_OK) return st;
    ex->parallel_for(ex->pool, build_part, &l->mask, ex->parts);
    a.mask = &l->mask;
    a.in = x;
    a.out = y;
    a.backward = 0;
    ex->parallel_for(ex->pool, apply_part, &a, ex->parts);
    return DROPBLOCK_OK;
}

/* Backward from the kept mask: no second build. */
static void layer_backward(const dropblock_layer *l, const dropblock_tensor *dy, const dropblock_tensor *dx,
                           const dropblock_executor *ex) {
    apply_task a;
    a.mask = &l->mask;
    a.in = dy;
    a.out = dx;
    a.backward = 1;
    ex->parallel_for(ex->pool, apply_part, &a, ex->parts);
}

/* ---- bf16 as the engine stores it ------------------------------------------- */

static uint16_t bf16_of(float f) { /* round to nearest even; the inputs here are finite */
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static float float_of(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int main(void) {
    static uint16_t x[TOTAL], y[TOTAL], y1[TOTAL], other[TOTAL], dy[TOTAL], dx[TOTAL];
    static float xf[TOTAL], yf[TOTAL];
    dropblock_tensor tx = dropblock_tensor_nchw(x, DROPBLOCK_BF16, N, C, H, W);
    dropblock_tensor ty = dropblock_tensor_nchw(y, DROPBLOCK_BF16, N, C, H, W);
    dropblock_tensor ty1 = dropblock_tensor_nchw(y1, DROPBLOCK_BF16, N, C, H, W);
    dropblock_tensor tother = dropblock_tensor_nchw(other, DROPBLOCK_BF16, N, C, H, W);
    dropblock_tensor tdy = dropblock_tensor_nchw(dy, DROPBLOCK_BF16, N, C, H, W);
    dropblock_tensor tdx = dropblock_tensor_nchw(dx, DROPBLOCK_BF16, N, C, H, W);
    dropblock_tensor txf = dropblock_tensor_nchw(xf, DROPBLOCK_F32, N, C, H, W);
    dropblock_tensor tyf = dropblock_tensor_nchw(yf, DROPBLOCK_F32, N, C, H, W);
    dropblock_layer layer0, layer1;
    dropblock_executor ex;
    dropblock_stats st;
    pool p;
    size_t i, zeros_fwd = 0, differ = 0;
    int same_zeros = 1, grads_ok = 1, rounded = 1;
    const uint64_t step = 100;
    double expect;

    for (i = 0; i < TOTAL; ++i) {
        xf[i] = 1.0f + (float)(i % 13) * 0.125f; /* exact in bf16, never 0: a 0 out means dropped */
        x[i] = bf16_of(xf[i]);
        dy[i] = bf16_of(0.5f + (float)(i % 5) * 0.25f);
    }
    if (!pool_start(&p, THREADS)) return 1;
    ex.parallel_for = pool_parallel_for;
    ex.pool = &p;
    ex.parts = 8; /* more parts than threads: the pool balances them */

    printf("a DropBlock layer on a %d-thread pool, NCHW bf16 %dx%dx%dx%d (batch 1):\n", THREADS, N, C, H, W);
    if (!layer_init(&layer0, 0, 0.9f, &tx) || !layer_init(&layer1, 1, 0.9f, &tx)) return 1;
    check(layer_forward(&layer0, step, &tx, &ty, &ex) == DROPBLOCK_OK, "forward on the pool");
    (void)dropblock_mask_stats(&layer0.mask, &st);
    check(dropblock_forward_tensor(&layer0.cfg, step, &tx, &ty1, NULL, 0, NULL, NULL) == DROPBLOCK_OK &&
              memcmp(y, y1, sizeof y) == 0,
          "8 parts on 3 threads = one call on this thread, bit for bit");

    layer_backward(&layer0, &tdy, &tdx, &ex);
    for (i = 0; i < TOTAL; ++i) {
        int dropped = y[i] == 0;
        zeros_fwd += (size_t)dropped;
        if (dropped != (dx[i] == 0)) same_zeros = 0;
        if (!dropped && dx[i] != bf16_of(float_of(dy[i]) * (float)st.scale)) grads_ok = 0;
    }
    check(same_zeros, "backward from the kept mask zeroes exactly what forward zeroed");
    check(grads_ok, "backward: dx = R(s * dy) where kept, s = the forward's scale");

    /* bf16 is the float result rounded once: the same mask on a float copy */
    check(dropblock_forward_tensor(&layer0.cfg, step, &txf, &tyf, NULL, 0, &ex, NULL) == DROPBLOCK_OK,
          "the same layer on a float copy");
    for (i = 0; i < TOTAL; ++i)
        if (y[i] != bf16_of(yf[i])) rounded = 0;
    check(rounded, "bf16 output = the float output rounded to bf16");

    expect = 1.0 - dropblock_expected_keep(st.gamma, 7, 7, H, W, 0);
    printf("  dropped %.4f of the tensor (expected %.4f), scale %.4f\n", (double)zeros_fwd / TOTAL, expect, st.scale);
    check((double)zeros_fwd / TOTAL > expect - 0.03 && (double)zeros_fwd / TOTAL < expect + 0.03,
          "dropped fraction within 0.03 of its expectation");
    check(st.kept == TOTAL - zeros_fwd && st.total == TOTAL, "stats count what forward kept");

    check(layer_forward(&layer1, step, &tx, &tother, &ex) == DROPBLOCK_OK, "a second layer, stream 1");
    for (i = 0; i < TOTAL; ++i) differ += (size_t)((other[i] == 0) != (y[i] == 0));
    check(differ > TOTAL / 20, "same seed, step and shape, other stream: another mask");

    pool_stop(&p);
    free(layer0.workspace);
    free(layer1.workspace);
    printf("%s\n", failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
