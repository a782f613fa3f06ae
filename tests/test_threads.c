/* Thread-split batches: a batch cut into sample ranges, each range
   run on its own pthread with its own workspace, must give output and mask
   bit-identical to one dropblock_forward_ws / dropblock_backward_ws call.
   SCALE_BATCH runs two phases (dropblock_count_kept on every range, sum,
   then dropblock_forward_range / dropblock_backward_range with the sum);
   the other scales run one phase and must ignore total_kept. */
#define _POSIX_C_SOURCE 200809L
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reference.h"
#include "test_util.h"

#define MAX_THREADS 8

static size_t ws_for(dropblock_shape s, int samples) {
    size_t bytes = 0;
    s.n = samples;
    assert_int_equal(dropblock_workspace_size(s, &bytes), DROPBLOCK_OK);
    return bytes;
}

/* One thread's share of a logical call: samples [n0, n1). */
typedef struct job {
    const dropblock_config *cfg;
    const float *x;
    float *y;
    uint8_t *keep;
    void *ws;
    size_t ws_bytes;
    uint64_t step, kept, total_kept;
    dropblock_shape shape;
    int n0, n1, grad;
    dropblock_status st;
} job;

static void *count_phase(void *arg) {
    job *j = (job *)arg;
    j->st = dropblock_count_kept(j->cfg, j->shape, j->step, j->n0, j->n1, j->ws, j->ws_bytes, &j->kept);
    return NULL;
}

static void *apply_phase(void *arg) {
    job *j = (job *)arg;
    j->st = j->grad ? dropblock_backward_range(j->cfg, j->shape, j->step, j->n0, j->n1, j->total_kept, j->x, j->y,
                                               j->ws, j->ws_bytes)
                    : dropblock_forward_range(j->cfg, j->shape, j->step, j->n0, j->n1, j->total_kept, j->x, j->y,
                                              j->keep, j->ws, j->ws_bytes);
    return NULL;
}

/* Runs fn on every job, one pthread each, and checks every status. */
static void run_phase(job *jobs, int nt, void *(*fn)(void *)) {
    pthread_t th[MAX_THREADS];
    int t;
    for (t = 0; t < nt; ++t) assert_int_equal(pthread_create(&th[t], NULL, fn, &jobs[t]), 0);
    for (t = 0; t < nt; ++t) assert_int_equal(pthread_join(th[t], NULL), 0);
    for (t = 0; t < nt; ++t) assert_int_equal(jobs[t].st, DROPBLOCK_OK);
}

/* The logical call split at cuts[0] = 0 < cuts[1] < ... < cuts[nt] = n. */
static void run_split(const dropblock_config *cfg, dropblock_shape s, uint64_t step, const int *cuts, int nt,
                      int grad, const float *x, float *y, uint8_t *keep) {
    job jobs[MAX_THREADS];
    uint64_t total_kept = 0;
    int t;
    assert_true(nt >= 1 && nt <= MAX_THREADS && cuts[0] == 0 && cuts[nt] == s.n);
    /* zeroed at once: a memset of jobs[t] in the loop makes the analyzer
       forget the workspaces of the earlier jobs and report them leaked */
    memset(jobs, 0, sizeof jobs);
    for (t = 0; t < nt; ++t) {
        job *j = &jobs[t];
        j->cfg = cfg;
        j->shape = s;
        j->step = step;
        j->n0 = cuts[t];
        j->n1 = cuts[t + 1];
        j->grad = grad;
        j->x = x;
        j->y = y;
        j->keep = keep;
        j->ws_bytes = ws_for(s, j->n1 - j->n0);
        j->ws = tu_xmalloc(j->ws_bytes);
    }
    if (cfg->scale == DROPBLOCK_SCALE_BATCH) {
        run_phase(jobs, nt, count_phase);
        for (t = 0; t < nt; ++t) total_kept += jobs[t].kept;
    } else {
        total_kept = UINT64_MAX; /* documented as ignored: any value must do */
    }
    for (t = 0; t < nt; ++t) jobs[t].total_kept = total_kept;
    run_phase(jobs, nt, apply_phase);
    for (t = 0; t < nt; ++t) free(jobs[t].ws);
}

/* ---- the split matrix ---------------------------------------------------- */

typedef struct split { int nt, cuts[MAX_THREADS + 1]; } split;

/* 1, 2, 3 and 5 threads, uneven, one sample per thread where n allows, and
   one random split. */
static int make_splits(int n, ref_rng *r, split *out) {
    int k = 0, t;
    out[k].nt = 1; out[k].cuts[0] = 0; out[k].cuts[1] = n; ++k;
    out[k].nt = 2; out[k].cuts[0] = 0; out[k].cuts[1] = 1; out[k].cuts[2] = n; ++k;
    out[k].nt = 3; out[k].cuts[0] = 0; out[k].cuts[1] = n - 3; out[k].cuts[2] = n - 2; out[k].cuts[3] = n; ++k;
    out[k].nt = 5;
    for (t = 0; t <= 5; ++t) out[k].cuts[t] = t < 5 ? t : n; /* one sample each, the rest on the last */
    ++k;
    /* random: each gap between samples is a cut with probability 1/2 */
    out[k].nt = 0;
    out[k].cuts[0] = 0;
    for (t = 1; t < n && out[k].nt < MAX_THREADS - 1; ++t)
        if (ref_rng_int(r, 0, 1)) out[k].cuts[++out[k].nt] = t;
    out[k].cuts[++out[k].nt] = n;
    return k + 1;
}

typedef struct shape_case { dropblock_shape s; float keep_prob; int bh, bw; } shape_case;

/* every combination of the sharing and placement flags, then the options
   that change gamma and the fill */
static const unsigned flag_sets[] = {
    0,
    DROPBLOCK_SHARE_CHANNELS,
    DROPBLOCK_SHARE_BATCH,
    DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SHARE_BATCH,
    DROPBLOCK_SEED_ANYWHERE,
    DROPBLOCK_SEED_ANYWHERE | DROPBLOCK_SHARE_CHANNELS,
    DROPBLOCK_SEED_ANYWHERE | DROPBLOCK_SHARE_BATCH,
    DROPBLOCK_SEED_ANYWHERE | DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SHARE_BATCH,
    DROPBLOCK_SEED_ANYWHERE | DROPBLOCK_EXACT_RATE,
    DROPBLOCK_FILL_NOISE | DROPBLOCK_SHARE_BATCH,
    DROPBLOCK_EXACT_RATE | DROPBLOCK_FILL_NOISE | DROPBLOCK_SEED_ANYWHERE | DROPBLOCK_SHARE_CHANNELS,
};

/* Every split of every shape, flag set, scale and layout, forward (every
   other split in place) and backward, against one whole-batch call. */
static void check_shape(const shape_case *sc) {
    dropblock_shape s = sc->s;
    size_t total = tu_count(s), ws_bytes = ws_for(s, s.n), fi;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y1 = (float *)tu_xmalloc(total * sizeof(float));
    float *yt = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *k1 = (uint8_t *)tu_xmalloc(total), *kt = (uint8_t *)tu_xmalloc(total);
    void *ws = tu_xmalloc(ws_bytes);
    split splits[8];
    ref_rng r;
    int nsplit, scale, lay, grad, si;
    r.s = (uint64_t)s.n * 977u + (uint64_t)s.c;
    ref_fill(&r, x, total);
    for (fi = 0; fi < sizeof flag_sets / sizeof flag_sets[0]; ++fi)
        for (scale = 0; scale <= (int)DROPBLOCK_SCALE_NONE; ++scale)
            for (lay = 0; lay < 2; ++lay)
                for (grad = 0; grad < 2; ++grad) {
                    dropblock_config cfg;
                    uint64_t step = fi * 8u + (uint64_t)scale;
                    memset(&cfg, 0, sizeof cfg);
                    cfg.keep_prob = sc->keep_prob;
                    cfg.block_h = sc->bh;
                    cfg.block_w = sc->bw;
                    cfg.flags = flag_sets[fi];
                    cfg.scale = (dropblock_scale)scale;
                    cfg.layout = (dropblock_layout)lay;
                    cfg.seed = 77;
                    tu_fill(y1, total * sizeof(float), TU_PATTERN);
                    tu_fill(k1, total, TU_PATTERN);
                    assert_int_equal(grad ? dropblock_backward_ws(&cfg, s, step, x, y1, ws, ws_bytes)
                                          : dropblock_forward_ws(&cfg, s, step, x, y1, k1, ws, ws_bytes),
                                     DROPBLOCK_OK);
                    nsplit = make_splits(s.n, &r, splits);
                    for (si = 0; si < nsplit; ++si) {
                        int in_place = !grad && si % 2 == 1;
                        tu_fill(kt, total, TU_PATTERN);
                        if (in_place)
                            memcpy(yt, x, total * sizeof(float));
                        else
                            tu_fill(yt, total * sizeof(float), TU_PATTERN);
                        run_split(&cfg, s, step, splits[si].cuts, splits[si].nt, grad, in_place ? yt : x, yt,
                                  grad ? NULL : kt);
                        if (memcmp(y1, yt, total * sizeof(float)) != 0 || (!grad && memcmp(k1, kt, total) != 0))
                            fail_msg("n%d %dx%d c%d flags %u scale %d layout %d %s: split %d (%d threads) differs",
                                     s.n, s.h, s.w, s.c, cfg.flags, scale, lay, grad ? "backward" : "forward", si,
                                     splits[si].nt);
                    }
                }
    free(x);
    free(y1);
    free(yt);
    free(k1);
    free(kt);
    free(ws);
}

static void test_thread_splits(void **state) {
    const shape_case cases[] = {
        {{5, 9, 8, 3}, 0.7f, 3, 0},
        {{7, 6, 11, 4}, 0.8f, 2, 4},
        {{6, 5, 5, 2}, 0.0f, 1, 0}, /* everything dropped: Kept = 0, output all zeros */
        {{5, 4, 4, 2}, 1.0f, 3, 0}, /* no seed: identity */
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) check_shape(&cases[i]);
}

/* A range touches only its own samples of y and keep_mask, and its kept
   count is the count of those samples in the whole-batch mask. */
static void test_range_touches_only_its_samples(void **state) {
    dropblock_shape s = {6, 7, 7, 3};
    size_t total = tu_count(s), sample = total / 6, full_bytes = ws_for(s, 6), range_bytes = ws_for(s, 2), k;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y1 = (float *)tu_xmalloc(total * sizeof(float));
    float *yr = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *k1 = (uint8_t *)tu_xmalloc(total), *kr = (uint8_t *)tu_xmalloc(total);
    void *ws = tu_xmalloc(full_bytes);
    dropblock_config cfg;
    uint64_t kept = 0, total_kept = 0, want = 0;
    ref_rng r;
    (void)state;
    r.s = 3;
    ref_fill(&r, x, total);
    memset(&cfg, 0, sizeof cfg);
    cfg.keep_prob = 0.6f;
    cfg.block_h = 3;
    cfg.flags = DROPBLOCK_FILL_NOISE | DROPBLOCK_EXACT_RATE;
    assert_int_equal(dropblock_forward_ws(&cfg, s, 2, x, y1, k1, ws, full_bytes), DROPBLOCK_OK);
    for (k = 0; k < total; ++k) total_kept += k1[k];
    for (k = 2 * sample; k < 4 * sample; ++k) want += k1[k];
    assert_int_equal(dropblock_count_kept(&cfg, s, 2, 2, 4, ws, range_bytes, &kept), DROPBLOCK_OK);
    assert_int_equal(kept, want);
    tu_fill(yr, total * sizeof(float), TU_PATTERN);
    tu_fill(kr, total, TU_PATTERN);
    assert_int_equal(dropblock_forward_range(&cfg, s, 2, 2, 4, total_kept, x, yr, kr, ws, range_bytes), DROPBLOCK_OK);
    assert_true(tu_all_bytes(yr, 2 * sample * sizeof(float), TU_PATTERN));
    assert_true(tu_all_bytes(kr, 2 * sample, TU_PATTERN));
    assert_true(tu_all_bytes(yr + 4 * sample, 2 * sample * sizeof(float), TU_PATTERN));
    assert_true(tu_all_bytes(kr + 4 * sample, 2 * sample, TU_PATTERN));
    assert_memory_equal(yr + 2 * sample, y1 + 2 * sample, 2 * sample * sizeof(float));
    assert_memory_equal(kr + 2 * sample, k1 + 2 * sample, 2 * sample);
    free(x);
    free(y1);
    free(yr);
    free(k1);
    free(kr);
    free(ws);
}

/* Inconsistent input to the range calls returns its code and writes
   nothing: a total_kept below the range's own count or above the element
   count (batch scale), a range outside [0, n) or empty, a workspace sized
   for fewer samples than the range. */
static void test_range_errors(void **state) {
    dropblock_shape s = {4, 6, 6, 2};
    size_t total = tu_count(s), range_bytes = ws_for(s, 2);
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)tu_xmalloc(total);
    void *ws = tu_xmalloc(ws_for(s, 4));
    dropblock_config cfg;
    uint64_t kept = 0;
    struct { int n0, n1; uint64_t total_kept; size_t ws_bytes; dropblock_status want; } bad[6];
    size_t i;
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.keep_prob = 0.5f;
    cfg.block_h = 2;
    tu_fill(x, total * sizeof(float), 0x3C);
    assert_int_equal(dropblock_count_kept(&cfg, s, 1, 1, 3, ws, range_bytes, &kept), DROPBLOCK_OK);
    assert_true(kept > 0 && kept < total);
    for (i = 0; i < 6; ++i) {
        bad[i].n0 = 1;
        bad[i].n1 = 3;
        bad[i].total_kept = kept;
        bad[i].ws_bytes = range_bytes;
        bad[i].want = DROPBLOCK_ERR_RANGE;
    }
    bad[0].total_kept = kept - 1;
    bad[0].want = DROPBLOCK_ERR_KEPT;
    bad[1].total_kept = total + 1;
    bad[1].want = DROPBLOCK_ERR_KEPT;
    bad[2].n1 = 5;
    bad[3].n0 = 3;
    bad[4].n0 = -1;
    bad[5].ws_bytes = ws_for(s, 1);
    bad[5].want = DROPBLOCK_ERR_WORKSPACE;
    for (i = 0; i < 6; ++i) {
        uint64_t out = 99;
        tu_fill(y, total * sizeof(float), TU_PATTERN);
        tu_fill(keep, total, TU_PATTERN);
        assert_int_equal(dropblock_forward_range(&cfg, s, 1, bad[i].n0, bad[i].n1, bad[i].total_kept, x, y, keep, ws,
                                                 bad[i].ws_bytes),
                         bad[i].want);
        assert_int_equal(dropblock_backward_range(&cfg, s, 1, bad[i].n0, bad[i].n1, bad[i].total_kept, x, y, ws,
                                                  bad[i].ws_bytes),
                         bad[i].want);
        assert_true(tu_all_bytes(y, total * sizeof(float), TU_PATTERN));
        assert_true(tu_all_bytes(keep, total, TU_PATTERN));
        assert_true(tu_all_bytes(x, total * sizeof(float), 0x3C));
        if (bad[i].want != DROPBLOCK_ERR_KEPT) {
            assert_int_equal(dropblock_count_kept(&cfg, s, 1, bad[i].n0, bad[i].n1, ws, bad[i].ws_bytes, &out),
                             bad[i].want);
            assert_int_equal(out, 99);
        }
    }
    free(x);
    free(y);
    free(keep);
    free(ws);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_splits),
        cmocka_unit_test(test_range_touches_only_its_samples),
        cmocka_unit_test(test_range_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
