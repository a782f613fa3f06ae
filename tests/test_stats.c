/* The dropped fraction of dropblock_forward against its exact expectation.

   With p = floor(gamma * 2^32) / 2^32 the seed probability and cover(x)
   the number of allowed seed positions whose block covers pixel x, a pixel
   survives iff none of those seeds fires, so
       E[dropped fraction] = mean over pixels of 1 - (1 - p)^cover(x)
   (computed by reference.h's plain loops, and by the library's
   dropblock_expected_keep, which must agree). Under the default flags every
   (n, c) map is drawn independently, so the per-map dropped fractions are
   i.i.d.: their mean over M maps has standard deviation sigma / sqrt(M),
   estimated with the sample standard deviation of the per-map fractions.
   The tolerance is 6 such sigmas (a false failure has probability ~ 2e-9
   per check for a normal mean; M is in the thousands). */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "reference.h"
#include "test_util.h"

/* expected: reference.h's E[dropped fraction]; library: the same from
   dropblock_expected_keep at the seed probability the forward used. */
typedef struct stats { double mean, sd_of_mean, expected, library; size_t all_or_nothing, maps; } stats;

/* Runs `steps` forward calls on n x h x w x c and collects per-map dropped
   fractions (NCHW, so each map is one contiguous plane). */
static stats measure(float keep_prob, int bh, int bw, unsigned flags, int h, int w, int steps) {
    dropblock_shape s = {25, h, w, 40};
    dropblock_config cfg = tu_config(keep_prob, 0, bh, bw, flags, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NCHW, 0xD20B);
    size_t plane = (size_t)h * (size_t)w, maps = (size_t)s.n * (size_t)s.c, total = maps * plane, m, e;
    float *x = (float *)calloc(total, sizeof(float)), *y = (float *)malloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)malloc(total);
    double sum = 0.0, sum2 = 0.0, var;
    stats st;
    ref_geom g;
    int step;
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(keep);
    st.all_or_nothing = 0;
    for (step = 0; step < steps; ++step) {
        assert_int_equal(dropblock_forward(&cfg, s, (uint64_t)step, x, y, keep), DROPBLOCK_OK);
        for (m = 0; m < maps; ++m) {
            size_t dropped = 0;
            double f;
            for (e = 0; e < plane; ++e) dropped += !keep[m * plane + e];
            f = (double)dropped / (double)plane;
            sum += f;
            sum2 += f * f;
            st.all_or_nothing += dropped == 0 || dropped == plane;
        }
    }
    st.maps = maps * (size_t)steps;
    st.mean = sum / (double)st.maps;
    var = (sum2 - sum * st.mean) / (double)(st.maps - 1);
    st.sd_of_mean = sqrt(var > 0.0 ? var : 0.0) / sqrt((double)st.maps);
    g = ref_setup(&cfg, ref_lift(s), 0);
    st.expected = 1.0 - ref_expected_keep(&g);
    st.library = 1.0 - dropblock_expected_keep((double)g.t / 4294967296.0, bh, bw, h, w, flags);
    free(x);
    free(y);
    free(keep);
    return st;
}

static void expect_mean(const stats *st, const char *what, int bh, int bw, unsigned flags, int h, int w) {
    if (!(fabs(st->mean - st->expected) <= 6.0 * st->sd_of_mean))
        print_error("%s: block %dx%d flags %u map %dx%d: dropped %.6f expected %.6f (6 sigma = %.6f)\n", what, bh,
                    bw, flags, h, w, st->mean, st->expected, 6.0 * st->sd_of_mean);
    assert_true(st->sd_of_mean > 0.0);
    if (!(fabs(st->library - st->expected) <= 1e-12))
        print_error("%s: block %dx%d flags %u map %dx%d: dropblock_expected_keep gives %.15f, reference %.15f\n",
                    what, bh, bw, flags, h, w, st->library, st->expected);
    assert_true(fabs(st->library - st->expected) <= 1e-12);
    assert_true(fabs(st->mean - st->expected) <= 6.0 * st->sd_of_mean);
}

static void test_dropped_fraction(void **state) {
    static const int blocks[][2] = {{1, 1}, {3, 3}, {7, 7}, {2, 2}, {4, 4}, {3, 5}};
    static const int maps[][2] = {{14, 14}, {9, 13}};
    static const float keeps[] = {0.9f, 0.7f};
    size_t b, m, k;
    unsigned placement;
    (void)state;
    for (b = 0; b < sizeof blocks / sizeof blocks[0]; ++b)
        for (m = 0; m < 2; ++m)
            for (k = 0; k < 2; ++k)
                for (placement = 0; placement <= DROPBLOCK_SEED_ANYWHERE; placement += DROPBLOCK_SEED_ANYWHERE) {
                    stats st = measure(keeps[k], blocks[b][0], blocks[b][1], placement, maps[m][0], maps[m][1], 8);
                    expect_mean(&st, "dropped fraction", blocks[b][0], blocks[b][1], placement, maps[m][0],
                                maps[m][1]);
                    /* valid placement: by the union bound over covering
                       seeds the expectation is at most p * (seed positions *
                       block area) / map = 1 - keep_prob (overlapping blocks
                       under-drop a little); anywhere has more positions */
                    if (!placement) assert_true(st.library <= 1.0 - (double)keeps[k]);
                }
}

/* Block 1x1 is plain dropout: every position seeds with gamma = 1 -
   keep_prob (p to 2^-32) and drops exactly itself. */
static void test_block_one_is_dropout(void **state) {
    static const float keeps[] = {0.5f, 0.9f, 0.25f};
    size_t k;
    (void)state;
    for (k = 0; k < 3; ++k) {
        stats st = measure(keeps[k], 1, 1, 0, 9, 13, 4);
        assert_true(fabs(dropblock_gamma(keeps[k], 1, 1, 9, 13) - (1.0 - (double)keeps[k])) < 1e-12);
        assert_true(fabs(st.library - (1.0 - (double)keeps[k])) < 1e-9);
        expect_mean(&st, "dropout", 1, 1, 0, 9, 13);
    }
}

/* A block as large as the map is spatial dropout: the single valid seed
   position fires with gamma = 1 - keep_prob, so every map is all kept or all
   dropped and the fraction of dropped maps is 1 - keep_prob. */
static void test_block_map_is_spatial_dropout(void **state) {
    static const int blocks[][2] = {{14, 14}, {20, 30}};
    size_t b;
    (void)state;
    for (b = 0; b < 2; ++b) {
        stats st = measure(0.8f, blocks[b][0], blocks[b][1], 0, 14, 14, 3);
        assert_int_equal(st.all_or_nothing, st.maps);
        assert_true(fabs(dropblock_gamma(0.8f, blocks[b][0], blocks[b][1], 14, 14) - (1.0 - (double)0.8f)) < 1e-12);
        assert_true(fabs(st.library - (1.0 - (double)0.8f)) < 1e-9);
        expect_mean(&st, "spatial dropout", blocks[b][0], blocks[b][1], 0, 14, 14);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropped_fraction),
        cmocka_unit_test(test_block_one_is_dropout),
        cmocka_unit_test(test_block_map_is_spatial_dropout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
