/* Strided tensors (THE MATH, Tensors): padded rows, channel slices of wider
   buffers, permuted strides (NHWC data described with NCHW-order axes,
   batch innermost, ...), and x and y with different strides, in every
   dtype. The logical result must equal the contiguous call bit for bit, x
   must stay unchanged and no byte of y's buffer outside the described
   elements may change (guard patterns); windows of a batch in random
   dtypes and arrangements also match reference.h's naive tensor forward. Aliasing strides are
   DROPBLOCK_ERR_STRIDE, partial overlaps DROPBLOCK_ERR_OVERLAP, byte
   offsets past ptrdiff_t DROPBLOCK_ERR_OVERFLOW, each with every buffer
   byte for byte unchanged. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "reference.h"
#include "tensor_util.h"

static const tt_arrangement named[] = {
    {{TT_AX_C, TT_AX_W, TT_AX_H, TT_AX_D, TT_AX_N}, 1, {0, 0, 0, 0, 0}, 0}, /* contiguous NDHWC                       */
    {{TT_AX_C, TT_AX_W, TT_AX_H, TT_AX_D, TT_AX_N}, 1, {0, 3, 0, 5, 0}, 0}, /* padded rows, gaps between samples      */
    {{TT_AX_C, TT_AX_W, TT_AX_H, TT_AX_D, TT_AX_N}, 1, {4, 0, 0, 0, 0}, 2}, /* channels 2.. of a buffer 4 wider       */
    {{TT_AX_W, TT_AX_H, TT_AX_D, TT_AX_C, TT_AX_N}, 1, {2, 0, 0, 1, 0}, 0}, /* NCDHW with padded rows and planes      */
    {{TT_AX_C, TT_AX_N, TT_AX_W, TT_AX_H, TT_AX_D}, 1, {0, 0, 0, 0, 0}, 3}, /* batch inside the pixel (CNHW-like)     */
    {{TT_AX_N, TT_AX_C, TT_AX_H, TT_AX_W, TT_AX_D}, 2, {1, 0, 1, 0, 0}, 1}, /* every second element, rows before cols */
    {{TT_AX_H, TT_AX_W, TT_AX_C, TT_AX_D, TT_AX_N}, 1, {0, 0, 0, 0, 0}, 0}, /* transposed spatial axes                */
};
#define NAMED (sizeof named / sizeof *named)

/* ---- the equivalence matrix ----------------------------------------------------------- */

typedef struct scase {
    dropblock_config cfg;
    dropblock_dtype dt;
    int size[5];
    uint64_t step;
} scase;

static scase random_scase(tu_prng *r) {
    static const float keeps[] = {0.9f, 0.6f, 1.0f, 0.8f};
    scase s;
    s.size[TT_AX_N] = 1 + (int)tu_prng_below(r, 3);
    s.size[TT_AX_D] = tu_prng_below(r, 3) ? 1 : 2 + (int)tu_prng_below(r, 2);
    s.size[TT_AX_H] = 1 + (int)tu_prng_below(r, 8);
    s.size[TT_AX_W] = 1 + (int)tu_prng_below(r, 8);
    s.size[TT_AX_C] = 1 + (int)tu_prng_below(r, 4);
    s.dt = (dropblock_dtype)tu_prng_below(r, 4);
    s.cfg = tu_config(keeps[tu_prng_below(r, 4)], (int)tu_prng_below(r, 3), 1 + (int)tu_prng_below(r, 4),
                      (int)tu_prng_below(r, 4), tu_prng_below(r, 32), (dropblock_scale)tu_prng_below(r, 4),
                      (dropblock_layout)tu_prng_below(r, 2), tu_prng_next(r));
    s.step = tu_prng_below(r, 100);
    return s;
}

/* x in tt_arrangement ax, y in ay (in place when in_place): forward, backward
   and the mask object give the contiguous result, x is untouched and y's
   buffer changes only in its elements. */
static void check_pair(const scase *s, const tt_arrangement *ax, const tt_arrangement *ay, int in_place, tu_prng *r) {
    dropblock_tensor cx = tt_ndhwc(NULL, s->dt, s->size[TT_AX_N], s->size[TT_AX_D], s->size[TT_AX_H], s->size[TT_AX_W],
                                   s->size[TT_AX_C]);
    size_t count = tt_count(&cx), es = tt_dtype_size(s->dt), bytes = 0;
    unsigned char *dense = (unsigned char *)tu_xmalloc(count * es), *want_f = (unsigned char *)tu_xmalloc(count * es);
    unsigned char *want_b = (unsigned char *)tu_xmalloc(count * es), *got = (unsigned char *)tu_xmalloc(count * es);
    tt_buf bx = tt_buf_make(tt_arrangement_bytes(ax, s->dt, s->size), 1);
    tt_buf by = tt_buf_make(tt_arrangement_bytes(ay, s->dt, s->size), 2);
    dropblock_tensor tx = tt_arrange(ax, s->dt, s->size, tt_buf_data(&bx));
    dropblock_tensor ty = in_place ? tx : tt_arrange(ay, s->dt, s->size, tt_buf_data(&by));
    tt_buf *yb = in_place ? &bx : &by;
    dropblock_tensor cy;
    dropblock_mask m;
    void *ws;
    int pass;
    tt_fill_values(r, s->dt, dense, count);
    cx.data = dense;
    cy = cx;
    cy.data = want_f;
    assert_int_equal(dropblock_forward_tensor(&s->cfg, s->step, &cx, &cy, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    cy.data = want_b;
    assert_int_equal(dropblock_backward_tensor(&s->cfg, s->step, &cx, &cy, NULL, 0, NULL), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_workspace_size(&tx, &bytes), DROPBLOCK_OK);
    ws = tu_xmalloc(bytes);
    memset(&m, 0, sizeof m); /* empty if init fails: asserts do not stop the analyzer */
    assert_int_equal(dropblock_mask_init(&m, &s->cfg, s->step, &tx, ws, bytes), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_build(&m, 0, 1), DROPBLOCK_OK);
    for (pass = 0; pass < 4; ++pass) {
        dropblock_status st;
        tt_scatter(&tx, dense);
        tt_buf_snapshot(&bx);
        tt_buf_snapshot(&by);
        switch (pass) {
        case 0: st = dropblock_forward_tensor(&s->cfg, s->step, &tx, &ty, NULL, 0, NULL, NULL); break;
        case 1: st = dropblock_backward_tensor(&s->cfg, s->step, &tx, &ty, NULL, 0, NULL); break;
        case 2: st = dropblock_mask_forward(&m, &tx, &ty, 0, 1); break;
        default: st = dropblock_mask_backward(&m, &tx, &ty, 0, 1); break;
        }
        assert_int_equal(st, DROPBLOCK_OK);
        tt_gather(&ty, got);
        assert_memory_equal(got, pass % 2 ? want_b : want_f, count * es);
        assert_true(tt_buf_outside_unchanged(yb, &ty));
        if (!in_place) assert_true(tt_buf_unchanged(&bx));
    }
    free(ws);
    tt_buf_free(&bx);
    tt_buf_free(&by);
    free(dense);
    free(want_f);
    free(want_b);
    free(got);
}

/* Every named tt_arrangement against every other, in place too. */
static void test_named_arrangements(void **state) {
    tu_prng r;
    size_t a, b;
    (void)state;
    tu_prng_seed(&r, 17);
    for (a = 0; a < NAMED; ++a)
        for (b = 0; b < NAMED; ++b) {
            scase s = random_scase(&r);
            check_pair(&s, &named[a], &named[b], 0, &r);
            if (a == b) check_pair(&s, &named[a], &named[a], 1, &r);
        }
}

static void test_random_arrangements(void **state) {
    tu_prng r;
    int k;
    (void)state;
    tu_prng_seed(&r, 18);
    for (k = 0; k < 150; ++k) {
        scase s = random_scase(&r);
        tt_arrangement ax = tt_random_arrangement(&r), ay = tt_random_arrangement(&r);
        check_pair(&s, &ax, &ay, k % 5 == 0, &r);
    }
}

/* Bits equal; but F64 under SCALE_EXPECTED applies the library's 1 / E,
   which may differ from the reference's plain loop in the last bits
   (test_dtype bounds it at 1e-12), so there the values are that close. */
static int same_as_reference(const scase *s, const unsigned char *got, const unsigned char *want) {
    double a, b;
    if (!memcmp(got, want, tt_dtype_size(s->dt))) return 1;
    if (s->dt != DROPBLOCK_F64 || s->cfg.scale != DROPBLOCK_SCALE_EXPECTED) return 0;
    memcpy(&a, got, 8);
    memcpy(&b, want, 8);
    return a - b <= 1e-12 * (b < 0 ? -b : b) && b - a <= 1e-12 * (b < 0 ? -b : b);
}

/* Against the naive reference of reference.h: a window [n0, n0 + n) of a
   batch of batch_n samples, in a random dtype, arrangement and stream,
   with the batch counts from set_batch; forward and backward. */
static void test_against_reference(void **state) {
    tu_prng r;
    int k;
    (void)state;
    tu_prng_seed(&r, 19);
    for (k = 0; k < 120; ++k) {
        scase s = random_scase(&r);
        int batch_n = s.size[TT_AX_N] + (int)tu_prng_below(&r, 3), n0 = (int)tu_prng_below(&r, 3), pass;
        tt_arrangement ax = tt_random_arrangement(&r), ay = tt_random_arrangement(&r);
        tt_buf bx, by;
        dropblock_tensor tx, ty, rx, ry, whole;
        dropblock_stats st;
        dropblock_mask m, mw;
        void *ws, *wws;
        size_t es = tt_dtype_size(s.dt), count, e;
        unsigned char *dense, *want, *got;
        if (n0 + s.size[TT_AX_N] > batch_n) n0 = batch_n - s.size[TT_AX_N];
        s.cfg.flags &= ~(unsigned)(DROPBLOCK_FILL_NOISE | DROPBLOCK_EXACT_RATE); /* outside the reference */
        s.cfg.stream = tu_prng_below(&r, 2) ? tu_prng_next(&r) : 0;
        bx = tt_buf_make(tt_arrangement_bytes(&ax, s.dt, s.size), 5);
        by = tt_buf_make(tt_arrangement_bytes(&ay, s.dt, s.size), 6);
        tx = tt_arrange(&ax, s.dt, s.size, tt_buf_data(&bx));
        ty = tt_arrange(&ay, s.dt, s.size, tt_buf_data(&by));
        tx.n_offset = ty.n_offset = n0;
        count = tt_count(&tx);
        dense = (unsigned char *)tu_xmalloc(count * es);
        want = (unsigned char *)tu_xmalloc(count * es);
        got = (unsigned char *)tu_xmalloc(count * es);
        tt_fill_values(&r, s.dt, dense, count);
        rx = tt_ndhwc(dense, s.dt, tx.n, tx.d, tx.h, tx.w, tx.c);
        rx.n_offset = n0;
        ry = rx;
        ry.data = want;
        ref_forward_tensor(&s.cfg, s.step, batch_n, &rx, &ry);
        /* the whole batch's counts, from a mask over all of it */
        whole = tt_ndhwc(NULL, s.dt, batch_n, tx.d, tx.h, tx.w, tx.c);
        assert_int_equal(tt_mask_make(&mw, &s.cfg, s.step, &whole, &wws), DROPBLOCK_OK);
        assert_int_equal(dropblock_mask_stats(&mw, &st), DROPBLOCK_OK);
        assert_int_equal(tt_mask_make(&m, &s.cfg, s.step, &tx, &ws), DROPBLOCK_OK);
        assert_int_equal(dropblock_mask_set_batch(&m, st.kept, st.total), DROPBLOCK_OK);
        for (pass = 0; pass < 2; ++pass) {
            tt_scatter(&tx, dense);
            tt_buf_snapshot(&by);
            assert_int_equal(pass ? dropblock_mask_backward(&m, &tx, &ty, 0, 1) : dropblock_mask_forward(&m, &tx, &ty, 0, 1),
                             DROPBLOCK_OK);
            tt_gather(&ty, got);
            for (e = 0; e < count && same_as_reference(&s, got + e * es, want + e * es); ++e) continue;
            if (e < count)
                fail_msg("case %d: element %zu of %zu differs from the reference (dtype %d)", k, e, count, (int)s.dt);
            assert_true(tt_buf_outside_unchanged(&by, &ty));
        }
        free(ws);
        free(wws);
        free(dense);
        free(want);
        free(got);
        tt_buf_free(&bx);
        tt_buf_free(&by);
    }
}

/* "NHWC data described as NCHW-order strides": dropblock_tensor_nchw with
   its strides rewritten to the NHWC ones is the NHWC tensor. */
static void test_nchw_descriptor_over_nhwc_data(void **state) {
    enum { N = 2, C = 3, H = 7, W = 6, COUNT = N * C * H * W };
    dropblock_config cfg = tu_config(0.7f, 0, 3, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NCHW, 44);
    float x[COUNT], a[COUNT], b[COUNT];
    dropblock_tensor t = dropblock_tensor_nchw(x, DROPBLOCK_F32, N, C, H, W), u;
    dropblock_tensor nhwc = dropblock_tensor_nhwc(x, DROPBLOCK_F32, N, H, W, C), v = nhwc;
    tu_prng r;
    (void)state;
    tu_prng_seed(&r, 3);
    tt_fill_values(&r, DROPBLOCK_F32, x, COUNT);
    t.stride_c = 1;
    t.stride_w = C;
    t.stride_h = (ptrdiff_t)W * C;
    t.stride_n = (ptrdiff_t)H * W * C;
    u = t;
    u.data = a;
    v.data = b;
    assert_int_equal(dropblock_forward_tensor(&cfg, 1, &t, &u, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_int_equal(dropblock_forward_tensor(&cfg, 1, &nhwc, &v, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_memory_equal(a, b, sizeof a);
}

/* A size-1 axis takes no part in the aliasing rule: stride 0 (or any) is fine. */
static void test_size_one_axis_any_stride(void **state) {
    enum { N = 1, H = 5, W = 4, COUNT = N * H * W };
    dropblock_config cfg = tu_config(0.8f, 0, 2, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 45);
    float x[COUNT], a[COUNT], b[COUNT];
    dropblock_tensor t = dropblock_tensor_nhwc(x, DROPBLOCK_F32, N, H, W, 1), u = t, v = t;
    tu_prng r;
    (void)state;
    tu_prng_seed(&r, 4);
    tt_fill_values(&r, DROPBLOCK_F32, x, COUNT);
    u.data = a;
    assert_int_equal(dropblock_forward_tensor(&cfg, 1, &t, &u, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    t.stride_c = 0;
    t.stride_n = 0;
    t.stride_d = 0;
    v = t;
    v.data = b;
    assert_int_equal(dropblock_forward_tensor(&cfg, 1, &t, &v, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_memory_equal(a, b, sizeof a);
}

/* ---- rejected arrangements -------------------------------------------------------------- */

enum { EN = 2, EH = 4, EW = 5, EC = 3, ECOUNT = EN * EH * EW * EC, EBYTES = ECOUNT * 8 * 3 };

typedef struct arena { tt_buf x, y; dropblock_mask m; void *ws; size_t ws_bytes; } arena;

static void arena_open(arena *a, const dropblock_config *cfg) {
    dropblock_tensor like = tt_ndhwc(NULL, DROPBLOCK_F32, EN, 1, EH, EW, EC);
    a->x = tt_buf_make(EBYTES, 3);
    a->y = tt_buf_make(EBYTES, 4);
    assert_int_equal(dropblock_mask_workspace_size(&like, &a->ws_bytes), DROPBLOCK_OK);
    a->ws = tu_xmalloc(a->ws_bytes);
    memset(&a->m, 0, sizeof a->m); /* empty if init fails: asserts do not stop the analyzer */
    assert_int_equal(dropblock_mask_init(&a->m, cfg, 1, &like, a->ws, a->ws_bytes), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_build(&a->m, 0, 1), DROPBLOCK_OK);
}

static void arena_close(arena *a) {
    tt_buf_free(&a->x);
    tt_buf_free(&a->y);
    free(a->ws);
}

static void expect_status(dropblock_status st, dropblock_status want, dropblock_status alt) {
    if (st != alt) assert_int_equal(st, want);
}

/* Every entry point that takes x and y returns want (or alt), and neither
   buffer changes. */
static void expect_rejected_either(arena *a, const dropblock_config *cfg, const dropblock_tensor *x,
                                   const dropblock_tensor *y, dropblock_status want, dropblock_status alt) {
    dropblock_stats stats;
    tt_buf_snapshot(&a->x);
    tt_buf_snapshot(&a->y);
    expect_status(dropblock_forward_tensor(cfg, 1, x, y, NULL, 0, NULL, &stats), want, alt);
    expect_status(dropblock_backward_tensor(cfg, 1, x, y, NULL, 0, NULL), want, alt);
    expect_status(dropblock_mask_forward(&a->m, x, y, 0, 1), want, alt);
    expect_status(dropblock_mask_backward(&a->m, x, y, 0, 1), want, alt);
    assert_true(tt_buf_unchanged(&a->x));
    assert_true(tt_buf_unchanged(&a->y));
}

static void expect_rejected(arena *a, const dropblock_config *cfg, const dropblock_tensor *x,
                            const dropblock_tensor *y, dropblock_status want) {
    expect_rejected_either(a, cfg, x, y, want, want);
}

static dropblock_tensor in_x(arena *a) { return tt_ndhwc(tt_buf_data(&a->x), DROPBLOCK_F32, EN, 1, EH, EW, EC); }
static dropblock_tensor in_y(arena *a) { return tt_ndhwc(tt_buf_data(&a->y), DROPBLOCK_F32, EN, 1, EH, EW, EC); }

/* Two logical elements at one address, on x, on y, and in place. */
static void test_aliasing_strides(void **state) {
    dropblock_config cfg = tu_config(0.8f, 0, 2, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 9);
    arena a;
    int k;
    (void)state;
    arena_open(&a, &cfg);
    for (k = 0; k < 6; ++k) {
        dropblock_tensor bad = in_x(&a), good = in_y(&a);
        switch (k) {
        case 0: bad.stride_w = 0; break;                          /* w > 1 at stride 0          */
        case 1: bad.stride_w = EC - 1; break;                     /* rows of channels overlap   */
        case 2: bad.stride_n = (ptrdiff_t)EH * EW * EC - 1; break; /* samples one element short  */
        case 3: bad.stride_h = bad.stride_w; break;               /* two axes, one stride       */
        case 4: bad.stride_c = 2; bad.stride_w = 2 * EC - 2; break; /* strided channels, rows short */
        default: bad.stride_c = bad.stride_n; break;              /* c on n's stride            */
        }
        expect_rejected(&a, &cfg, &bad, &good, DROPBLOCK_ERR_STRIDE);
        bad.data = tt_buf_data(&a.y);
        good.data = tt_buf_data(&a.x);
        expect_rejected(&a, &cfg, &good, &bad, DROPBLOCK_ERR_STRIDE);
        expect_rejected(&a, &cfg, &bad, &bad, DROPBLOCK_ERR_STRIDE);
    }
    /* the boundary: each stride exactly the span before it is legal */
    {
        dropblock_tensor x = in_x(&a), y = in_y(&a);
        x.stride_c = 2;
        x.stride_w = 2 * (EC - 1) + 1;
        x.stride_h = x.stride_w * (EW - 1) + x.stride_c * (EC - 1) + 1;
        x.stride_n = x.stride_h * (EH - 1) + x.stride_w * (EW - 1) + x.stride_c * (EC - 1) + 1;
        assert_true(tt_extent(&x) <= EBYTES);
        assert_int_equal(dropblock_forward_tensor(&cfg, 1, &x, &y, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    }
    arena_close(&a);
}

/* Overlapping x and y that are not the same tensor. */
static void test_partial_overlap(void **state) {
    dropblock_config cfg = tu_config(0.8f, 0, 2, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 10);
    arena a;
    dropblock_tensor x, y;
    (void)state;
    arena_open(&a, &cfg);
    x = in_x(&a);
    y = x;
    y.data = (float *)x.data + 1; /* shifted by one element */
    expect_rejected(&a, &cfg, &x, &y, DROPBLOCK_ERR_OVERLAP);
    expect_rejected(&a, &cfg, &y, &x, DROPBLOCK_ERR_OVERLAP);
    y.data = (float *)x.data + ECOUNT - 1; /* the last element of x is y's first */
    expect_rejected(&a, &cfg, &x, &y, DROPBLOCK_ERR_OVERLAP);
    y.data = (unsigned char *)x.data + 2; /* half an element: the header also rejects misaligned data */
    expect_rejected_either(&a, &cfg, &x, &y, DROPBLOCK_ERR_OVERLAP, DROPBLOCK_ERR_STRIDE);
    y = tt_ncdhw(x.data, DROPBLOCK_F32, EN, 1, EH, EW, EC); /* same bytes, other strides: not in place */
    expect_rejected(&a, &cfg, &x, &y, DROPBLOCK_ERR_OVERLAP);
    y = x;
    y.stride_n += 1; /* same start, different strides */
    expect_rejected(&a, &cfg, &x, &y, DROPBLOCK_ERR_OVERLAP);
    /* right after x is no overlap */
    y = x;
    y.data = (float *)x.data + ECOUNT;
    assert_int_equal(dropblock_forward_tensor(&cfg, 1, &x, &y, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    arena_close(&a);
}

/* x on the even channels of a buffer, y on its odd ones: no element is
   shared, the byte ranges interleave. A conservative span test may reject
   it (§4.2); if accepted, the result must be right. */
static void test_interleaved_views(void **state) {
    enum { N = 2, H = 3, W = 4, C = 2, COUNT = N * H * W * C };
    dropblock_config cfg = tu_config(0.8f, 0, 2, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 11);
    float buf[2 * COUNT], shot[2 * COUNT], dense[COUNT], want[COUNT], got[COUNT];
    dropblock_tensor x = dropblock_tensor_nhwc(buf, DROPBLOCK_F32, N, H, W, C), y, cx, cy;
    dropblock_status st;
    tu_prng r;
    (void)state;
    tu_prng_seed(&r, 5);
    x.stride_c = 2;
    x.stride_w = (ptrdiff_t)2 * C;
    x.stride_h = (ptrdiff_t)2 * W * C;
    x.stride_n = (ptrdiff_t)2 * H * W * C;
    y = x;
    y.data = buf + 1;
    tt_fill_values(&r, DROPBLOCK_F32, buf, (size_t)2 * COUNT);
    tt_gather(&x, dense);
    cx = tt_ndhwc(dense, DROPBLOCK_F32, N, 1, H, W, C);
    cy = cx;
    cy.data = want;
    assert_int_equal(dropblock_forward_tensor(&cfg, 1, &cx, &cy, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    memcpy(shot, buf, sizeof buf);
    st = dropblock_forward_tensor(&cfg, 1, &x, &y, NULL, 0, NULL, NULL);
    if (st == DROPBLOCK_OK) {
        tt_gather(&y, got);
        assert_memory_equal(got, want, sizeof want);
        tt_gather(&x, got);
        assert_memory_equal(got, dense, sizeof dense);
    } else {
        assert_int_equal(st, DROPBLOCK_ERR_OVERLAP);
        assert_memory_equal(buf, shot, sizeof buf);
    }
}

/* Byte offsets past PTRDIFF_MAX: an element offset that overflows, one
   that fits in elements but not in bytes, and a sum of fitting terms that
   does not fit. In place, so no overlap question arises; nothing is read
   or written (the buffer is small). */
static void test_offset_overflow(void **state) {
    dropblock_config cfg = tu_config(0.8f, 0, 2, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 12);
    arena a;
    int k;
    (void)state;
    arena_open(&a, &cfg);
    for (k = 0; k < 4; ++k) {
        dropblock_tensor t = tt_ndhwc(tt_buf_data(&a.x), DROPBLOCK_F32, 3, 1, 2, 1, 1);
        switch (k) {
        case 0: t.stride_n = PTRDIFF_MAX / 2 + 1; break; /* 2 * stride_n elements overflow */
        case 1: t.stride_n = PTRDIFF_MAX / 4 + 1; t.n = 2; break; /* elements fit, bytes do not */
        case 2: /* stride_h * 4 and stride_n * 4 fit; their sum does not */
            t.n = 2;
            t.stride_h = PTRDIFF_MAX / 12 + 1;
            t.stride_n = 2 * t.stride_h;
            break;
        default: t.dtype = DROPBLOCK_F64; t.n = 2; t.stride_n = PTRDIFF_MAX / 8 + 1; break;
        }
        tt_buf_snapshot(&a.x);
        assert_int_equal(dropblock_forward_tensor(&cfg, 1, &t, &t, NULL, 0, NULL, NULL), DROPBLOCK_ERR_OVERFLOW);
        assert_int_equal(dropblock_backward_tensor(&cfg, 1, &t, &t, NULL, 0, NULL), DROPBLOCK_ERR_OVERFLOW);
        assert_true(tt_buf_unchanged(&a.x));
    }
    arena_close(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_arrangements),
        cmocka_unit_test(test_random_arrangements),
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_nchw_descriptor_over_nhwc_data),
        cmocka_unit_test(test_size_one_axis_any_stride),
        cmocka_unit_test(test_aliasing_strides),
        cmocka_unit_test(test_partial_overlap),
        cmocka_unit_test(test_interleaved_views),
        cmocka_unit_test(test_offset_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
