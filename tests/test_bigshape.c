/* Big shapes.

   1. Shapes whose element count overflows size_t, or whose byte size
      (count * sizeof(float)) does, are rejected with DROPBLOCK_ERR_OVERFLOW
      by every entry point before any buffer is touched.

   2. Indexing. A tensor of more than 2^31 elements needs 8 GiB for x alone,
      more than a test may take, so it is not run. What such a tensor would
      exercise is that no element index, seed position or stride passes
      through an int: in dropblock.h every dimension is converted to size_t
      before the first product (dropblock__geometry), seed positions and bit
      indices are size_t, and the draw counter is uint64_t. What can be run
      is checked here: tensors of ~33M elements (~170 MB with mask and
      workspace, one at a time) with large planes, long channel strides in
      both layouts, shared maps, 3-D, and a gamma whose block area times
      seed-grid size exceeds 2^31 (an int product there would overflow).
      The mask is compared with the reference's per-element keep bit on
      sampled positions (first, last and random ones), and the output at
      those positions with s*x, where s comes from the whole returned mask,
      so an error anywhere in the mask shows up in s. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reference.h"
#include "test_util.h"

/* ---- 1. overflow ------------------------------------------------------------- */

#define SMALL 64

/* Small buffers that a call must leave exactly as they are. */
typedef struct guard {
    float x[SMALL], y[SMALL];
    uint8_t keep[SMALL];
    unsigned char ws[SMALL];
    uint64_t kept;
    size_t bytes;
} guard;

static void fill_guard(guard *g) {
    memset(g, 0x5A, sizeof *g);
}

static void expect_untouched(const guard *g) {
    guard want;
    fill_guard(&want);
    assert_memory_equal(g, &want, sizeof want);
}

/* Both the usual keep_prob and 1 (the identity path, which needs no mask). */
static const float overflow_keeps[] = {0.9f, 1.0f};

static dropblock_config overflow_cfg(size_t k) {
    dropblock_config cfg = {0};
    cfg.keep_prob = overflow_keeps[k];
    cfg.block_h = 3;
    return cfg;
}

/* Every 3-D entry point on s3 and, unless s2 is NULL, every 2-D one on *s2
   returns OVERFLOW, touching nothing. */
static void expect_overflow(const dropblock_shape *s2, dropblock_shape3d s3) {
    size_t k;
    for (k = 0; k < 2; ++k) {
        dropblock_config cfg = overflow_cfg(k);
        guard g;
        fill_guard(&g);
        if (s2) {
            dropblock_shape s = *s2;
            assert_int_equal(dropblock_forward(&cfg, s, 0, g.x, g.y, g.keep), DROPBLOCK_ERR_OVERFLOW);
            assert_int_equal(dropblock_forward(&cfg, s, 0, g.y, g.y, NULL), DROPBLOCK_ERR_OVERFLOW);
            assert_int_equal(dropblock_backward(&cfg, s, 0, g.x, g.y), DROPBLOCK_ERR_OVERFLOW);
            assert_int_equal(dropblock_forward_ws(&cfg, s, 0, g.x, g.y, g.keep, g.ws, sizeof g.ws),
                             DROPBLOCK_ERR_OVERFLOW);
            assert_int_equal(dropblock_backward_ws(&cfg, s, 0, g.x, g.y, g.ws, sizeof g.ws), DROPBLOCK_ERR_OVERFLOW);
            assert_int_equal(dropblock_count_kept(&cfg, s, 0, 0, 1, g.ws, sizeof g.ws, &g.kept),
                             DROPBLOCK_ERR_OVERFLOW);
            assert_int_equal(dropblock_forward_range(&cfg, s, 0, 0, 1, 1, g.x, g.y, g.keep, g.ws, sizeof g.ws),
                             DROPBLOCK_ERR_OVERFLOW);
            assert_int_equal(dropblock_backward_range(&cfg, s, 0, 0, 1, 1, g.x, g.y, g.ws, sizeof g.ws),
                             DROPBLOCK_ERR_OVERFLOW);
            assert_int_equal(dropblock_workspace_size(s, &g.bytes), DROPBLOCK_ERR_OVERFLOW);
            expect_untouched(&g);
        }
        assert_int_equal(dropblock_forward3d(&cfg, s3, 0, g.x, g.y, g.keep, g.ws, sizeof g.ws),
                         DROPBLOCK_ERR_OVERFLOW);
        assert_int_equal(dropblock_backward3d(&cfg, s3, 0, g.x, g.y, g.ws, sizeof g.ws), DROPBLOCK_ERR_OVERFLOW);
        assert_int_equal(dropblock_workspace_size3d(s3, &g.bytes), DROPBLOCK_ERR_OVERFLOW);
        expect_untouched(&g);
    }
}

static dropblock_shape3d lift_with_d(dropblock_shape s, int d) {
    dropblock_shape3d r = ref_lift(s);
    r.d = d;
    return r;
}

static void test_count_overflows(void **state) {
    dropblock_shape all_max = {INT_MAX, INT_MAX, INT_MAX, INT_MAX};
    dropblock_shape three = {INT_MAX, INT_MAX, INT_MAX, 1}; /* (2^31 - 1)^3 > 2^64 - 1 >= SIZE_MAX */
    dropblock_shape two = {INT_MAX, INT_MAX, 1, 1};
    (void)state;
    expect_overflow(&all_max, lift_with_d(all_max, INT_MAX));
    expect_overflow(&three, lift_with_d(three, 1));
    /* 3-D only: the depth axis is what overflows */
    expect_overflow(NULL, lift_with_d(two, INT_MAX));
}

/* The count fits in size_t but count * sizeof(float) does not. */
static void test_byte_size_overflows(void **state) {
#if SIZE_MAX > UINT32_MAX
    /* 2 * (2^31 - 1)^2 ~ 2^63 elements, ~2^65 bytes */
    dropblock_shape s = {INT_MAX, INT_MAX, 2, 1};
#else
    dropblock_shape s = {INT_MAX, 1, 1, 1}; /* 2^31 - 1 elements, ~2^33 bytes */
#endif
    (void)state;
    expect_overflow(&s, ref_lift(s));
}

/* Just below the byte limit the shape is accepted: the workspace size is
   computed (nothing else is safe to call on a shape this big). */
static void test_largest_accepted_size(void **state) {
#if SIZE_MAX > UINT32_MAX
    dropblock_shape s = {INT_MAX, INT_MAX, 1, 1}; /* (2^31 - 1)^2 < 2^62 elements */
#else
    dropblock_shape s = {INT_MAX / 4, 1, 1, 1};
#endif
    size_t total = (size_t)s.n * (size_t)s.h, bytes = 0;
    (void)state;
    assert_int_equal(dropblock_workspace_size(s, &bytes), DROPBLOCK_OK);
    /* the documented bound: one bit per element, plus 1/32 of that for the
       bands' counts and padding, plus 88 bytes */
    assert_true(bytes >= total / 8);
    assert_true(bytes <= total / 8 + total / 256 + 88);
}

/* ---- 2. large tensors against the reference, sampled ------------------------- */

/* x[e] is a function of e, so the input can be recomputed after an in-place call. */
static float input_at(size_t e) { return (float)(int)(e % 2001) * 0.25f - 250.0f; }

static void expect_bits(float got, float want) {
    uint32_t g, w;
    memcpy(&g, &got, sizeof g);
    memcpy(&w, &want, sizeof w);
    assert_int_equal(g, w);
}

/* (n, pixel, c) of element e in the geometry's layout. */
static void element_coords(const ref_geom *g, size_t e, size_t *n, size_t *p, size_t *c) {
    size_t px = ref_pixels(g);
    if (g->nchw) {
        *p = e % px;
        *c = e / px % g->c;
        *n = e / px / g->c;
    } else {
        *c = e % g->c;
        *p = e / g->c % px;
        *n = e / g->c / px;
    }
}

static void check_big(const dropblock_config *cfg, dropblock_shape3d s, uint64_t step, int samples) {
    ref_geom g = ref_setup(cfg, s, step);
    size_t total = ref_total(&g), bytes = 0, e, k, n, kept = 0;
    float *x = (float *)malloc(total * sizeof(float)), *scale = (float *)malloc(g.n * sizeof(float));
    uint8_t *keep = (uint8_t *)malloc(total);
    void *ws;
    ref_rng r = {step};
    assert_non_null(x);
    assert_non_null(scale);
    assert_non_null(keep);
    ws = tu_workspace3d(s, &bytes);
    assert_non_null(ws);
    for (e = 0; e < total; ++e) x[e] = input_at(e);
    assert_int_equal(dropblock_forward3d(cfg, s, step, x, x, keep, ws, bytes), DROPBLOCK_OK);
    for (e = 0; e < total; ++e) kept += keep[e];
    assert_true(kept > 0 && kept < total);
    /* the scale from the whole returned mask (or the geometry, for EXPECTED) */
    for (n = 0; n < g.n; ++n) scale[n] = ref_scale(&g, keep, n);
    for (k = 0; k < (size_t)samples; ++k) {
        size_t p, c;
        e = k == 0 ? 0 : k == 1 ? total - 1 : (size_t)(ref_rng_u64(&r) % total);
        element_coords(&g, e, &n, &p, &c);
        if (keep[e] != ref_keep_element(&g, n, p, c))
            print_error("element %zu (n=%zu pixel=%zu c=%zu): keep %d, reference %d\n", e, n, p, c, keep[e],
                        ref_keep_element(&g, n, p, c));
        assert_int_equal(keep[e], ref_keep_element(&g, n, p, c));
        expect_bits(x[e], keep[e] ? input_at(e) * scale[n] : 0.0f);
    }
    free(ws);
    free(x);
    free(scale);
    free(keep);
}

static dropblock_config big_cfg(float keep_prob, int bh, int bw, unsigned flags, dropblock_scale scale,
                                dropblock_layout layout) {
    return tu_config(keep_prob, 0, bh, bw, flags, scale, layout, 0xB16);
}

/* One 2048 x 2048 plane per channel, 8 channels: 33.5M elements. */
static void test_big_plane(void **state) {
    dropblock_shape3d s = {1, 1, 2048, 2048, 8};
    dropblock_config a = big_cfg(0.9f, 7, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC);
    dropblock_config b = big_cfg(0.9f, 5, 3, DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SEED_ANYWHERE, DROPBLOCK_SCALE_BATCH,
                                 DROPBLOCK_NCHW);
    (void)state;
    check_big(&a, s, 1, 4000);
    check_big(&b, s, 2, 4000);
}

/* Long channel strides: 256 channels (NHWC runs of 1 KiB) and, in NCHW, a
   channel stride of 64K elements; maps shared across the batch. */
static void test_big_channels(void **state) {
    dropblock_shape3d s = {2, 1, 256, 256, 256};
    dropblock_config a = big_cfg(0.85f, 3, 0, DROPBLOCK_SHARE_BATCH, DROPBLOCK_SCALE_SAMPLE, DROPBLOCK_NHWC);
    dropblock_config b = big_cfg(0.85f, 4, 0, DROPBLOCK_SHARE_BATCH | DROPBLOCK_SHARE_CHANNELS, DROPBLOCK_SCALE_NONE,
                                 DROPBLOCK_NCHW);
    (void)state;
    check_big(&a, s, 3, 4000);
    check_big(&b, s, 4, 4000);
}

/* gamma with area * seed grid > 2^31: a block of 200 x 200 on a 2048 x 2048
   map has 40000 * 1849^2 ~ 1.4e11. Sampled sparsely: each reference bit
   scans 40000 seed positions. */
static void test_big_block(void **state) {
    dropblock_shape3d s = {1, 1, 2048, 2048, 2};
    dropblock_config cfg = big_cfg(0.8f, 200, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NCHW);
    (void)state;
    check_big(&cfg, s, 5, 24);
}

/* 3-D: 64 x 256 x 256 volumes, expected scale (the reference sums over
   every voxel of the map). */
static void test_big_volume(void **state) {
    dropblock_shape3d s = {1, 64, 256, 256, 8};
    dropblock_config cfg = big_cfg(0.9f, 3, 0, 0, DROPBLOCK_SCALE_EXPECTED, DROPBLOCK_NHWC);
    cfg.block_d = 2;
    (void)state;
    check_big(&cfg, s, 6, 4000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_overflows),
        cmocka_unit_test(test_byte_size_overflows),
        cmocka_unit_test(test_largest_accepted_size),
        cmocka_unit_test(test_big_plane),
        cmocka_unit_test(test_big_channels),
        cmocka_unit_test(test_big_block),
        cmocka_unit_test(test_big_volume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
