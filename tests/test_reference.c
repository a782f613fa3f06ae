/* The library against the naive reference of reference.h, bit for bit (y
   and keep mask compared with memcmp), over thousands of random shapes and
   configs drawn from a fixed-seed generator. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reference.h"

/* One random case: config, 3-D shape (d = 1 for 2-D cases), step. */
typedef struct tcase {
    dropblock_config cfg;
    dropblock_shape3d shape;
    uint64_t step;
} tcase;

static void describe(const char *what, const tcase *t, size_t index) {
    print_error("%s differs at index %zu: shape n=%d d=%d h=%d w=%d c=%d, keep_prob=%.9g block %dx%dx%d "
                "(d,h,w), flags=%u scale=%d layout=%d seed=%llu step=%llu\n",
                what, index, t->shape.n, t->shape.d, t->shape.h, t->shape.w, t->shape.c, (double)t->cfg.keep_prob,
                t->cfg.block_d, t->cfg.block_h, t->cfg.block_w, t->cfg.flags, (int)t->cfg.scale,
                (int)t->cfg.layout, (unsigned long long)t->cfg.seed, (unsigned long long)t->step);
}

static size_t first_diff(const void *a, const void *b, size_t bytes, size_t elem) {
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    size_t k;
    for (k = 0; k < bytes; ++k)
        if (p[k] != q[k]) return k / elem;
    return (size_t)-1;
}

/* Fails with a precise report if the buffers differ. */
static void expect_same(const char *what, const tcase *t, const void *got, const void *want, size_t count,
                        size_t elem) {
    size_t at = first_diff(got, want, count * elem, elem);
    if (at != (size_t)-1) {
        describe(what, t, at);
        if (elem == sizeof(float)) {
            float g, w;
            memcpy(&g, (const char *)got + at * elem, sizeof g);
            memcpy(&w, (const char *)want + at * elem, sizeof w);
            print_error("  expected %.9g got %.9g\n", (double)w, (double)g);
        } else {
            print_error("  expected %d got %d\n", ((const uint8_t *)want)[at], ((const uint8_t *)got)[at]);
        }
        fail();
    }
}

/* keep_prob: the edges (0, 1) often, the largest float below 1, otherwise
   uniform, biased toward the usual 0.7..0.95. */
static float random_keep_prob(ref_rng *r) {
    switch (ref_rng_int(r, 0, 9)) {
    case 0: return 0.0f;
    case 1: return 1.0f;
    case 2: return 0.99999994f;
    case 3: case 4: return ref_rng_float(r, 0.0f, 1.0f);
    default: return ref_rng_float(r, 0.7f, 0.95f);
    }
}

/* Shapes of several kinds: small odd/prime maps, many channels (NHWC runs
   longer than one 64-bit word), larger maps, degenerate 1x1 / 1-wide ones. */
static dropblock_shape3d random_shape(ref_rng *r, int three_d) {
    dropblock_shape3d s;
    s.d = three_d ? ref_rng_int(r, 1, 5) : 1;
    switch (ref_rng_int(r, 0, 5)) {
    case 0: /* many channels */
        s.n = ref_rng_int(r, 1, 2); s.h = ref_rng_int(r, 1, 5); s.w = ref_rng_int(r, 1, 5); s.c = ref_rng_int(r, 60, 140);
        break;
    case 1: /* larger map */
        s.n = ref_rng_int(r, 1, 2); s.h = ref_rng_int(r, 14, 33); s.w = ref_rng_int(r, 14, 33); s.c = ref_rng_int(r, 1, 2);
        if (three_d) s.d = ref_rng_int(r, 1, 2);
        break;
    case 2: /* degenerate: 1x1 maps or one row / column */
        s.n = ref_rng_int(r, 1, 4); s.h = ref_rng_int(r, 1, 2) == 1 ? 1 : ref_rng_int(r, 1, 9);
        s.w = s.h == 1 ? ref_rng_int(r, 1, 9) : 1; s.c = ref_rng_int(r, 1, 4);
        break;
    default: /* small maps, including odd primes and maps narrower than the block */
        s.n = ref_rng_int(r, 1, 3); s.h = ref_rng_int(r, 1, 13); s.w = ref_rng_int(r, 1, 13); s.c = ref_rng_int(r, 1, 5);
        break;
    }
    return s;
}

static tcase random_case(ref_rng *r, int three_d) {
    tcase t;
    memset(&t, 0, sizeof t);
    t.shape = random_shape(r, three_d);
    t.cfg.keep_prob = random_keep_prob(r);
    t.cfg.block_h = ref_rng_int(r, 1, 2) == 1 ? ref_rng_int(r, 1, 3) : ref_rng_int(r, 1, 9);
    t.cfg.block_w = ref_rng_int(r, 0, 2) == 0 ? 0 : ref_rng_int(r, 1, 9);
    t.cfg.block_d = three_d && ref_rng_int(r, 0, 1) ? ref_rng_int(r, 1, 4) : 0;
    t.cfg.flags = (unsigned)ref_rng_int(r, 0, 7);
    t.cfg.scale = (dropblock_scale)ref_rng_int(r, 0, 3);
    t.cfg.layout = (dropblock_layout)ref_rng_int(r, 0, 1);
    t.cfg.seed = ref_rng_u64(r);
    t.step = ref_rng_int(r, 0, 3) == 0 ? (uint64_t)ref_rng_int(r, 0, 5) : ref_rng_u64(r);
    return t;
}

/* Buffers of one case: input, reference output and mask, library output and
   mask, and a workspace (offset by one byte: any alignment is accepted). */
typedef struct bufs {
    size_t total, ws_bytes;
    float *x, *want, *got;
    uint8_t *want_keep, *got_keep;
    unsigned char *ws;
} bufs;

static bufs make_bufs(ref_rng *r, const tcase *t) {
    bufs b;
    b.total = tu_count3d(t->shape);
    b.ws_bytes = 0;
    assert_int_equal(dropblock_workspace_size3d(t->shape, &b.ws_bytes), DROPBLOCK_OK);
    b.x = (float *)malloc(b.total * sizeof(float));
    b.want = (float *)malloc(b.total * sizeof(float));
    b.got = (float *)malloc(b.total * sizeof(float));
    b.want_keep = (uint8_t *)malloc(b.total);
    b.got_keep = (uint8_t *)malloc(b.total);
    b.ws = (unsigned char *)malloc(b.ws_bytes + 1);
    assert_non_null(b.x); assert_non_null(b.want); assert_non_null(b.got);
    assert_non_null(b.want_keep); assert_non_null(b.got_keep); assert_non_null(b.ws);
    ref_fill(r, b.x, b.total);
    return b;
}

static void free_bufs(bufs *b) {
    free(b->x); free(b->want); free(b->got); free(b->want_keep); free(b->got_keep); free(b->ws);
}

/* Poison the library's outputs so that an unwritten element cannot pass. */
static void poison(bufs *b) {
    memset(b->got, 0xA5, b->total * sizeof(float));
    memset(b->got_keep, 0xA5, b->total);
}

static void expect_forward(const char *what, const tcase *t, const bufs *b) {
    expect_same(what, t, b->got_keep, b->want_keep, b->total, 1);
    expect_same(what, t, b->got, b->want, b->total, sizeof(float));
}

/* 2-D: dropblock_forward, forward_ws, forward3d with d = 1, backward and
   backward_ws (in place) all equal the reference. */
static void check_2d(ref_rng *r, const tcase *t) {
    dropblock_shape s = tu_flat(t->shape);
    bufs b = make_bufs(r, t);
    ref_forward(&t->cfg, s, t->step, b.x, b.want, b.want_keep);

    poison(&b);
    assert_int_equal(dropblock_forward(&t->cfg, s, t->step, b.x, b.got, b.got_keep), DROPBLOCK_OK);
    expect_forward("dropblock_forward", t, &b);

    poison(&b);
    assert_int_equal(dropblock_forward_ws(&t->cfg, s, t->step, b.x, b.got, b.got_keep, b.ws + 1, b.ws_bytes),
                     DROPBLOCK_OK);
    expect_forward("dropblock_forward_ws", t, &b);

    poison(&b);
    assert_int_equal(dropblock_forward3d(&t->cfg, t->shape, t->step, b.x, b.got, b.got_keep, b.ws, b.ws_bytes),
                     DROPBLOCK_OK);
    expect_forward("dropblock_forward3d (d = 1)", t, &b);

    /* backward is the same map applied to dy; x serves as dy */
    poison(&b);
    assert_int_equal(dropblock_backward(&t->cfg, s, t->step, b.x, b.got), DROPBLOCK_OK);
    expect_same("dropblock_backward", t, b.got, b.want, b.total, sizeof(float));

    memcpy(b.got, b.x, b.total * sizeof(float));
    assert_int_equal(dropblock_backward_ws(&t->cfg, s, t->step, b.got, b.got, b.ws + 1, b.ws_bytes), DROPBLOCK_OK);
    expect_same("dropblock_backward_ws (in place)", t, b.got, b.want, b.total, sizeof(float));
    free_bufs(&b);
}

static void check_3d(ref_rng *r, const tcase *t) {
    bufs b = make_bufs(r, t);
    ref_forward3d(&t->cfg, t->shape, t->step, b.x, b.want, b.want_keep);

    poison(&b);
    assert_int_equal(dropblock_forward3d(&t->cfg, t->shape, t->step, b.x, b.got, b.got_keep, b.ws + 1, b.ws_bytes),
                     DROPBLOCK_OK);
    expect_forward("dropblock_forward3d", t, &b);

    poison(&b);
    assert_int_equal(dropblock_backward3d(&t->cfg, t->shape, t->step, b.x, b.got, b.ws, b.ws_bytes), DROPBLOCK_OK);
    expect_same("dropblock_backward3d", t, b.got, b.want, b.total, sizeof(float));
    free_bufs(&b);
}

/* `cases` random cases from a fixed seed, through the 2-D or 3-D checks. */
static void run_random(uint64_t seed, int cases, int three_d) {
    ref_rng r;
    int k;
    r.s = seed;
    for (k = 0; k < cases; ++k) {
        tcase t = random_case(&r, three_d);
        if (three_d)
            check_3d(&r, &t);
        else
            check_2d(&r, &t);
    }
}

static void test_random_2d(void **state) {
    (void)state;
    run_random(UINT64_C(0x5EED0001), 4000, 0);
}

static void test_random_3d(void **state) {
    (void)state;
    run_random(UINT64_C(0x5EED0002), 1500, 1);
}

/* A 2-D case on an n x h x w x c map with block bh x bw. */
static tcase grid_case(int n, int h, int w, int c, float keep_prob, const int block[2], unsigned flags, int layout) {
    tcase t;
    memset(&t, 0, sizeof t);
    t.shape.n = n; t.shape.d = 1; t.shape.h = h; t.shape.w = w; t.shape.c = c;
    t.cfg.keep_prob = keep_prob;
    t.cfg.block_h = block[0];
    t.cfg.block_w = block[1];
    t.cfg.flags = flags;
    t.cfg.layout = (dropblock_layout)layout;
    return t;
}

/* Every flag x scale x layout combination, with keep_prob 0 on blocks 1x1
   and map-sized (gamma exactly 1: everything dropped) and on a 3x3 block. */
static void test_every_combination(void **state) {
    static const int blocks[][2] = {{1, 1}, {3, 3}, {2, 4}, {9, 9}};
    static const float keeps[] = {0.0f, 0.8f, 1.0f};
    ref_rng r = {UINT64_C(0x5EED0003)};
    unsigned flags;
    int scale, layout, b, kp;
    (void)state;
    for (flags = 0; flags < 8; ++flags)
        for (scale = 0; scale < 4; ++scale)
            for (layout = 0; layout < 2; ++layout)
                for (b = 0; b < 4; ++b)
                    for (kp = 0; kp < 3; ++kp) {
                        tcase t = grid_case(3, 9, 7, 4, keeps[kp], blocks[b], flags, layout);
                        t.cfg.scale = (dropblock_scale)scale;
                        t.cfg.seed = 1234;
                        t.step = 77;
                        check_2d(&r, &t);
                    }
}

/* Pixels of whole 64-bit words (64 and 128 channels), where a build widens
   blocks by word shifts (one pass for reaches 2 and 3, doubling beyond)
   and an NCHW build takes the dense path with AVX-512, and 96 channels,
   whose doubling steps of two pixels are whole words but one pixel is
   not: blocks 3 to 7, square and not, seeds valid or anywhere (so that
   blocks reach down and up from their seed), both layouts. */
static void test_whole_word_pixels(void **state) {
    static const int blocks[][2] = {{3, 3}, {4, 4}, {5, 5}, {7, 7}, {3, 7}, {7, 4}};
    static const int channels[] = {64, 128, 96};
    ref_rng r = {UINT64_C(0x5EED0004)};
    int b, c, anywhere, layout;
    (void)state;
    for (b = 0; b < 6; ++b)
        for (c = 0; c < 3; ++c)
            for (anywhere = 0; anywhere < 2; ++anywhere)
                for (layout = 0; layout < 2; ++layout) {
                    tcase t = grid_case(2, 9, 11, channels[c], 0.8f, blocks[b],
                                        anywhere ? (unsigned)DROPBLOCK_SEED_ANYWHERE : 0u, layout);
                    t.cfg.seed = 99 + (uint64_t)b;
                    t.step = 5;
                    check_2d(&r, &t);
                }
}

/* Thresholds with few set bits, where a draw stops at t's last set bit
   before its eager levels end: plain dropout (block 1) at keep_prob 0.5,
   0.75, 0.875, 0.625 (t = 2^31, 2^30, 2^29, 3 * 2^29) and 1 - 2^-k for k
   = 8, 9, 10 (t's one bit at level 7, 8 or 9: the last eager level of the
   portable or the AVX-512 draw, or just past it), at 64 and 128 channels
   (seed rows of 2 chunks of 32 groups, and of less than one), both
   layouts. */
static void test_short_thresholds(void **state) {
    static const float keeps[] = {0.5f, 0.75f, 0.875f, 0.625f, 0.99609375f, 0.998046875f, 0.9990234375f};
    static const int one[2] = {1, 1};
    ref_rng r = {UINT64_C(0x5EED0005)};
    size_t k;
    int shape, layout;
    (void)state;
    for (k = 0; k < sizeof keeps / sizeof keeps[0]; ++k)
        for (shape = 0; shape < 2; ++shape)
            for (layout = 0; layout < 2; ++layout) {
                tcase t = shape ? grid_case(2, 5, 32, 128, keeps[k], one, 0, layout)
                                : grid_case(2, 9, 11, 64, keeps[k], one, 0, layout);
                t.cfg.seed = 31 + (uint64_t)k;
                t.step = 2;
                check_2d(&r, &t);
            }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_combination),
        cmocka_unit_test(test_whole_word_pixels),
        cmocka_unit_test(test_short_thresholds),
        cmocka_unit_test(test_random_2d),
        cmocka_unit_test(test_random_3d),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
