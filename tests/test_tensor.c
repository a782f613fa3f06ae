/* The tensor API on F32 contiguous tensors is the 1.x API (the 1.x calls
   take float, contiguous tensors in cfg->layout; THE MATH): random shapes,
   flags, scales, layouts, 2-D and 3-D, each compared bit for bit with
   dropblock_forward, _backward, _ws, 3d and _range, through
   dropblock_forward_tensor / _backward_tensor and through the mask object.
   Also the four constructors, dropblock_config_default and what stats
   reports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "reference.h"
#include "tensor_util.h"

#define CASES 160

typedef struct tcase {
    dropblock_config cfg;
    dropblock_shape3d s;
    uint64_t step;
    int is3d;
} tcase;

static tcase random_case(tu_prng *r, int is3d) {
    static const float keeps[] = {0.9f, 0.7f, 0.5f, 0.95f, 1.0f, 0.0f, 0.3f};
    tcase t;
    t.is3d = is3d;
    t.s.n = 1 + (int)tu_prng_below(r, 4);
    t.s.d = is3d ? 1 + (int)tu_prng_below(r, 4) : 1;
    t.s.h = 1 + (int)tu_prng_below(r, 10);
    t.s.w = 1 + (int)tu_prng_below(r, 10);
    t.s.c = 1 + (int)tu_prng_below(r, 5);
    t.cfg = tu_config(keeps[tu_prng_below(r, 7)], is3d ? (int)tu_prng_below(r, 4) : 0, 1 + (int)tu_prng_below(r, 5),
                      (int)tu_prng_below(r, 6), tu_prng_below(r, 32), (dropblock_scale)tu_prng_below(r, 4),
                      (dropblock_layout)tu_prng_below(r, 2), tu_prng_next(r));
    t.cfg.stream = tu_prng_below(r, 2) ? tu_prng_next(r) : 0; /* the 1.x calls honour it too */
    t.step = tu_prng_next(r) % 1000;
    return t;
}

static dropblock_shape shape2d(dropblock_shape3d s) {
    dropblock_shape r;
    r.n = s.n; r.h = s.h; r.w = s.w; r.c = s.c;
    return r;
}

/* The descriptor of a contiguous 1.x buffer of the case's layout. */
static dropblock_tensor case_tensor(const tcase *t, void *data) {
    return t->cfg.layout == DROPBLOCK_NCHW ? tt_ncdhw(data, DROPBLOCK_F32, t->s.n, t->s.d, t->s.h, t->s.w, t->s.c)
                                           : tt_ndhwc(data, DROPBLOCK_F32, t->s.n, t->s.d, t->s.h, t->s.w, t->s.c);
}

static dropblock_status legacy_forward(const tcase *t, const float *x, float *y, uint8_t *keep) {
    size_t bytes = 0;
    void *ws;
    dropblock_status st;
    if (!t->is3d) return dropblock_forward(&t->cfg, shape2d(t->s), t->step, x, y, keep);
    ws = tu_workspace3d(t->s, &bytes);
    st = dropblock_forward3d(&t->cfg, t->s, t->step, x, y, keep, ws, bytes);
    free(ws);
    return st;
}

static dropblock_status legacy_backward(const tcase *t, const float *dy, float *dx) {
    size_t bytes = 0;
    void *ws;
    dropblock_status st;
    if (!t->is3d) return dropblock_backward(&t->cfg, shape2d(t->s), t->step, dy, dx);
    ws = tu_workspace3d(t->s, &bytes);
    st = dropblock_backward3d(&t->cfg, t->s, t->step, dy, dx, ws, bytes);
    free(ws);
    return st;
}

/* stats of a whole-tensor mask against the 1.x keep mask (§4.4). */
static void check_stats(const tcase *t, const dropblock_stats *st, const uint8_t *keep, size_t count) {
    const dropblock_config *c = &t->cfg;
    size_t kept = 0, e;
    int noise = (c->flags & DROPBLOCK_FILL_NOISE) != 0;
    for (e = 0; e < count; ++e) kept += keep[e];
    assert_int_equal(st->kept, kept);
    assert_int_equal(st->total, count);
    if (c->flags & DROPBLOCK_EXACT_RATE) {
        if (!t->is3d)
            assert_true(st->gamma == dropblock_gamma_exact(c->keep_prob, c->block_h, c->block_w, t->s.h, t->s.w,
                                                           c->flags));
    } else if (t->is3d) {
        assert_true(st->gamma ==
                    dropblock_gamma3d(c->keep_prob, c->block_d, c->block_h, c->block_w, t->s.d, t->s.h, t->s.w));
    } else {
        assert_true(st->gamma == dropblock_gamma(c->keep_prob, c->block_h, c->block_w, t->s.h, t->s.w));
    }
    if (c->scale == DROPBLOCK_SCALE_NONE ||
        (c->scale != DROPBLOCK_SCALE_SAMPLE && (noise || c->keep_prob == 1.0f)))
        assert_true(st->scale == 1.0);
    else if (c->scale == DROPBLOCK_SCALE_BATCH && !noise && kept > 0)
        assert_true(st->scale == (double)count / (double)kept);
    else if (c->scale == DROPBLOCK_SCALE_SAMPLE && !noise)
        assert_true(st->scale == 0.0);
}

/* One random case through every face of the API. */
static void run_case(const tcase *t, tu_prng *r) {
    dropblock_config flipped = t->cfg;
    size_t count = (size_t)t->s.n * t->s.d * t->s.h * t->s.w * t->s.c, e, bytes = 0, sample = count / t->s.n;
    float *x = (float *)tu_xmalloc(count * 4), *y1 = (float *)tu_xmalloc(count * 4);
    float *y2 = (float *)tu_xmalloc(count * 4), *dx1 = (float *)tu_xmalloc(count * 4);
    uint8_t *keep1 = (uint8_t *)tu_xmalloc(count), *keepl = (uint8_t *)tu_xmalloc(count);
    dropblock_tensor tx = case_tensor(t, x), ty = case_tensor(t, y2);
    dropblock_stats stats;
    dropblock_mask m;
    ref_rng data = {0};
    void *ws;
    data.s = tu_prng_next(r);
    ref_fill(&data, x, count);
    memset(keep1, 7, count); /* defined even if a call fails (its assert reports it) */
    memset(keepl, 7, count);
    flipped.layout = t->cfg.layout == DROPBLOCK_NHWC ? DROPBLOCK_NCHW : DROPBLOCK_NHWC; /* ignored by the tensor API */

    assert_int_equal(legacy_forward(t, x, y1, keep1), DROPBLOCK_OK);
    memset(y2, 0xEE, count * 4);
    assert_int_equal(dropblock_forward_tensor(&flipped, t->step, &tx, &ty, NULL, 0, NULL, &stats), DROPBLOCK_OK);
    assert_memory_equal(y1, y2, count * 4);
    check_stats(t, &stats, keep1, count);

    assert_int_equal(legacy_backward(t, x, dx1), DROPBLOCK_OK);
    memset(y2, 0xEE, count * 4);
    assert_int_equal(dropblock_backward_tensor(&flipped, t->step, &tx, &ty, NULL, 0, NULL), DROPBLOCK_OK);
    assert_memory_equal(dx1, y2, count * 4);

    /* the caller's workspace, as in the _ws calls */
    assert_int_equal(dropblock_mask_workspace_size(&tx, &bytes), DROPBLOCK_OK);
    ws = tu_xmalloc(bytes);
    memset(y2, 0xEE, count * 4);
    assert_int_equal(dropblock_forward_tensor(&t->cfg, t->step, &tx, &ty, ws, bytes, NULL, NULL), DROPBLOCK_OK);
    assert_memory_equal(y1, y2, count * 4);
    if (!t->is3d) {
        size_t bytes1 = 0;
        void *ws1 = tu_workspace(shape2d(t->s), &bytes1);
        assert_non_null(ws1);
        assert_int_equal(dropblock_forward_ws(&t->cfg, shape2d(t->s), t->step, x, y2, NULL, ws1, bytes1),
                         DROPBLOCK_OK);
        assert_memory_equal(y1, y2, count * 4);
        assert_int_equal(dropblock_backward_ws(&t->cfg, shape2d(t->s), t->step, x, y2, ws1, bytes1), DROPBLOCK_OK);
        assert_memory_equal(dx1, y2, count * 4);
        free(ws1);
    }

    /* the mask object, built once, forward and backward */
    memset(&m, 0, sizeof m); /* empty if init fails: asserts do not stop the analyzer */
    assert_int_equal(dropblock_mask_init(&m, &flipped, t->step, &tx, ws, bytes), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_build(&m, 0, 1), DROPBLOCK_OK);
    memset(y2, 0xEE, count * 4);
    assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
    assert_memory_equal(y1, y2, count * 4);
    memset(y2, 0xEE, count * 4);
    assert_int_equal(dropblock_mask_backward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
    assert_memory_equal(dx1, y2, count * 4);
    assert_int_equal(dropblock_mask_stats(&m, &stats), DROPBLOCK_OK);
    check_stats(t, &stats, keep1, count);
    if (!(t->cfg.flags & DROPBLOCK_FILL_NOISE)) {
        assert_int_equal(tt_mask_keep(&m, &tx, keepl), DROPBLOCK_OK);
        for (e = 0; e < count; ++e) assert_int_equal(keepl[e], keep1[tt_offset(&tx, e)]);
    }
    free(ws);

    /* a window [n0, n1) of the batch against the 1.x range call */
    if (!t->is3d && t->s.n >= 2) {
        int n0 = (int)tu_prng_below(r, (unsigned)t->s.n), n1 = n0 + 1 + (int)tu_prng_below(r, (unsigned)(t->s.n - n0));
        dropblock_tensor wx = tx, wy = ty;
        uint64_t total_kept = 0, range_kept = 0;
        size_t bytes1 = 0, wbytes = 0;
        void *ws1 = tu_workspace(shape2d(t->s), &bytes1);
        assert_non_null(ws1);
        assert_int_equal(dropblock_count_kept(&t->cfg, shape2d(t->s), t->step, 0, t->s.n, ws1, bytes1, &total_kept),
                         DROPBLOCK_OK);
        assert_int_equal(dropblock_count_kept(&t->cfg, shape2d(t->s), t->step, n0, n1, ws1, bytes1, &range_kept),
                         DROPBLOCK_OK);
        memcpy(y2, y1, count * 4);
        memset(y1 + (size_t)n0 * sample, 0xEE, (size_t)(n1 - n0) * sample * 4);
        assert_int_equal(dropblock_forward_range(&t->cfg, shape2d(t->s), t->step, n0, n1, total_kept, x, y1, NULL,
                                                 ws1, bytes1),
                         DROPBLOCK_OK);
        assert_memory_equal(y1, y2, count * 4); /* the range is the whole call's slice */
        wx.data = x + (size_t)n0 * sample;
        wy.data = y2 + (size_t)n0 * sample;
        wx.n = wy.n = n1 - n0;
        wx.n_offset = wy.n_offset = n0;
        memset(wy.data, 0xEE, (size_t)(n1 - n0) * sample * 4);
        assert_int_equal(dropblock_mask_workspace_size(&wx, &wbytes), DROPBLOCK_OK);
        ws = tu_xmalloc(wbytes);
        assert_int_equal(dropblock_mask_init(&m, &t->cfg, t->step, &wx, ws, wbytes), DROPBLOCK_OK);
        assert_int_equal(dropblock_mask_build(&m, 0, 1), DROPBLOCK_OK);
        assert_int_equal(dropblock_mask_stats(&m, &stats), DROPBLOCK_OK);
        assert_int_equal(stats.kept, range_kept);
        assert_int_equal(stats.total, (size_t)(n1 - n0) * sample);
        assert_int_equal(dropblock_mask_set_batch(&m, total_kept, count), DROPBLOCK_OK);
        assert_int_equal(dropblock_mask_forward(&m, &wx, &wy, 0, 1), DROPBLOCK_OK);
        assert_memory_equal(y1, y2, count * 4);
        free(ws);
        free(ws1);
    }
    free(x);
    free(y1);
    free(y2);
    free(dx1);
    free(keep1);
    free(keepl);
}

static void test_random_2d(void **state) {
    tu_prng r;
    int k;
    (void)state;
    tu_prng_seed(&r, 2026);
    for (k = 0; k < CASES; ++k) {
        tcase t = random_case(&r, 0);
        run_case(&t, &r);
    }
}

static void test_random_3d(void **state) {
    tu_prng r;
    int k;
    (void)state;
    tu_prng_seed(&r, 3003);
    for (k = 0; k < CASES; ++k) {
        tcase t = random_case(&r, 1);
        run_case(&t, &r);
    }
}

/* A 2-D tensor call is the 3-D call with d = 1 (the 1.x rule, kept). */
static void test_2d_is_3d_depth_one(void **state) {
    enum { N = 3, H = 11, W = 9, C = 4, COUNT = N * H * W * C };
    dropblock_config cfg = tu_config(0.8f, 0, 3, 0, DROPBLOCK_SHARE_CHANNELS, DROPBLOCK_SCALE_BATCH,
                                     DROPBLOCK_NHWC, 12);
    float *x = (float *)tu_xmalloc((size_t)COUNT * 4), *a = (float *)tu_xmalloc((size_t)COUNT * 4), *b = (float *)tu_xmalloc((size_t)COUNT * 4);
    dropblock_tensor t2 = dropblock_tensor_nchw(x, DROPBLOCK_F32, N, C, H, W), u2 = t2;
    dropblock_tensor t3 = dropblock_tensor_ncdhw(x, DROPBLOCK_F32, N, C, 1, H, W), u3 = t3;
    ref_rng r = {5};
    (void)state;
    ref_fill(&r, x, COUNT);
    u2.data = a;
    u3.data = b;
    assert_int_equal(dropblock_forward_tensor(&cfg, 4, &t2, &u2, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_int_equal(dropblock_forward_tensor(&cfg, 4, &t3, &u3, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_memory_equal(a, b, (size_t)COUNT * 4);
    free(x);
    free(a);
    free(b);
}

/* ---- constructors and defaults --------------------------------------------------- */

static void expect_tensor(const dropblock_tensor *t, void *data, dropblock_dtype dt, const int size[5],
                          const ptrdiff_t stride[5]) {
    const int got[5] = {t->n, t->d, t->h, t->w, t->c};
    const ptrdiff_t gs[5] = {t->stride_n, t->stride_d, t->stride_h, t->stride_w, t->stride_c};
    int k;
    assert_ptr_equal(t->data, data);
    assert_int_equal(t->dtype, dt);
    assert_true(t->n_offset == 0);
    for (k = 0; k < 5; ++k) {
        assert_int_equal(got[k], size[k]);
        if (size[k] > 1) assert_true(gs[k] == stride[k]); /* a size-1 axis's stride never matters */
    }
}

/* Each constructor takes the sizes in the order its name spells (distinct
   primes show any swap) and returns the contiguous strides. */
static void test_constructors(void **state) {
    static char buf[16];
    dropblock_tensor t;
    (void)state;
    t = dropblock_tensor_nhwc(buf, DROPBLOCK_F16, 2, 3, 5, 7);
    {
        const int size[5] = {2, 1, 3, 5, 7};
        const ptrdiff_t st[5] = {105, 0, 35, 7, 1};
        expect_tensor(&t, buf, DROPBLOCK_F16, size, st);
    }
    t = dropblock_tensor_nchw(buf + 1, DROPBLOCK_BF16, 2, 3, 5, 7);
    {
        const int size[5] = {2, 1, 5, 7, 3};
        const ptrdiff_t st[5] = {105, 0, 7, 1, 35};
        expect_tensor(&t, buf + 1, DROPBLOCK_BF16, size, st);
    }
    t = dropblock_tensor_ndhwc(buf + 2, DROPBLOCK_F64, 2, 3, 5, 7, 11);
    {
        const int size[5] = {2, 3, 5, 7, 11};
        const ptrdiff_t st[5] = {1155, 385, 77, 11, 1};
        expect_tensor(&t, buf + 2, DROPBLOCK_F64, size, st);
    }
    t = dropblock_tensor_ncdhw(buf + 3, DROPBLOCK_F32, 2, 3, 5, 7, 11);
    {
        const int size[5] = {2, 5, 7, 11, 3};
        const ptrdiff_t st[5] = {1155, 77, 11, 1, 385};
        expect_tensor(&t, buf + 3, DROPBLOCK_F32, size, st);
    }
}

/* The constructors' descriptors drive the same call as the hand-made ones. */
static void test_constructors_in_calls(void **state) {
    enum { N = 2, D = 3, H = 6, W = 5, C = 3, COUNT = N * D * H * W * C };
    dropblock_config cfg = tu_config(0.75f, 2, 3, 2, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 8);
    float *x = (float *)tu_xmalloc((size_t)COUNT * 4), *a = (float *)tu_xmalloc((size_t)COUNT * 4), *b = (float *)tu_xmalloc((size_t)COUNT * 4);
    ref_rng r = {6};
    dropblock_tensor tx, ty;
    int layout;
    (void)state;
    ref_fill(&r, x, COUNT);
    for (layout = 0; layout < 2; ++layout) {
        tx = layout ? dropblock_tensor_ncdhw(x, DROPBLOCK_F32, N, C, D, H, W)
                    : dropblock_tensor_ndhwc(x, DROPBLOCK_F32, N, D, H, W, C);
        ty = tx;
        ty.data = a;
        assert_int_equal(dropblock_forward_tensor(&cfg, 2, &tx, &ty, NULL, 0, NULL, NULL), DROPBLOCK_OK);
        tx = layout ? tt_ncdhw(x, DROPBLOCK_F32, N, D, H, W, C) : tt_ndhwc(x, DROPBLOCK_F32, N, D, H, W, C);
        ty = tx;
        ty.data = b;
        assert_int_equal(dropblock_forward_tensor(&cfg, 2, &tx, &ty, NULL, 0, NULL, NULL), DROPBLOCK_OK);
        assert_memory_equal(a, b, (size_t)COUNT * 4);
    }
    free(x);
    free(a);
    free(b);
}

/* The paper's ImageNet setting with every other field zero; usable as is. */
static void test_config_default(void **state) {
    dropblock_config cfg = dropblock_config_default();
    float x[4 * 8 * 8 * 2], y[4 * 8 * 8 * 2];
    dropblock_shape s = {4, 8, 8, 2};
    ref_rng r = {7};
    (void)state;
    assert_true(cfg.keep_prob == 0.9f);
    assert_int_equal(cfg.block_h, 7);
    assert_int_equal(cfg.block_w, 0);
    assert_int_equal(cfg.block_d, 0);
    assert_int_equal(cfg.flags, 0);
    assert_int_equal(cfg.scale, DROPBLOCK_SCALE_BATCH);
    assert_int_equal(cfg.layout, DROPBLOCK_NHWC);
    assert_true(cfg.seed == 0);
    assert_true(cfg.stream == 0);
    ref_fill(&r, x, sizeof x / sizeof *x);
    assert_int_equal(dropblock_forward(&cfg, s, 0, x, y, NULL), DROPBLOCK_OK);
}

/* init ignores like's data, dtype and strides (§4.4), even strides no
   tensor could have; the workspace is one bit per element plus a small
   amount, whatever the dtype. */
static void test_init_ignores_like_layout(void **state) {
    enum { N = 4, H = 9, W = 13, C = 5, COUNT = N * H * W * C };
    dropblock_config cfg = tu_config(0.8f, 0, 3, 0, 0, DROPBLOCK_SCALE_SAMPLE, DROPBLOCK_NHWC, 3);
    dropblock_tensor like = tt_ndhwc(NULL, DROPBLOCK_F32, N, 1, H, W, C), odd = like, huge = like;
    float *x = (float *)tu_xmalloc((size_t)COUNT * 4), *a = (float *)tu_xmalloc((size_t)COUNT * 4), *b = (float *)tu_xmalloc((size_t)COUNT * 4);
    dropblock_tensor tx = tt_ndhwc(x, DROPBLOCK_F32, N, 1, H, W, C), ty = tx;
    size_t bytes = 0, bytes_odd = 0;
    dropblock_mask m1, m2;
    void *ws1, *ws2;
    ref_rng r = {8};
    int dt_bits = 77;
    (void)state;
    ref_fill(&r, x, COUNT);
    memcpy(&odd.dtype, &dt_bits, sizeof dt_bits < sizeof odd.dtype ? sizeof dt_bits : sizeof odd.dtype);
    odd.stride_n = odd.stride_h = odd.stride_w = odd.stride_c = 0; /* would alias as a tensor */
    assert_int_equal(dropblock_mask_workspace_size(&like, &bytes), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_workspace_size(&odd, &bytes_odd), DROPBLOCK_OK);
    assert_true(bytes == bytes_odd);
    huge.stride_n = PTRDIFF_MAX; /* offsets past ptrdiff_t, and negative strides: a tensor could not */
    huge.stride_h = -7;
    ws1 = tu_xmalloc(bytes);
    memset(&m1, 0, sizeof m1); /* empty if init fails: asserts do not stop the analyzer */
    memset(&m2, 0, sizeof m2);
    assert_int_equal(dropblock_mask_init(&m1, &cfg, 5, &huge, ws1, bytes), DROPBLOCK_OK);
    free(ws1);
    assert_true(bytes <= (COUNT + 7) / 8 + 64 * N + 1024);
    like.dtype = DROPBLOCK_F64;
    assert_int_equal(dropblock_mask_workspace_size(&like, &bytes_odd), DROPBLOCK_OK);
    assert_true(bytes == bytes_odd);
    ws1 = tu_xmalloc(bytes);
    ws2 = tu_xmalloc(bytes);
    assert_int_equal(dropblock_mask_init(&m1, &cfg, 5, &like, ws1, bytes), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_init(&m2, &cfg, 5, &odd, ws2, bytes), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_build(&m1, 0, 1), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_build(&m2, 0, 1), DROPBLOCK_OK);
    ty.data = a;
    assert_int_equal(dropblock_mask_forward(&m1, &tx, &ty, 0, 1), DROPBLOCK_OK);
    ty.data = b;
    assert_int_equal(dropblock_mask_forward(&m2, &tx, &ty, 0, 1), DROPBLOCK_OK);
    assert_memory_equal(a, b, (size_t)COUNT * 4);
    free(ws1);
    free(ws2);
    free(x);
    free(a);
    free(b);
}

/* 1 if every byte of b outside [p, p + n) equals its snapshot. */
static int unchanged_outside(const tt_buf *b, const unsigned char *p, size_t n) {
    const size_t lo = (size_t)(p - b->mem), all = b->bytes + 2 * TT_GUARD;
    return memcmp(b->mem, b->shot, lo) == 0 && memcmp(p + n, b->shot + lo + n, all - lo - n) == 0;
}

/* A workspace of exactly the asked size at each of the 64 byte offsets
   of a cache line (the mask places its rows at the first 64-byte boundary
   inside it): the same output at every offset, through the mask object
   and through forward_tensor, and not a byte written outside it. Shapes
   whose band counts are odd, so the rows do not start where the
   workspace does, in both layouts and one mask shared by the batch. */
static void test_workspace_offsets(void **state) {
    static const int shapes[][4] = {{3, 5, 7, 64}, {2, 9, 3, 130}, {5, 7, 7, 1}};
    size_t k, o;
    (void)state;
    for (k = 0; k < 3 * sizeof shapes / sizeof shapes[0]; ++k) {
        const int *sh = shapes[k / 3];
        const int nchw = k % 3 == 1;
        dropblock_config cfg = tu_config(0.7f, 0, 3, 0, k % 3 == 2 ? DROPBLOCK_SHARE_BATCH : 0, DROPBLOCK_SCALE_BATCH,
                                         DROPBLOCK_NHWC, 40 + k);
        const size_t count = (size_t)sh[0] * (size_t)sh[1] * (size_t)sh[2] * (size_t)sh[3];
        float *x = (float *)tu_xmalloc(count * 4), *want = (float *)tu_xmalloc(count * 4),
              *got = (float *)tu_xmalloc(count * 4);
        dropblock_tensor tx = nchw ? tt_ncdhw(x, DROPBLOCK_F32, sh[0], 1, sh[1], sh[2], sh[3])
                                   : tt_ndhwc(x, DROPBLOCK_F32, sh[0], 1, sh[1], sh[2], sh[3]),
                         ty = tx;
        size_t bytes = 0;
        tt_buf buf;
        unsigned char *base;
        ref_rng r = {9};
        r.s += k;
        ref_fill(&r, x, count);
        assert_int_equal(dropblock_mask_workspace_size(&tx, &bytes), DROPBLOCK_OK);
        buf = tt_buf_make(bytes + 127, (unsigned)k); /* a 64-byte boundary, then 63 offsets and the workspace */
        base = (unsigned char *)tt_buf_data(&buf);
        base += (64 - (uintptr_t)base % 64) % 64;
        for (o = 0; o < 64; ++o) {
            unsigned char *ws = base + o;
            dropblock_mask m;
            memset(&m, 0, sizeof m); /* empty if init fails: asserts do not stop the analyzer */
            tt_buf_snapshot(&buf);
            assert_int_equal(dropblock_mask_init(&m, &cfg, 7, &tx, ws, bytes), DROPBLOCK_OK);
            assert_int_equal(dropblock_mask_build(&m, 0, 1), DROPBLOCK_OK);
            ty.data = o ? got : want;
            assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
            if (o) assert_memory_equal(got, want, count * 4);
            assert_true(unchanged_outside(&buf, ws, bytes));
            memset(got, 0, count * 4);
            ty.data = got;
            assert_int_equal(dropblock_forward_tensor(&cfg, 7, &tx, &ty, ws, bytes, NULL, NULL), DROPBLOCK_OK);
            assert_memory_equal(got, want, count * 4);
            assert_true(unchanged_outside(&buf, ws, bytes));
        }
        tt_buf_free(&buf);
        free(x);
        free(want);
        free(got);
    }
}

/* The header's documented bound: at least one bit per element, at most
   E/8 + E/256 + 88 bytes for E elements. */
static void test_workspace_bound(void **state) {
    tu_prng r;
    int k;
    (void)state;
    tu_prng_seed(&r, 88);
    for (k = 0; k < 500; ++k) {
        dropblock_tensor like = tt_ndhwc(NULL, DROPBLOCK_F32, 1 + (int)tu_prng_below(&r, 40),
                                         1 + (int)tu_prng_below(&r, 4), 1 + (int)tu_prng_below(&r, 300),
                                         1 + (int)tu_prng_below(&r, 300), 1 + (int)tu_prng_below(&r, 70));
        double e = (double)tt_count(&like);
        size_t bytes = 0;
        if (k % 2) like = tt_ncdhw(NULL, DROPBLOCK_F32, like.n, like.d, like.h, like.w, like.c);
        assert_int_equal(dropblock_mask_workspace_size(&like, &bytes), DROPBLOCK_OK);
        assert_true((double)bytes * 8.0 >= e);
        assert_true((double)bytes <= e / 8.0 + e / 256.0 + 88.0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_2d),
        cmocka_unit_test(test_random_3d),
        cmocka_unit_test(test_2d_is_3d_depth_one),
        cmocka_unit_test(test_constructors),
        cmocka_unit_test(test_constructors_in_calls),
        cmocka_unit_test(test_config_default),
        cmocka_unit_test(test_init_ignores_like_layout),
        cmocka_unit_test(test_workspace_bound),
        cmocka_unit_test(test_workspace_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
