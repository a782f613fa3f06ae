/* Every bad input of every entry point returns its negative
   status and writes nothing. All buffers live in one arena that is filled
   with patterns before each call and compared byte for byte after it
   (except the workspace proper, whose contents are unspecified), so even a
   write through an overlapping pointer is caught. */
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
#include "test_util.h"

/* ---- the arena ------------------------------------------------------------ */

enum {
    REGION = 4096,
    X_OFF = 0,
    Y_OFF = REGION,
    KEEP_OFF = 2 * REGION,
    WS_OFF = 3 * REGION,
    OUT_OFF = 4 * REGION, /* kept and bytes outputs */
    ARENA_BYTES = 4 * REGION + 64,
    INSET = 2048 /* buffers start inside their region so overlaps fit on both sides */
};

static union { uint64_t align; unsigned char b[ARENA_BYTES]; } arena, snapshot;

static float *arena_x(void) { return (float *)(void *)(arena.b + X_OFF + INSET); }
static float *arena_y(void) { return (float *)(void *)(arena.b + Y_OFF + INSET); }
static uint8_t *arena_keep(void) { return arena.b + KEEP_OFF + INSET; }
static void *arena_ws(void) { return arena.b + WS_OFF; }
static uint64_t *arena_kept(void) { return (uint64_t *)(void *)(arena.b + OUT_OFF); }
static size_t *arena_bytes(void) { return (size_t *)(void *)(arena.b + OUT_OFF + 32); }

/* x holds distinct finite floats, so a copy into y would show; every other
   region holds a byte pattern no valid output (0/1 mask, counts) matches. */
static void fill_arena(void) {
    float *x = (float *)(void *)(arena.b + X_OFF);
    size_t i;
    for (i = 0; i < REGION / sizeof(float); ++i) x[i] = 1.5f + (float)i;
    tu_fill(arena.b + Y_OFF, (size_t)2 * REGION, TU_PATTERN);
    tu_fill(arena.b + WS_OFF, REGION, 0x5A);
    tu_fill(arena.b + OUT_OFF, ARENA_BYTES - OUT_OFF, TU_PATTERN);
}

/* ---- the entry points ----------------------------------------------------- */

enum {
    U_CFG = 1u << 0,   /* takes a config                 */
    U_X = 1u << 1,     /* takes x (or dy)                */
    U_Y = 1u << 2,     /* takes y (or dx)                */
    U_KEEP = 1u << 3,  /* takes keep_mask                */
    U_WS = 1u << 4,    /* takes a workspace              */
    U_RANGE = 1u << 5, /* takes n_begin, n_end           */
    U_TOTAL = 1u << 6, /* takes total_kept               */
    U_KEPT = 1u << 7,  /* writes *kept                   */
    U_BYTES = 1u << 8, /* writes *bytes                  */
    U_3D = 1u << 9     /* takes a shape3d                */
};

enum {
    E_FORWARD, E_BACKWARD, E_FORWARD_WS, E_BACKWARD_WS, E_FORWARD3D, E_BACKWARD3D,
    E_COUNT_KEPT, E_FORWARD_RANGE, E_BACKWARD_RANGE, E_WS_SIZE, E_WS_SIZE3D, E_COUNT
};

static const struct { const char *name; unsigned uses; } entries[E_COUNT] = {
    {"forward", U_CFG | U_X | U_Y | U_KEEP},
    {"backward", U_CFG | U_X | U_Y},
    {"forward_ws", U_CFG | U_X | U_Y | U_KEEP | U_WS},
    {"backward_ws", U_CFG | U_X | U_Y | U_WS},
    {"forward3d", U_CFG | U_X | U_Y | U_KEEP | U_WS | U_3D},
    {"backward3d", U_CFG | U_X | U_Y | U_WS | U_3D},
    {"count_kept", U_CFG | U_WS | U_RANGE | U_KEPT},
    {"forward_range", U_CFG | U_X | U_Y | U_KEEP | U_WS | U_RANGE | U_TOTAL},
    {"backward_range", U_CFG | U_X | U_Y | U_WS | U_RANGE | U_TOTAL},
    {"workspace_size", U_BYTES},
    {"workspace_size3d", U_BYTES | U_3D},
};

/* One call's arguments; 2-D entry points ignore shape.d. */
typedef struct scenario {
    dropblock_config cfg;
    const dropblock_config *cfgp;
    dropblock_shape3d shape;
    int n_begin, n_end;
    uint64_t total_kept;
    const float *x;
    float *y;
    uint8_t *keep;
    void *ws;
    size_t ws_bytes;
    uint64_t *kept;
    size_t *bytes;
} scenario;

static dropblock_status call(int e, const scenario *s) {
    const dropblock_shape sh = tu_flat(s->shape);
    switch (e) {
    case E_FORWARD: return dropblock_forward(s->cfgp, sh, 7, s->x, s->y, s->keep);
    case E_BACKWARD: return dropblock_backward(s->cfgp, sh, 7, s->x, s->y);
    case E_FORWARD_WS: return dropblock_forward_ws(s->cfgp, sh, 7, s->x, s->y, s->keep, s->ws, s->ws_bytes);
    case E_BACKWARD_WS: return dropblock_backward_ws(s->cfgp, sh, 7, s->x, s->y, s->ws, s->ws_bytes);
    case E_FORWARD3D: return dropblock_forward3d(s->cfgp, s->shape, 7, s->x, s->y, s->keep, s->ws, s->ws_bytes);
    case E_BACKWARD3D: return dropblock_backward3d(s->cfgp, s->shape, 7, s->x, s->y, s->ws, s->ws_bytes);
    case E_COUNT_KEPT:
        return dropblock_count_kept(s->cfgp, sh, 7, s->n_begin, s->n_end, s->ws, s->ws_bytes, s->kept);
    case E_FORWARD_RANGE:
        return dropblock_forward_range(s->cfgp, sh, 7, s->n_begin, s->n_end, s->total_kept, s->x, s->y, s->keep,
                                       s->ws, s->ws_bytes);
    case E_BACKWARD_RANGE:
        return dropblock_backward_range(s->cfgp, sh, 7, s->n_begin, s->n_end, s->total_kept, s->x, s->y, s->ws,
                                        s->ws_bytes);
    case E_WS_SIZE: return dropblock_workspace_size(sh, s->bytes);
    default: return dropblock_workspace_size3d(s->shape, s->bytes);
    }
}

static size_t elements(int e, dropblock_shape3d s) {
    size_t t = (size_t)s.n * (size_t)s.h * (size_t)s.w * (size_t)s.c;
    return (entries[e].uses & U_3D) ? t * (size_t)s.d : t;
}

/* Workspace bytes the library asks for, for n_samples samples of s. */
static size_t ws_needed(int e, dropblock_shape3d s, int n_samples) {
    size_t bytes = 0;
    s.n = n_samples;
    if (!(entries[e].uses & U_3D)) s.d = 1;
    assert_int_equal(dropblock_workspace_size3d(s, &bytes), DROPBLOCK_OK);
    return bytes;
}

/* A valid call: 2 x (2) x 5 x 6 x 3, block 3, all samples, batch scale. */
static void base(scenario *s, float keep_prob) {
    memset(s, 0, sizeof *s);
    s->cfg.keep_prob = keep_prob;
    s->cfg.block_h = 3;
    s->cfg.seed = 1;
    s->cfgp = &s->cfg;
    s->shape.n = 2; s->shape.d = 2; s->shape.h = 5; s->shape.w = 6; s->shape.c = 3;
    s->n_begin = 0;
    s->n_end = 2;
    s->total_kept = (uint64_t)2 * 5 * 6 * 3; /* 2-D element count: consistent with any range's kept count */
    s->x = arena_x();
    s->y = arena_y();
    s->keep = arena_keep();
    s->ws = arena_ws();
    s->ws_bytes = REGION;
    s->kept = arena_kept();
    s->bytes = arena_bytes();
}

/* Calls e and checks the status; on error, every byte outside the
   workspace region must be as before. */
static void expect(int e, const scenario *s, dropblock_status want, const char *what, int variant) {
    dropblock_status st;
    fill_arena();
    memcpy(snapshot.b, arena.b, ARENA_BYTES);
    st = call(e, s);
    if (st != want) print_error("%s, %s #%d: got %d, want %d\n", entries[e].name, what, variant, (int)st, (int)want);
    assert_int_equal(st, want);
    if (want == DROPBLOCK_OK) return;
    assert_memory_equal(arena.b, snapshot.b, WS_OFF);
    assert_memory_equal(arena.b + OUT_OFF, snapshot.b + OUT_OFF, ARENA_BYTES - OUT_OFF);
}

typedef void (*mutator)(scenario *s, int e, int variant);

/* Every entry point that uses all of `needs`, with keep_prob 0.8 (seeds
   possible) and 1 (the identity path), under every variant of the case. */
static void run_case(unsigned needs, int variants, mutator m, dropblock_status want, const char *what) {
    static const float kps[] = {0.8f, 1.0f};
    int e, v;
    size_t k;
    for (e = 0; e < E_COUNT; ++e) {
        if ((entries[e].uses & needs) != needs) continue;
        for (k = 0; k < sizeof kps / sizeof kps[0]; ++k)
            for (v = 0; v < variants; ++v) {
                scenario s;
                base(&s, kps[k]);
                m(&s, e, v);
                expect(e, &s, want, what, v);
            }
    }
}

/* ---- positive controls: the base call and the allowed corner cases -------- */

static void m_none(scenario *s, int e, int v) { (void)s; (void)e; (void)v; }

static void m_allowed(scenario *s, int e, int v) {
    switch (v) {
    case 0: s->keep = NULL; break;                  /* no mask wanted  */
    case 1: s->y = (float *)(uintptr_t)s->x; break; /* y == x in place */
    case 2: /* any workspace alignment, exactly the size asked for */
        s->ws = arena.b + WS_OFF + 1;
        s->ws_bytes = ws_needed(e, s->shape, s->n_end - s->n_begin);
        break;
    case 3: s->n_begin = 1; s->ws_bytes = ws_needed(e, s->shape, 1); break; /* a sub-range */
    default: /* v 4..6: SAMPLE, EXPECTED and NONE ignore total_kept */
        s->cfg.scale = (dropblock_scale)(v - 3);
        s->total_kept = UINT64_MAX;
        break;
    }
}

static void test_valid_calls_succeed(void **state) {
    (void)state;
    run_case(0, 1, m_none, DROPBLOCK_OK, "valid");
    run_case(U_CFG, 2, m_allowed, DROPBLOCK_OK, "allowed");
    run_case(U_WS, 3, m_allowed, DROPBLOCK_OK, "allowed");
    run_case(U_RANGE, 7, m_allowed, DROPBLOCK_OK, "allowed");
}

/* ---- NULL ------------------------------------------------------------------ */

static void m_null_cfg(scenario *s, int e, int v) { (void)e; (void)v; s->cfgp = NULL; }
static void m_null_x(scenario *s, int e, int v) { (void)e; (void)v; s->x = NULL; }
static void m_null_y(scenario *s, int e, int v) { (void)e; (void)v; s->y = NULL; }
static void m_null_ws(scenario *s, int e, int v) { (void)e; (void)v; s->ws = NULL; }
static void m_null_kept(scenario *s, int e, int v) { (void)e; (void)v; s->kept = NULL; }
static void m_null_bytes(scenario *s, int e, int v) { (void)e; (void)v; s->bytes = NULL; }

static void test_null_pointers(void **state) {
    (void)state;
    run_case(U_CFG, 1, m_null_cfg, DROPBLOCK_ERR_NULL, "NULL cfg");
    run_case(U_X, 1, m_null_x, DROPBLOCK_ERR_NULL, "NULL x");
    run_case(U_Y, 1, m_null_y, DROPBLOCK_ERR_NULL, "NULL y");
    run_case(U_WS, 1, m_null_ws, DROPBLOCK_ERR_NULL, "NULL workspace");
    run_case(U_KEPT, 1, m_null_kept, DROPBLOCK_ERR_NULL, "NULL kept");
    run_case(U_BYTES, 1, m_null_bytes, DROPBLOCK_ERR_NULL, "NULL bytes");
}

/* ---- shapes ---------------------------------------------------------------- */

/* variant: dimension v/2 of (n, h, w, c), set to 0 or -1 */
static void m_dim(scenario *s, int e, int v) {
    int *dims[4];
    (void)e;
    dims[0] = &s->shape.n; dims[1] = &s->shape.h; dims[2] = &s->shape.w; dims[3] = &s->shape.c;
    *dims[v / 2] = v % 2 ? -1 : 0;
}

static void m_depth(scenario *s, int e, int v) {
    (void)e;
    s->shape.d = v == 0 ? 0 : v == 1 ? -1 : INT_MIN;
}

static void test_bad_dimensions(void **state) {
    (void)state;
    run_case(0, 8, m_dim, DROPBLOCK_ERR_SHAPE, "dimension < 1");
    run_case(U_3D, 3, m_depth, DROPBLOCK_ERR_SHAPE, "depth < 1");
}

/* N*H*W*C = 2^64 (2^32 on 32-bit targets too: 65536^2 already wraps). */
static void m_count_overflow(scenario *s, int e, int v) {
    (void)e;
    s->shape.n = s->shape.h = s->shape.w = s->shape.c = 65536;
    s->shape.d = 1;
    if (v == 1) { s->shape.c = 1; s->shape.d = 65536; } /* 3-D: the depth completes it */
}

/* The count fits in size_t but count * sizeof(float) does not. */
static void m_bytes_overflow(scenario *s, int e, int v) {
    (void)e;
    (void)v;
    s->shape.d = 1;
#if SIZE_MAX > 0xFFFFFFFFu
    s->shape.n = s->shape.h = s->shape.w = 65536; /* 2^48 */
    s->shape.c = 16384;                           /* count 2^62, bytes 2^64 */
#else
    s->shape.n = s->shape.h = s->shape.w = 1024; /* count 2^30, bytes 2^32 */
    s->shape.c = 1;
#endif
}

static void test_overflow(void **state) {
    (void)state;
    run_case(0, 1, m_count_overflow, DROPBLOCK_ERR_OVERFLOW, "element count overflow");
    run_case(U_3D, 2, m_count_overflow, DROPBLOCK_ERR_OVERFLOW, "element count overflow");
    run_case(0, 1, m_bytes_overflow, DROPBLOCK_ERR_OVERFLOW, "byte size overflow");
}

/* ---- config fields --------------------------------------------------------- */

static void m_keep_prob(scenario *s, int e, int v) {
    const float bad[] = {NAN, -0.1f, 1.1f, -INFINITY, INFINITY, 1.00000012f, -1e-30f};
    (void)e;
    s->cfg.keep_prob = bad[v];
}

static void m_block(scenario *s, int e, int v) {
    (void)e;
    switch (v) {
    case 0: s->cfg.block_h = 0; break;
    case 1: s->cfg.block_h = -1; break;
    case 2: s->cfg.block_h = INT_MIN; break;
    case 3: s->cfg.block_w = -1; break;
    case 4: s->cfg.block_w = INT_MIN; break;
    default: s->cfg.block_d = -1; break; /* a 2-D call validates it too: it is a config field */
    }
}

/* variant v: bit 5 + v alone (bits 0-4 are the known flags), and (last)
   an unknown bit next to every known one */
static void m_flags(scenario *s, int e, int v) {
    (void)e;
    s->cfg.flags = v < 27 ? 1u << (5 + v) : (DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SHARE_BATCH |
                                              DROPBLOCK_SEED_ANYWHERE | DROPBLOCK_EXACT_RATE |
                                              DROPBLOCK_FILL_NOISE | (1u << 17));
}

static const int bad_enum[] = {4, -1, 100, INT_MAX, INT_MIN};

static void m_scale(scenario *s, int e, int v) {
    (void)e;
    s->cfg.scale = (dropblock_scale)bad_enum[v];
}

static void m_layout(scenario *s, int e, int v) {
    (void)e;
    s->cfg.layout = (dropblock_layout)(v == 0 ? 2 : bad_enum[v]);
}

static void test_bad_config(void **state) {
    (void)state;
    run_case(U_CFG, 7, m_keep_prob, DROPBLOCK_ERR_KEEP_PROB, "keep_prob");
    run_case(U_CFG, 6, m_block, DROPBLOCK_ERR_BLOCK, "block");
    run_case(U_CFG, 28, m_flags, DROPBLOCK_ERR_FLAGS, "flags");
    run_case(U_CFG, 5, m_scale, DROPBLOCK_ERR_SCALE, "scale");
    run_case(U_CFG, 5, m_layout, DROPBLOCK_ERR_LAYOUT, "layout");
}

/* ---- overlaps -------------------------------------------------------------- */

/* x and y overlap partially, by one float up to all but one. */
static void m_overlap_xy(scenario *s, int e, int v) {
    const size_t t = elements(e, s->shape);
    float *x = arena_x();
    switch (v) {
    case 0: s->y = x + 1; break;
    case 1: s->y = x - 1; break;
    case 2: s->y = x + t - 1; break;
    default: s->y = x - (t - 1); break;
    }
}

/* keep_mask (bytes) overlaps the start or end of buf (floats). */
static uint8_t *touching(const float *buf, size_t t, int v) {
    uint8_t *b = (uint8_t *)(uintptr_t)buf;
    switch (v) {
    case 0: return b;
    case 1: return b + t * sizeof(float) - 1;
    default: return b - (t - 1);
    }
}

static void m_keep_on_x(scenario *s, int e, int v) { s->keep = touching(s->x, elements(e, s->shape), v); }
static void m_keep_on_y(scenario *s, int e, int v) { s->keep = touching(s->y, elements(e, s->shape), v); }

/* The workspace (exactly the size asked for) overlaps x, y or keep. */
static void place_ws(scenario *s, int e, const void *buf, size_t buf_bytes, int v) {
    unsigned char *b = (unsigned char *)(uintptr_t)buf;
    s->ws_bytes = ws_needed(e, s->shape, s->n_end - s->n_begin);
    s->ws = v == 0 ? b : v == 1 ? b + buf_bytes - 1 : b - (s->ws_bytes - 1);
}

static void m_ws_on_x(scenario *s, int e, int v) {
    place_ws(s, e, s->x, elements(e, s->shape) * sizeof(float), v);
}
static void m_ws_on_y(scenario *s, int e, int v) {
    place_ws(s, e, s->y, elements(e, s->shape) * sizeof(float), v);
}
static void m_ws_on_keep(scenario *s, int e, int v) { place_ws(s, e, s->keep, elements(e, s->shape), v); }

static void test_overlaps(void **state) {
    (void)state;
    run_case(U_X | U_Y, 4, m_overlap_xy, DROPBLOCK_ERR_OVERLAP, "x/y partial overlap");
    run_case(U_KEEP, 3, m_keep_on_x, DROPBLOCK_ERR_OVERLAP, "keep_mask overlaps x");
    run_case(U_KEEP, 3, m_keep_on_y, DROPBLOCK_ERR_OVERLAP, "keep_mask overlaps y");
    run_case(U_WS | U_X, 3, m_ws_on_x, DROPBLOCK_ERR_OVERLAP, "workspace overlaps x");
    run_case(U_WS | U_Y, 3, m_ws_on_y, DROPBLOCK_ERR_OVERLAP, "workspace overlaps y");
    run_case(U_WS | U_KEEP, 3, m_ws_on_keep, DROPBLOCK_ERR_OVERLAP, "workspace overlaps keep_mask");
}

/* ---- workspace, range, total_kept --------------------------------------------- */

static void m_ws_small(scenario *s, int e, int v) {
    switch (v) {
    case 0: s->ws_bytes = ws_needed(e, s->shape, 2) - 1; break;
    case 1: s->ws_bytes = 0; break;
    default: /* a one-sample range needs one sample's worth */
        s->n_begin = 1;
        s->ws_bytes = ws_needed(e, s->shape, 1) - 1;
        break;
    }
}

static void m_range(scenario *s, int e, int v) {
    static const int ranges[][2] = {{-1, 2}, {0, 0}, {1, 1}, {2, 2}, {2, 1}, {0, 3},
                                    {1, 3}, {INT_MIN, 1}, {0, INT_MAX}, {-1, -1}, {0, -1}};
    (void)e;
    s->n_begin = ranges[v][0];
    s->n_end = ranges[v][1];
}

/* Kept count of samples [n_begin, n_end) of the scenario, via count_kept. */
static uint64_t range_kept(const scenario *s) {
    static uint64_t ws[64];
    uint64_t kept = 0;
    assert_int_equal(dropblock_count_kept(&s->cfg, tu_flat(s->shape), 7, s->n_begin, s->n_end, ws, sizeof ws, &kept),
                     DROPBLOCK_OK);
    return kept;
}

/* Under the batch scale, total_kept below this range's kept count or above
   the element count is inconsistent. */
static void m_total_kept(scenario *s, int e, int v) {
    const uint64_t all = elements(e, s->shape);
    switch (v) {
    case 0: s->total_kept = all + 1; break;
    case 1: s->total_kept = UINT64_MAX; break;
    case 2: s->total_kept = range_kept(s) - 1; break;
    case 3: s->n_begin = 1; s->total_kept = range_kept(s) - 1; break;
    default: s->total_kept = 0; break;
    }
}

static void test_workspace_too_small(void **state) {
    (void)state;
    run_case(U_WS, 2, m_ws_small, DROPBLOCK_ERR_WORKSPACE, "workspace too small");
    run_case(U_WS | U_RANGE, 3, m_ws_small, DROPBLOCK_ERR_WORKSPACE, "workspace too small");
}

/* Every range not within [0, n) or empty; n_end = -1 included: it is no
   "whole batch" shorthand in the public API. */
static void test_bad_sample_range(void **state) {
    (void)state;
    run_case(U_RANGE, 11, m_range, DROPBLOCK_ERR_RANGE, "sample range");
}

static void test_inconsistent_total_kept(void **state) {
    (void)state;
    run_case(U_TOTAL, 5, m_total_kept, DROPBLOCK_ERR_KEPT, "total_kept");
}

/* ---- expand_mask ------------------------------------------------------------ */

typedef struct expand_args { const uint8_t *seeds; int h, w, bh, bw; uint8_t *keep; } expand_args;

/* 5 x 6 map; seeds and keep sit in the arena's x and keep regions. */
static void expect_expand(expand_args a, dropblock_status want, int variant) {
    dropblock_status st;
    fill_arena();
    memcpy(snapshot.b, arena.b, ARENA_BYTES);
    st = dropblock_expand_mask(a.seeds, a.h, a.w, a.bh, a.bw, a.keep);
    if (st != want) print_error("expand_mask #%d: got %d, want %d\n", variant, (int)st, (int)want);
    assert_int_equal(st, want);
    assert_memory_equal(arena.b, snapshot.b, ARENA_BYTES);
}

static void test_expand_mask_errors(void **state) {
    uint8_t *seeds = arena.b + X_OFF + INSET, *keep = arena_keep();
    const expand_args ok = {seeds, 5, 6, 3, 0, keep};
    expand_args a;
    int v;
    (void)state;
    for (v = 0; v < 15; ++v) {
        dropblock_status want = DROPBLOCK_ERR_SHAPE;
        a = ok;
        switch (v) {
        case 0: a.seeds = NULL; want = DROPBLOCK_ERR_NULL; break;
        case 1: a.keep = NULL; want = DROPBLOCK_ERR_NULL; break;
        case 2: a.h = 0; break;
        case 3: a.h = -1; break;
        case 4: a.w = 0; break;
        case 5: a.w = -1; break;
        case 6: a.bh = 0; want = DROPBLOCK_ERR_BLOCK; break;
        case 7: a.bh = -1; want = DROPBLOCK_ERR_BLOCK; break;
        case 8: a.bw = -1; want = DROPBLOCK_ERR_BLOCK; break;
        case 9: a.bw = INT_MIN; want = DROPBLOCK_ERR_BLOCK; break;
        case 10: a.keep = seeds + 1; want = DROPBLOCK_ERR_OVERLAP; break;
        case 11: a.keep = seeds - 1; want = DROPBLOCK_ERR_OVERLAP; break;
        case 12: a.keep = seeds + (size_t)5 * 6 - 1; want = DROPBLOCK_ERR_OVERLAP; break;
        case 13: a.seeds = keep + 29; want = DROPBLOCK_ERR_OVERLAP; break;
        default: a.h = INT_MIN; break;
        }
        expect_expand(a, want, v);
    }
    /* controls: valid, in place, and adjacent buffers are fine */
    a = ok;
    assert_int_equal(dropblock_expand_mask(a.seeds, a.h, a.w, a.bh, a.bw, a.keep), DROPBLOCK_OK);
    assert_int_equal(dropblock_expand_mask(seeds, 5, 6, 3, 0, seeds), DROPBLOCK_OK);
    assert_int_equal(dropblock_expand_mask(seeds, 5, 6, 3, 0, seeds + 30), DROPBLOCK_OK);
}

/* ---- status codes -------------------------------------------------------------- */

static void test_status_strings(void **state) {
    static const dropblock_status codes[] = {
        DROPBLOCK_OK, DROPBLOCK_ERR_NULL, DROPBLOCK_ERR_SHAPE, DROPBLOCK_ERR_OVERFLOW, DROPBLOCK_ERR_KEEP_PROB,
        DROPBLOCK_ERR_BLOCK, DROPBLOCK_ERR_FLAGS, DROPBLOCK_ERR_SCALE, DROPBLOCK_ERR_LAYOUT, DROPBLOCK_ERR_OVERLAP,
        DROPBLOCK_ERR_OUT_OF_MEMORY, DROPBLOCK_ERR_WORKSPACE, DROPBLOCK_ERR_RANGE, DROPBLOCK_ERR_KEPT,
        DROPBLOCK_ERR_DTYPE, DROPBLOCK_ERR_STRIDE, DROPBLOCK_ERR_PART, DROPBLOCK_ERR_DEVICE,
    };
    static const int unknown[] = {1, 2, -18, -100, 100, INT_MAX, INT_MIN};
    const size_t n = sizeof codes / sizeof codes[0];
    size_t i, j;
    (void)state;
    assert_int_equal(DROPBLOCK_OK, 0);
    for (i = 0; i < n; ++i) {
        const char *s = dropblock_status_string(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, "unknown status");
        if (i > 0) assert_true((int)codes[i] < 0);
        for (j = 0; j < i; ++j) {
            assert_int_not_equal(codes[i], codes[j]);
            assert_string_not_equal(s, dropblock_status_string(codes[j]));
        }
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; ++i)
        assert_string_equal(dropblock_status_string((dropblock_status)unknown[i]), "unknown status");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_calls_succeed),
        cmocka_unit_test(test_null_pointers),
        cmocka_unit_test(test_bad_dimensions),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_overlaps),
        cmocka_unit_test(test_workspace_too_small),
        cmocka_unit_test(test_bad_sample_range),
        cmocka_unit_test(test_inconsistent_total_kept),
        cmocka_unit_test(test_expand_mask_errors),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
