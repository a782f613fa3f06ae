/* Every bad argument of the tensor API returns its status and writes
   nothing. Each case starts from a valid call, breaks one thing, and runs
   every entry point that takes that thing; x, y, the caller's workspace
   (where the call would write the mask), *stats and *bytes are compared
   byte for byte with their state before the call. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <string.h>

#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "tensor_util.h"

enum { N = 2, H = 6, W = 5, C = 3, COUNT = N * H * W * C, BUF = COUNT * 8 + 64 };

enum {
    FWD_T = 1u << 0,   /* dropblock_forward_tensor       */
    BWD_T = 1u << 1,   /* dropblock_backward_tensor      */
    WS_SIZE = 1u << 2, /* dropblock_mask_workspace_size  */
    INIT = 1u << 3,    /* dropblock_mask_init            */
    BUILD = 1u << 4,   /* dropblock_mask_build           */
    STATS = 1u << 5,   /* dropblock_mask_stats           */
    MFWD = 1u << 6,    /* dropblock_mask_forward         */
    MBWD = 1u << 7,    /* dropblock_mask_backward        */
    ENTRIES = 8,
    TENSOR_CALLS = FWD_T | BWD_T,
    MASK_APPLY = MFWD | MBWD,
    XY_CALLS = TENSOR_CALLS | MASK_APPLY,
    LIKE_CALLS = WS_SIZE | INIT
};

/* Every argument of every entry point, valid until a case breaks one. */
typedef struct call {
    dropblock_config cfg;
    const dropblock_config *cfgp;
    dropblock_tensor x, y, like;
    const dropblock_tensor *xp, *yp, *likep;
    void *ws;
    size_t ws_bytes, *bytesp;
    dropblock_executor exec;
    const dropblock_executor *execp;
    dropblock_stats *statsp;
    dropblock_mask *mp;    /* the built mask: build, stats, apply */
    dropblock_mask *initp; /* a fresh one for init                */
    int part, parts;
} call;

/* The buffers, all guarded and compared. */
static tt_buf bx, by, bws, bout;
static dropblock_mask built, fresh;
static size_t ws_need;
static int exec_calls;

static void counting_for(void *pool, dropblock_task_fn fn, void *task, int parts) {
    int k;
    (void)pool;
    ++exec_calls;
    for (k = 0; k < parts; ++k) fn(task, k, parts);
}

static int setup(void **state) {
    dropblock_tensor like = tt_ndhwc(NULL, DROPBLOCK_F32, N, 1, H, W, C);
    dropblock_config cfg = tu_config(0.8f, 0, 3, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 1);
    tu_prng r;
    (void)state;
    if (dropblock_mask_workspace_size(&like, &ws_need) != DROPBLOCK_OK) return -1;
    bx = tt_buf_make(BUF, 1);
    by = tt_buf_make(BUF, 2);
    bws = tt_buf_make(2 * ws_need, 3); /* the built mask's workspace, then init's */
    bout = tt_buf_make(sizeof(dropblock_stats) + sizeof(size_t), 4);
    tu_prng_seed(&r, 8);
    tt_fill_values(&r, DROPBLOCK_F32, tt_buf_data(&bx), COUNT);
    if (dropblock_mask_init(&built, &cfg, 2, &like, tt_buf_data(&bws), ws_need) != DROPBLOCK_OK) return -1;
    return dropblock_mask_build(&built, 0, 1) == DROPBLOCK_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    tt_buf_free(&bx);
    tt_buf_free(&by);
    tt_buf_free(&bws);
    tt_buf_free(&bout);
    return 0;
}

static void valid_call(call *c) {
    memset(c, 0, sizeof *c);
    c->cfg = tu_config(0.8f, 0, 3, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 1);
    c->cfgp = &c->cfg;
    c->x = tt_ndhwc(tt_buf_data(&bx), DROPBLOCK_F32, N, 1, H, W, C);
    c->y = tt_ndhwc(tt_buf_data(&by), DROPBLOCK_F32, N, 1, H, W, C);
    c->like = c->x;
    c->like.data = NULL;
    c->xp = &c->x;
    c->yp = &c->y;
    c->likep = &c->like;
    c->ws = (unsigned char *)tt_buf_data(&bws) + ws_need;
    c->ws_bytes = ws_need;
    c->bytesp = (size_t *)(void *)((unsigned char *)tt_buf_data(&bout) + sizeof(dropblock_stats));
    c->exec.parallel_for = counting_for;
    c->exec.parts = 3;
    c->execp = NULL;
    c->statsp = (dropblock_stats *)tt_buf_data(&bout);
    c->mp = &built;
    c->initp = &fresh;
    c->part = 0;
    c->parts = 1;
}

static dropblock_status invoke(unsigned entry, const call *c) {
    switch (entry) {
    case FWD_T:
        return dropblock_forward_tensor(c->cfgp, 2, c->xp, c->yp, c->ws, c->ws_bytes, c->execp, c->statsp);
    case BWD_T: return dropblock_backward_tensor(c->cfgp, 2, c->xp, c->yp, c->ws, c->ws_bytes, c->execp);
    case WS_SIZE: return dropblock_mask_workspace_size(c->likep, c->bytesp);
    case INIT: return dropblock_mask_init(c->initp, c->cfgp, 2, c->likep, c->ws, c->ws_bytes);
    case BUILD: return dropblock_mask_build(c->mp, c->part, c->parts);
    case STATS: return dropblock_mask_stats(c->mp, c->statsp);
    case MFWD: return dropblock_mask_forward(c->mp, c->xp, c->yp, c->part, c->parts);
    default: return dropblock_mask_backward(c->mp, c->xp, c->yp, c->part, c->parts);
    }
}

static const char *const entry_names[ENTRIES] = {"forward_tensor", "backward_tensor", "mask_workspace_size",
                                                 "mask_init", "mask_build", "mask_stats", "mask_forward",
                                                 "mask_backward"};

/* One broken argument: the entry points it applies to, the status they
   must return (or `alt`, where the header allows either), and the change. */
typedef struct bad_case {
    const char *what;
    unsigned entries;
    dropblock_status want, alt;
    int id;
} bad_case;

static void set_raw_enum(void *field, size_t size, int v) { memcpy(field, &v, size < sizeof v ? size : sizeof v); }

static void apply(int id, call *c) {
    switch (id) {
    case 0: set_raw_enum(&c->x.dtype, sizeof c->x.dtype, 4); set_raw_enum(&c->y.dtype, sizeof c->y.dtype, 4); break;
    case 1: set_raw_enum(&c->x.dtype, sizeof c->x.dtype, -1); break;
    case 2: set_raw_enum(&c->y.dtype, sizeof c->y.dtype, 1000); break;
    case 3: c->y.dtype = DROPBLOCK_F16; break;
    case 4: c->x.stride_w = 1; break; /* the channels of neighbouring pixels alias */
    case 5: c->y.stride_n = 0; break;
    case 6: c->part = -1; c->parts = 2; break;
    case 7: c->part = 2; c->parts = 2; break;
    case 8: c->part = 0; c->parts = 0; break;
    case 9: c->part = 0; c->parts = -4; break;
    case 10: c->part = INT_MIN; c->parts = INT_MAX; break;
    case 11: c->part = INT_MAX; c->parts = INT_MAX; break;
    case 12: c->x.n = c->y.n = N + 1; break; /* one sample more than the mask */
    case 13: c->x.h = c->y.h = H - 1; break;
    case 14: /* strides widened with it, so that only the sizes are wrong */
        c->x.w = c->y.w = W + 1;
        c->x.stride_h = c->y.stride_h = (ptrdiff_t)(W + 1) * C;
        c->x.stride_n = c->y.stride_n = (ptrdiff_t)H * (W + 1) * C;
        break;
    case 15: c->x.c = c->y.c = C - 1; break;
    case 16: c->x.d = c->y.d = 2; c->x.stride_n = c->y.stride_n = (ptrdiff_t)2 * H * W * C; break;
    case 17: c->x.n_offset = c->y.n_offset = 1; break; /* the mask's window starts at 0 */
    case 18: c->y.h = H - 1; break;                      /* x matches, y does not */
    case 19: c->x.n_offset = c->y.n_offset = -1; c->like.n_offset = -1; break;
    case 20: c->y.n_offset = 1; break;  /* x and y of different windows */
    case 21: c->y.n = N - 1; break;     /* x and y of different sizes   */
    case 22: c->x.n = c->y.n = 0; c->like.n = 0; break;
    case 23: c->x.w = c->y.w = -1; c->like.w = -1; break;
    case 24: c->x.c = c->y.c = INT_MIN; c->like.c = INT_MIN; break;
    case 25: c->x.d = c->y.d = 0; c->like.d = 0; break;
    case 26: /* sizes whose element count overflows: contiguous strides are left as they were */
        c->x.n = c->x.h = c->x.w = c->x.c = INT_MAX;
        c->y = c->x;
        c->y.data = tt_buf_data(&by);
        c->like = c->x;
        break;
    case 27: c->cfgp = NULL; break;
    case 28: c->xp = NULL; break;
    case 29: c->yp = NULL; break;
    case 30: c->x.data = NULL; break;
    case 31: c->y.data = NULL; break;
    case 32: c->likep = NULL; break;
    case 33: c->bytesp = NULL; break;
    case 34: c->mp = NULL; c->initp = NULL; break;
    case 35: c->statsp = NULL; break;
    case 36: c->ws = NULL; break;        /* bytes still given */
    case 37: c->ws_bytes = ws_need - 1; break;
    case 38: c->ws_bytes = 0; break;     /* a workspace of no bytes */
    case 39: c->exec.parts = 0; c->execp = &c->exec; break;
    case 40: c->exec.parts = -1; c->execp = &c->exec; break;
    case 41: c->exec.parallel_for = NULL; c->execp = &c->exec; break;
    case 42: c->cfg.keep_prob = (float)NAN; break;
    case 43: c->cfg.keep_prob = 1.5f; break;
    case 44: c->cfg.block_h = 0; break;
    case 45: c->cfg.block_w = -2; break;
    case 46: c->cfg.block_d = -1; break;
    case 47: c->cfg.flags = 1u << 9; break;
    case 48: set_raw_enum(&c->cfg.scale, sizeof c->cfg.scale, 4); break;
    default: break;
    }
}

static const bad_case cases[] = {
    {"unknown dtype (both)", XY_CALLS, DROPBLOCK_ERR_DTYPE, DROPBLOCK_ERR_DTYPE, 0},
    {"unknown dtype (x, negative)", XY_CALLS, DROPBLOCK_ERR_DTYPE, DROPBLOCK_ERR_DTYPE, 1},
    {"unknown dtype (y)", XY_CALLS, DROPBLOCK_ERR_DTYPE, DROPBLOCK_ERR_DTYPE, 2},
    {"x F32, y F16", XY_CALLS, DROPBLOCK_ERR_DTYPE, DROPBLOCK_ERR_DTYPE, 3},
    {"aliasing strides (x)", XY_CALLS, DROPBLOCK_ERR_STRIDE, DROPBLOCK_ERR_STRIDE, 4},
    {"aliasing strides (y)", XY_CALLS, DROPBLOCK_ERR_STRIDE, DROPBLOCK_ERR_STRIDE, 5},
    {"part -1 of 2", BUILD | MASK_APPLY, DROPBLOCK_ERR_PART, DROPBLOCK_ERR_PART, 6},
    {"part 2 of 2", BUILD | MASK_APPLY, DROPBLOCK_ERR_PART, DROPBLOCK_ERR_PART, 7},
    {"parts 0", BUILD | MASK_APPLY, DROPBLOCK_ERR_PART, DROPBLOCK_ERR_PART, 8},
    {"parts -4", BUILD | MASK_APPLY, DROPBLOCK_ERR_PART, DROPBLOCK_ERR_PART, 9},
    {"part INT_MIN", BUILD | MASK_APPLY, DROPBLOCK_ERR_PART, DROPBLOCK_ERR_PART, 10},
    {"part INT_MAX of INT_MAX", BUILD | MASK_APPLY, DROPBLOCK_ERR_PART, DROPBLOCK_ERR_PART, 11},
    {"tensor n != mask n", MASK_APPLY, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 12},
    {"tensor h != mask h", MASK_APPLY, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 13},
    {"tensor w != mask w", MASK_APPLY, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 14},
    {"tensor c != mask c", MASK_APPLY, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 15},
    {"tensor d != mask d", MASK_APPLY, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 16},
    {"tensor n_offset != mask n_offset", MASK_APPLY, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 17},
    {"y does not match the mask", MASK_APPLY, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 18},
    {"negative n_offset", XY_CALLS | INIT, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 19},
    {"x and y n_offset differ", TENSOR_CALLS, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 20},
    {"x and y sizes differ", TENSOR_CALLS, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 21},
    {"n 0", TENSOR_CALLS | LIKE_CALLS, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 22},
    {"w -1", TENSOR_CALLS | LIKE_CALLS, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 23},
    {"c INT_MIN", TENSOR_CALLS | LIKE_CALLS, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 24},
    {"d 0", TENSOR_CALLS | LIKE_CALLS, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_SHAPE, 25},
    {"element count overflows", LIKE_CALLS, DROPBLOCK_ERR_OVERFLOW, DROPBLOCK_ERR_OVERFLOW, 26},
    /* no strides make such a tensor both non-aliasing and addressable, so either error is right */
    {"element count overflows (tensor)", TENSOR_CALLS, DROPBLOCK_ERR_OVERFLOW, DROPBLOCK_ERR_STRIDE, 26},
    {"cfg NULL", TENSOR_CALLS | INIT, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 27},
    {"x NULL", XY_CALLS, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 28},
    {"y NULL", XY_CALLS, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 29},
    {"x->data NULL", XY_CALLS, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 30},
    {"y->data NULL", XY_CALLS, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 31},
    {"like NULL", LIKE_CALLS, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 32},
    {"bytes NULL", WS_SIZE, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 33},
    {"mask NULL", INIT | BUILD | STATS | MASK_APPLY, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 34},
    {"stats NULL", STATS, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 35},
    {"workspace NULL with bytes", TENSOR_CALLS | INIT, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_WORKSPACE, 36},
    {"workspace one byte short", TENSOR_CALLS | INIT, DROPBLOCK_ERR_WORKSPACE, DROPBLOCK_ERR_WORKSPACE, 37},
    {"workspace of 0 bytes", TENSOR_CALLS | INIT, DROPBLOCK_ERR_WORKSPACE, DROPBLOCK_ERR_WORKSPACE, 38},
    {"exec->parts 0", TENSOR_CALLS, DROPBLOCK_ERR_PART, DROPBLOCK_ERR_PART, 39},
    {"exec->parts -1", TENSOR_CALLS, DROPBLOCK_ERR_PART, DROPBLOCK_ERR_PART, 40},
    {"exec->parallel_for NULL", TENSOR_CALLS, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_NULL, 41},
    {"keep_prob NaN", TENSOR_CALLS | INIT, DROPBLOCK_ERR_KEEP_PROB, DROPBLOCK_ERR_KEEP_PROB, 42},
    {"keep_prob 1.5", TENSOR_CALLS | INIT, DROPBLOCK_ERR_KEEP_PROB, DROPBLOCK_ERR_KEEP_PROB, 43},
    {"block_h 0", TENSOR_CALLS | INIT, DROPBLOCK_ERR_BLOCK, DROPBLOCK_ERR_BLOCK, 44},
    {"block_w -2", TENSOR_CALLS | INIT, DROPBLOCK_ERR_BLOCK, DROPBLOCK_ERR_BLOCK, 45},
    {"block_d -1", TENSOR_CALLS | INIT, DROPBLOCK_ERR_BLOCK, DROPBLOCK_ERR_BLOCK, 46},
    {"unknown flag", TENSOR_CALLS | INIT, DROPBLOCK_ERR_FLAGS, DROPBLOCK_ERR_FLAGS, 47},
    {"unknown scale", TENSOR_CALLS | INIT, DROPBLOCK_ERR_SCALE, DROPBLOCK_ERR_SCALE, 48},
};

/* Every case on every entry point it applies to. */
static void test_every_error(void **state) {
    size_t k;
    unsigned e;
    int failures = 0;
    (void)state;
    for (k = 0; k < sizeof cases / sizeof *cases; ++k)
        for (e = 0; e < ENTRIES; ++e) {
            unsigned entry = 1u << e;
            dropblock_status st;
            call c;
            if (!(cases[k].entries & entry)) continue;
            valid_call(&c);
            apply(cases[k].id, &c);
            exec_calls = 0;
            tt_buf_snapshot(&bx);
            tt_buf_snapshot(&by);
            tt_buf_snapshot(&bws);
            tt_buf_snapshot(&bout);
            st = invoke(entry, &c);
            if (st != cases[k].want && st != cases[k].alt) {
                print_error("%s: %s returned %d (%s), expected %d\n", cases[k].what, entry_names[e], st,
                            dropblock_status_string(st), cases[k].want);
                ++failures;
            }
            if (!tt_buf_unchanged(&bx) || !tt_buf_unchanged(&by) || !tt_buf_unchanged(&bws) ||
                !tt_buf_unchanged(&bout) || exec_calls) {
                print_error("%s: %s wrote to a buffer or ran the executor\n", cases[k].what, entry_names[e]);
                ++failures;
            }
        }
    assert_int_equal(failures, 0);
}

/* The valid call itself succeeds on every entry point (so each case above
   fails for its one change), and with an executor too. */
static void test_valid_call_succeeds(void **state) {
    unsigned e;
    call c;
    (void)state;
    for (e = 0; e < ENTRIES; ++e) {
        valid_call(&c);
        assert_int_equal(invoke(1u << e, &c), DROPBLOCK_OK);
    }
    valid_call(&c);
    c.execp = &c.exec;
    exec_calls = 0;
    assert_int_equal(invoke(FWD_T, &c), DROPBLOCK_OK);
    assert_true(exec_calls >= 1);
    assert_int_equal(dropblock_mask_build(&fresh, 0, 1), DROPBLOCK_OK); /* init above bound it */
}

/* The tensor API ignores cfg->layout, whatever its value (§4.3). */
static void test_layout_ignored(void **state) {
    call c;
    float want[COUNT];
    (void)state;
    valid_call(&c);
    assert_int_equal(invoke(FWD_T, &c), DROPBLOCK_OK);
    memcpy(want, c.y.data, sizeof want);
    memset(c.y.data, 0, sizeof want);
    set_raw_enum(&c.cfg.layout, sizeof c.cfg.layout, 7);
    assert_int_equal(invoke(FWD_T, &c), DROPBLOCK_OK);
    assert_memory_equal(c.y.data, want, sizeof want);
}

/* Every new status has its own sentence. */
static void test_status_strings(void **state) {
    const dropblock_status news[] = {DROPBLOCK_ERR_DTYPE, DROPBLOCK_ERR_STRIDE, DROPBLOCK_ERR_PART};
    const char *unknown = dropblock_status_string((dropblock_status)-999);
    size_t i;
    (void)state;
    assert_int_equal(DROPBLOCK_ERR_DTYPE, -14);
    assert_int_equal(DROPBLOCK_ERR_STRIDE, -15);
    assert_int_equal(DROPBLOCK_ERR_PART, -16);
    for (i = 0; i < 3; ++i) {
        const char *s = dropblock_status_string(news[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 8);
        assert_string_not_equal(s, unknown);
        assert_string_not_equal(s, dropblock_status_string(news[(i + 1) % 3]));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_call_succeeds),
        cmocka_unit_test(test_every_error),
        cmocka_unit_test(test_layout_ignored),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
