/* The worked examples of the header's THE MATH, dropblock_gamma, dropblock_expand_mask
   against a naive max-pool, and dropblock_keep_prob_linear. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "test_util.h"

/* ---- gamma --------------------------------------------------------------- */

/* THE MATH's gamma written out with the clipped block. Compared with a relative
   tolerance of 1e-15, not bit for bit: the contract fixes the formula, not the
   order of its roundings (and an exact 1 for a full block needs a careful
   order, see test_gamma_extremes). Any real formula error is far larger. */
static double ref_gamma(double keep_prob, int block_h, int block_w, int h, int w) {
    int bh = block_h < h ? block_h : h;
    int bw0 = block_w ? block_w : block_h;
    int bw = bw0 < w ? bw0 : w;
    double g = (1.0 - keep_prob) / ((double)bh * bw) * ((double)h * w) / ((double)(h - bh + 1) * (w - bw + 1));
    return g > 1.0 ? 1.0 : g;
}

/* Relative tolerance 1e-15: a few ulp (ulp ~ 1.1e-16 relative). */
static void assert_rel(double got, double want) {
    assert_true(fabs(got - want) <= 1e-15 * fabs(want));
}

static void test_gamma_worked(void **state) {
    (void)state;
    /* the worked values THE MATH states, within 1e-15 relative */
    assert_rel(dropblock_gamma(0.9, 7, 7, 14, 14), 0.00625);
    assert_rel(dropblock_gamma(0.9, 3, 3, 5, 5), 0.1 / 9.0 * 25.0 / 9.0);
    /* block_w 0 means block_h */
    assert_true(dropblock_gamma(0.9, 7, 0, 14, 14) == dropblock_gamma(0.9, 7, 7, 14, 14));
}

static void test_gamma_hand(void **state) {
    /* hand-clipped: each row states the clipped block and the grid */
    static const struct { double kp; int bh, bw, h, w; double want; } rows[] = {
        {0.8, 3, 5, 10, 12, 0.2 / 15.0 * 120.0 / (8.0 * 8.0)},   /* rectangle       */
        {0.8, 5, 3, 12, 10, 0.2 / 15.0 * 120.0 / (8.0 * 8.0)},   /* transposed      */
        {0.5, 20, 3, 7, 9, 0.5 / 21.0 * 63.0 / (1.0 * 7.0)},     /* bh clipped to 7 */
        {0.75, 2, 50, 6, 10, 0.25 / 20.0 * 60.0 / (5.0 * 1.0)},  /* bw clipped to 10 */
        {0.6, 4, 0, 9, 13, 0.4 / 16.0 * 117.0 / (6.0 * 10.0)},   /* block_w 0       */
        {0.9, 1, 1, 1, 1, 0.1},                                   /* 1x1 map         */
        {0.3, 1, 1, 17, 3, 0.7},                                  /* plain dropout   */
        {0.3, 40, 40, 5, 7, 0.7},                                 /* whole map       */
        {0.0, 3, 3, 5, 5, 25.0 / 81.0},                           /* kp 0 stays < 1  */
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof rows / sizeof rows[0]; ++i) {
        double got = dropblock_gamma(rows[i].kp, rows[i].bh, rows[i].bw, rows[i].h, rows[i].w);
        assert_rel(got, ref_gamma(rows[i].kp, rows[i].bh, rows[i].bw, rows[i].h, rows[i].w));
        assert_rel(got, rows[i].want);
    }
}

/* gamma must be exactly 1 (not 1 - ulp) when keep_prob is 0 and the block
   is 1x1 or covers the map: only then is t = 2^32 and every seed certain,
   as THE MATH promises all zeros. Every map up to 40 x 40. */
static void test_gamma_extremes(void **state) {
    int h, w;
    (void)state;
    for (h = 1; h <= 40; ++h)
        for (w = 1; w <= 40; ++w) {
            /* keep_prob 1: exactly +0, whatever the block */
            double g = dropblock_gamma(1.0, 3, 2, h, w);
            assert_true(g == 0.0 && !signbit(g));
            /* keep_prob 0 with block 1x1 or block >= map: every seed fires */
            assert_true(dropblock_gamma(0.0, 1, 1, h, w) == 1.0);
            g = dropblock_gamma(0.0, h, w, h, w);
            if (g != 1.0) print_error("gamma(0, %d, %d, %d, %d) = %.17g, want 1\n", h, w, h, w, g);
            assert_true(g == 1.0);
            assert_true(dropblock_gamma(0.0, 1000, 1000, h, w) == 1.0);
        }
}

static void test_gamma_invalid(void **state) {
    (void)state;
    assert_true(isnan(dropblock_gamma(NAN, 3, 3, 5, 5)));
    assert_true(isnan(dropblock_gamma(-0.1, 3, 3, 5, 5)));
    assert_true(isnan(dropblock_gamma(1.1, 3, 3, 5, 5)));
    assert_true(isnan(dropblock_gamma(INFINITY, 3, 3, 5, 5)));
    assert_true(isnan(dropblock_gamma(-INFINITY, 3, 3, 5, 5)));
    assert_true(isnan(dropblock_gamma(0.9, 0, 3, 5, 5)));
    assert_true(isnan(dropblock_gamma(0.9, -1, 3, 5, 5)));
    assert_true(isnan(dropblock_gamma(0.9, 3, -1, 5, 5)));
    assert_true(isnan(dropblock_gamma(0.9, 3, 3, 0, 5)));
    assert_true(isnan(dropblock_gamma(0.9, 3, 3, 5, 0)));
    assert_true(isnan(dropblock_gamma(0.9, 3, 3, -5, 5)));
    assert_true(isnan(dropblock_gamma(0.9, 3, 3, 5, -5)));
    /* the edges of [0, 1] are valid */
    assert_false(isnan(dropblock_gamma(0.0, 3, 3, 5, 5)));
    assert_false(isnan(dropblock_gamma(1.0, 3, 3, 5, 5)));
}

/* ---- expand_mask --------------------------------------------------------- */

/* THE MATH's block rule literally: (i, j) is dropped iff some seed (si, sj) has
   si - floor((bh-1)/2) <= i <= si + floor(bh/2), and the same for j. */
static void naive_expand(const uint8_t *seeds, int h, int w, int block_h, int block_w, uint8_t *keep) {
    int bh = block_h < h ? block_h : h;
    int bw0 = block_w ? block_w : block_h;
    int bw = bw0 < w ? bw0 : w;
    int i, j, si, sj;
    for (i = 0; i < h; ++i)
        for (j = 0; j < w; ++j) {
            int kept = 1;
            for (si = 0; si < h && kept; ++si)
                for (sj = 0; sj < w && kept; ++sj)
                    if (seeds[si * w + sj] && si - (bh - 1) / 2 <= i && i <= si + bh / 2 &&
                        sj - (bw - 1) / 2 <= j && j <= sj + bw / 2)
                        kept = 0;
            keep[i * w + j] = (uint8_t)kept;
        }
}

/* Rows of a 5x5 keep mask as in THE MATH's worked example, e.g. "00111". */
static void rows_to_bytes(const char *const rows[5], uint8_t out[25]) {
    int i, j;
    for (i = 0; i < 5; ++i)
        for (j = 0; j < 5; ++j) out[i * 5 + j] = (uint8_t)(rows[i][j] - '0');
}

static void check_worked_mask(int block, const char *const rows[5]) {
    uint8_t seeds[25] = {0}, keep[25], want[25], naive[25];
    seeds[0 * 5 + 0] = 1;
    seeds[1 * 5 + 3] = 1;
    rows_to_bytes(rows, want);
    memset(keep, 0xA5, sizeof keep);
    assert_int_equal(dropblock_expand_mask(seeds, 5, 5, block, block, keep), DROPBLOCK_OK);
    assert_memory_equal(keep, want, 25);
    /* block_w 0 is the same square block */
    memset(keep, 0xA5, sizeof keep);
    assert_int_equal(dropblock_expand_mask(seeds, 5, 5, block, 0, keep), DROPBLOCK_OK);
    assert_memory_equal(keep, want, 25);
    /* in place */
    memcpy(keep, seeds, sizeof keep);
    assert_int_equal(dropblock_expand_mask(keep, 5, 5, block, block, keep), DROPBLOCK_OK);
    assert_memory_equal(keep, want, 25);
    /* and the naive reference agrees with the spec's picture */
    naive_expand(seeds, 5, 5, block, block, naive);
    assert_memory_equal(naive, want, 25);
}

static void test_expand_worked_2x2(void **state) {
    static const char *const rows[5] = {"00111", "00100", "11100", "11111", "11111"};
    (void)state;
    check_worked_mask(2, rows);
}

static void test_expand_worked_3x3(void **state) {
    static const char *const rows[5] = {"00000", "00000", "11000", "11111", "11111"};
    (void)state;
    check_worked_mask(3, rows);
}

/* One random map of h x w at the given seed density, both out of place and
   in place, against the naive max-pool. Seeds are random nonzero bytes:
   any nonzero byte is a seed. */
static void check_random_map(tu_prng *r, int h, int w, int block_h, int block_w, double density) {
    size_t n = (size_t)h * (size_t)w, k;
    uint8_t *seeds = (uint8_t *)malloc(n), *keep = (uint8_t *)malloc(n), *want = (uint8_t *)malloc(n);
    assert_non_null(seeds);
    assert_non_null(keep);
    assert_non_null(want);
    for (k = 0; k < n; ++k) seeds[k] = tu_prng_unit(r) < density ? (uint8_t)(1 + tu_prng_below(r, 255)) : 0;
    naive_expand(seeds, h, w, block_h, block_w, want);
    memset(keep, 0xA5, n);
    assert_int_equal(dropblock_expand_mask(seeds, h, w, block_h, block_w, keep), DROPBLOCK_OK);
    assert_memory_equal(keep, want, n);
    memcpy(keep, seeds, n);
    assert_int_equal(dropblock_expand_mask(keep, h, w, block_h, block_w, keep), DROPBLOCK_OK);
    assert_memory_equal(keep, want, n);
    free(seeds);
    free(keep);
    free(want);
}

static void test_expand_random(void **state) {
    static const int sizes[][2] = {{1, 1}, {1, 7}, {7, 1}, {2, 2}, {2, 3}, {5, 5},  {6, 4},
                                   {8, 8}, {9, 13}, {16, 3}, {17, 20}, {24, 31}, {40, 33}};
    static const int bhs[] = {1, 2, 3, 4, 5, 8, 45};
    static const int bws[] = {0, 1, 2, 3, 6, 40};
    static const double densities[] = {0.02, 0.25, 0.9};
    tu_prng r;
    size_t s, a, b, d;
    (void)state;
    tu_prng_seed(&r, 12345);
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; ++s)
        for (a = 0; a < sizeof bhs / sizeof bhs[0]; ++a)
            for (b = 0; b < sizeof bws / sizeof bws[0]; ++b)
                for (d = 0; d < sizeof densities / sizeof densities[0]; ++d)
                    check_random_map(&r, sizes[s][0], sizes[s][1], bhs[a], bws[b], densities[d]);
}

/* Random sizes, blocks up to past the map, sparse to dense. */
static void test_expand_random_shapes(void **state) {
    tu_prng r;
    int trial;
    (void)state;
    tu_prng_seed(&r, 777);
    for (trial = 0; trial < 300; ++trial) {
        int h = 1 + (int)tu_prng_below(&r, 40), w = 1 + (int)tu_prng_below(&r, 33);
        int bh = 1 + (int)tu_prng_below(&r, 45), bw = (int)tu_prng_below(&r, 38);
        check_random_map(&r, h, w, bh, bw, tu_prng_unit(&r) * 0.5);
    }
}

/* No seed keeps everything; a seed everywhere drops everything. */
static void test_expand_empty_and_full(void **state) {
    uint8_t seeds[6 * 7], keep[6 * 7];
    (void)state;
    memset(seeds, 0, sizeof seeds);
    assert_int_equal(dropblock_expand_mask(seeds, 6, 7, 3, 2, keep), DROPBLOCK_OK);
    assert_true(tu_all_bytes(keep, sizeof keep, 1));
    memset(seeds, 1, sizeof seeds);
    assert_int_equal(dropblock_expand_mask(seeds, 6, 7, 3, 2, keep), DROPBLOCK_OK);
    assert_true(tu_all_bytes(keep, sizeof keep, 0));
}

/* ---- keep_prob_linear ---------------------------------------------------- */

static void test_keep_prob_linear(void **state) {
    uint64_t s;
    float prev = 2.0f;
    (void)state;
    assert_true(dropblock_keep_prob_linear(0.9f, 0, 100) == 1.0f);
    assert_true(dropblock_keep_prob_linear(0.9f, 100, 100) == 0.9f);
    assert_true(dropblock_keep_prob_linear(0.9f, 101, 100) == 0.9f);
    assert_true(dropblock_keep_prob_linear(0.9f, UINT64_MAX, 100) == 0.9f);
    /* midpoints exactly representable: 1 - 1/2 * (1 - 0.5) = 0.75 */
    assert_true(dropblock_keep_prob_linear(0.5f, 50, 100) == 0.75f);
    assert_true(dropblock_keep_prob_linear(0.0f, 1, 4) == 0.75f);
    assert_true(dropblock_keep_prob_linear(0.0f, 3, 4) == 0.25f);
    /* ramp_steps 0: final at once */
    assert_true(dropblock_keep_prob_linear(0.7f, 0, 0) == 0.7f);
    assert_true(dropblock_keep_prob_linear(0.7f, 5, 0) == 0.7f);
    /* monotone non-increasing, within [final, 1], within an ulp of the line */
    for (s = 0; s <= 1100; ++s) {
        float v = dropblock_keep_prob_linear(0.1f, s, 1000);
        double line = s >= 1000 ? (double)0.1f : 1.0 - (double)s / 1000.0 * (1.0 - (double)0.1f);
        assert_true(v <= prev);
        assert_true(v >= 0.1f && v <= 1.0f);
        assert_true(fabs((double)v - line) <= 0x1p-24);
        prev = v;
    }
}

/* ---- THE MATH's examples through dropblock_forward --------------------- */

/* Negative values (so x*0 would give -0), NaN and Inf among finite ones. */
static void fill_nasty(float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) x[i] = (i % 7 == 3) ? NAN : (i % 11 == 5) ? -INFINITY : -1.5f - (float)(i % 13);
}

/* Exactly representable positive values. */
static void fill_positive(float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) x[i] = 0.25f + (float)(i % 97);
}

/* keep_prob 0 with block 1x1, block == map and block > map: all zeros
   (+0.0f, no NaN) for every scale, layout and flag combination, forward and
   backward, and a mask of all zeros. */
static void test_keep0_all_zero(void **state) {
    static const int blocks[][2] = {{1, 1}, {6, 5}, {9, 0}, {6, 50}};
    const dropblock_shape shape = {2, 6, 5, 3};
    const size_t total = tu_count(shape);
    float *x = (float *)malloc(total * sizeof(float)), *y = (float *)malloc(total * sizeof(float));
    float *zero = (float *)calloc(total, sizeof(float));
    uint8_t *keep = (uint8_t *)malloc(total);
    size_t b;
    int scale, layout;
    unsigned flags;
    (void)state;
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(zero);
    assert_non_null(keep);
    fill_nasty(x, total);
    for (b = 0; b < sizeof blocks / sizeof blocks[0]; ++b)
        for (scale = 0; scale <= (int)DROPBLOCK_SCALE_NONE; ++scale)
            for (layout = 0; layout <= (int)DROPBLOCK_NCHW; ++layout)
                for (flags = 0; flags < 8; ++flags) {
                    dropblock_config cfg;
                    memset(&cfg, 0, sizeof cfg);
                    cfg.keep_prob = 0.0f;
                    cfg.block_h = blocks[b][0];
                    cfg.block_w = blocks[b][1];
                    cfg.flags = flags;
                    cfg.scale = (dropblock_scale)scale;
                    cfg.layout = (dropblock_layout)layout;
                    cfg.seed = 99;
                    memset(y, 0xA5, total * sizeof(float));
                    memset(keep, 0xA5, total);
                    assert_int_equal(dropblock_forward(&cfg, shape, 3, x, y, keep), DROPBLOCK_OK);
                    assert_memory_equal(y, zero, total * sizeof(float));
                    assert_true(tu_all_bytes(keep, total, 0));
                    memset(y, 0xA5, total * sizeof(float));
                    assert_int_equal(dropblock_backward(&cfg, shape, 3, x, y), DROPBLOCK_OK);
                    assert_memory_equal(y, zero, total * sizeof(float));
                }
    free(x);
    free(y);
    free(zero);
    free(keep);
}

/* keep_prob 0 with a 7x7 block on a 7x7 map: each (n, c) map has one seed
   position, draw number m = n*C + c of stream (seed 0, step 869431). Draw
   1849 (n 28, c 57 with C = 64) has U = 2^32 - 1, found by searching with
   the independent generator of test_util.h and re-checked here: it drops
   only if t = 2^32, i.e. only if gamma is exactly 1. THE MATH says all zeros. */
static void test_keep0_block_eq_map_certain(void **state) {
    const dropblock_shape shape = {29, 7, 7, 64};
    const uint64_t step = 869431;
    const size_t total = tu_count(shape);
    float *x = (float *)malloc(total * sizeof(float)), *y = (float *)malloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)malloc(total);
    dropblock_config cfg;
    size_t kept = 0, e;
    (void)state;
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(keep);
    assert_false(tu_draw(tu_key(0, step), 1849, UINT64_C(0xFFFFFFFF)));
    fill_positive(x, total);
    memset(&cfg, 0, sizeof cfg);
    cfg.keep_prob = 0.0f;
    cfg.block_h = 7;
    assert_int_equal(dropblock_forward(&cfg, shape, step, x, y, keep), DROPBLOCK_OK);
    for (e = 0; e < total; ++e) kept += keep[e];
    assert_int_equal(kept, 0);
    free(x);
    free(y);
    free(keep);
}

/* P(seed) the library realises for gamma: floor(gamma * 2^32) / 2^32. */
static double realised(double gamma) {
    return gamma >= 1.0 ? 1.0 : floor(gamma * 4294967296.0) / 4294967296.0;
}

/* |observed - p| within 6 sigma of a binomial mean over `trials`
   independent draws, sigma = sqrt(p (1 - p) / trials). */
static void assert_binomial(size_t hits, size_t trials, double p) {
    double sigma = sqrt(p * (1.0 - p) / (double)trials);
    double observed = (double)hits / (double)trials;
    assert_true(fabs(observed - p) <= 6.0 * sigma);
}

/* Block 1x1 is plain dropout: every element is its own seed position, so
   the dropped count is binomial(T, p) with p the realised gamma = 1 - kp.
   Kept values are x * T/Kept (batch scale), dropped ones +0. Valid and
   anywhere placement coincide for a 1x1 block, so the masks are identical. */
static void test_block1_is_dropout(void **state) {
    static const float kps[] = {0.9f, 0.5f, 0.25f};
    const dropblock_shape shape = {4, 32, 32, 32};
    const size_t total = tu_count(shape);
    float *x = (float *)malloc(total * sizeof(float)), *y = (float *)malloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)malloc(total), *keep2 = (uint8_t *)malloc(total);
    size_t k, i;
    (void)state;
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(keep);
    assert_non_null(keep2);
    fill_positive(x, total);
    for (k = 0; k < sizeof kps / sizeof kps[0]; ++k) {
        dropblock_config cfg;
        size_t kept = 0;
        float s;
        memset(&cfg, 0, sizeof cfg);
        cfg.keep_prob = kps[k];
        cfg.block_h = 1;
        cfg.seed = 2024;
        assert_int_equal(dropblock_forward(&cfg, shape, 11, x, y, keep), DROPBLOCK_OK);
        for (i = 0; i < total; ++i) kept += keep[i];
        assert_binomial(total - kept, total, realised(1.0 - (double)kps[k]));
        s = (float)((double)total / (double)kept);
        for (i = 0; i < total; ++i) {
            if (keep[i]) assert_true(y[i] == x[i] * s);
            else assert_true(y[i] == 0.0f && !signbit(y[i]));
        }
        cfg.flags = DROPBLOCK_SEED_ANYWHERE;
        assert_int_equal(dropblock_forward(&cfg, shape, 11, x, y, keep2), DROPBLOCK_OK);
        assert_memory_equal(keep, keep2, total);
    }
    free(x);
    free(y);
    free(keep);
    free(keep2);
}

/* keep mask byte of (n, i, j, c) in either layout */
static uint8_t mask_at(const uint8_t *keep, dropblock_shape s, dropblock_layout layout, int n, int i, int j, int c) {
    size_t e = layout == DROPBLOCK_NHWC ? (((size_t)n * s.h + i) * s.w + j) * s.c + c
                                        : (((size_t)n * s.c + c) * s.h + i) * s.w + j;
    return keep[e];
}

/* Block >= map is spatial dropout: one valid seed position per (n, c) map
   whose block is the whole map, so each map is all kept or all dropped, and
   the dropped maps are binomial(maps, 1 - kp). */
static void test_block_ge_map_is_spatial_dropout(void **state) {
    static const int blocks[][2] = {{8, 0}, {100, 0}, {8, 50}, {30, 8}};
    const dropblock_shape shape = {64, 8, 8, 64};
    const size_t total = tu_count(shape), maps = (size_t)shape.n * shape.c;
    float *x = (float *)malloc(total * sizeof(float)), *y = (float *)malloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)malloc(total);
    size_t b;
    int layout;
    (void)state;
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(keep);
    fill_positive(x, total);
    for (b = 0; b < sizeof blocks / sizeof blocks[0]; ++b)
        for (layout = 0; layout <= (int)DROPBLOCK_NCHW; ++layout) {
            dropblock_config cfg;
            size_t dropped = 0, kept = 0, e;
            int n, c, i, j;
            memset(&cfg, 0, sizeof cfg);
            cfg.keep_prob = 0.7f;
            cfg.block_h = blocks[b][0];
            cfg.block_w = blocks[b][1];
            cfg.layout = (dropblock_layout)layout;
            cfg.seed = 5 + b;
            assert_int_equal(dropblock_forward(&cfg, shape, 1, x, y, keep), DROPBLOCK_OK);
            for (n = 0; n < shape.n; ++n)
                for (c = 0; c < shape.c; ++c) {
                    uint8_t first = mask_at(keep, shape, cfg.layout, n, 0, 0, c);
                    for (i = 0; i < shape.h; ++i)
                        for (j = 0; j < shape.w; ++j)
                            assert_int_equal(mask_at(keep, shape, cfg.layout, n, i, j, c), first);
                    dropped += first == 0;
                }
            assert_binomial(dropped, maps, realised(ref_gamma(0.7f, cfg.block_h, cfg.block_w, shape.h, shape.w)));
            for (e = 0; e < total; ++e) kept += keep[e];
            assert_int_equal(kept, (maps - dropped) * (size_t)shape.h * shape.w);
        }
    free(x);
    free(y);
    free(keep);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gamma_worked),
        cmocka_unit_test(test_gamma_hand),
        cmocka_unit_test(test_gamma_extremes),
        cmocka_unit_test(test_gamma_invalid),
        cmocka_unit_test(test_expand_worked_2x2),
        cmocka_unit_test(test_expand_worked_3x3),
        cmocka_unit_test(test_expand_random),
        cmocka_unit_test(test_expand_random_shapes),
        cmocka_unit_test(test_expand_empty_and_full),
        cmocka_unit_test(test_keep_prob_linear),
        cmocka_unit_test(test_keep0_all_zero),
        cmocka_unit_test(test_keep0_block_eq_map_certain),
        cmocka_unit_test(test_block1_is_dropout),
        cmocka_unit_test(test_block_ge_map_is_spatial_dropout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
