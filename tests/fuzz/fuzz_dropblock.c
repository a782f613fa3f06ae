/* libFuzzer target for dropblock.h: decodes bytes into a shape, a config
   (invalid values included), a buffer arrangement and data, calls every
   public entry point and abort()s when the contract (the header's top comment) is broken.

   Input layout (fuzz_decode; missing bytes read as 0; make_corpus.py is
   the matching encoder):
     mode     bit 0: 3-D; 1: flags as 4 raw bytes; 2: step as 8 bytes;
              3: range bounds as 4-byte ints; 4: an explicit total_kept
     dims     n [d] h w c, one byte each (rd_dim: small, or edge values)
     config   keep_prob, block_h, block_w, block_d, flags, scale, layout
              (raw ints through memcpy), seed[8], step
     arr[8]   0: y separate / in place / after x / before x / NULL y / NULL x
              1: overlap offset   2: keep NULL / separate / in x / in y
              3: keep offset, expand_mask buffers   4: workspace exact /
              small / NULL / roomy / in x   5, 6: sizes, misalignment, ramp
              7: low nibble 15 cfg NULL, 1 full range, 2 kept NULL;
                 high nibble: the entry point (enum call_kind)
     n0, n1, total_kept, then the data of x and of the expand_mask seeds.

   Small valid shapes (<= FUZZ_MAX_ELEMS) run for real against a reference
   call; huge or invalid shapes only make calls that the contract says must
   fail, on small dummy buffers, so a missed check shows up as a sanitizer
   report instead of a huge allocation.

   The tensor API runs on the same cases against the 1.x
   reference, with its choices (dtype, strides of x and y, in place,
   n_offset windows, build and apply parts and their order) drawn from a
   hash of the whole input, so the layout above is unchanged. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "../tensor_util.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_ELEMS 65536u
#define FUZZ_DUMMY_BYTES 256u
/* The exact-rate functions run for real on maps up to FUZZ_MAX_AXIS a
   side (their cost grows with min(block, map - block + 1) per axis), and
   are compared with the brute-force reference up to FUZZ_MAX_MAP_CELLS. */
#define FUZZ_MAX_AXIS 4096
#define FUZZ_MAX_MAP_CELLS 4096u
#define FUZZ_KNOWN_FLAGS                                                                                      \
    (DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SHARE_BATCH | DROPBLOCK_SEED_ANYWHERE | DROPBLOCK_EXACT_RATE |       \
     DROPBLOCK_FILL_NOISE)

/* abort() with the failed condition and the decoded case as a message. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __LINE__))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, int line);

/* ---- reading the input ------------------------------------------------ */

typedef struct reader { const uint8_t *p; size_t n; } reader;

static uint8_t rd_u8(reader *r) {
    if (!r->n) return 0;
    --r->n;
    return *r->p++;
}

static uint64_t rd_bytes(reader *r, unsigned count) {
    uint64_t v = 0;
    unsigned k;
    for (k = 0; k < count; ++k) v |= (uint64_t)rd_u8(r) << (8 * k);
    return v;
}

static int32_t rd_i32(reader *r) {
    uint32_t u = (uint32_t)rd_bytes(r, 4);
    int32_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Mostly small sizes; the top of the byte range picks edge values. */
static int rd_dim(reader *r) {
    static const int special[] = {0, -1, INT_MIN, INT_MAX, INT_MAX - 1, 65536, 1 << 20, 46341,
                                  1 << 30, 3, 100000, 2};
    uint8_t b = rd_u8(r);
    if (b < 128) return 1 + b % 8;
    if (b < 224) return 1 + (b - 128);
    if (b < 224 + sizeof special / sizeof *special) return special[b - 224];
    return rd_i32(r);
}

static int rd_block(reader *r) {
    static const int special[] = {-1, INT_MIN, INT_MAX, 1 << 20};
    uint8_t b = rd_u8(r);
    if (b < 200) return b % 10;
    if (b < 240) return 10 + (b - 200);
    if (b < 240 + sizeof special / sizeof *special) return special[b - 240];
    return rd_i32(r);
}

static float rd_keep_prob(reader *r) {
    static const float nice[] = {0.9f, 1.0f, 0.0f, 0.5f, 0.1f, 0.75f, 0.25f, 0.99f,
                                 0.01f, 1e-30f, 0.999999f, 0.3f, 0.6f, 0.05f, 0.95f, 0.8f};
    uint8_t b = rd_u8(r);
    uint32_t bits;
    float f;
    if (b < 64) return nice[b % 16];
    if (b < 192) return (float)(b - 64) / 127.0f;
    bits = (uint32_t)rd_bytes(r, 4);
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Enum fields get raw ints through memcpy, so unknown values reach the library. */
static void set_enum(void *field, size_t field_size, int32_t v) {
    memcpy(field, &v, field_size < sizeof v ? field_size : sizeof v);
}

static int32_t rd_enum(reader *r, int count) {
    uint8_t b = rd_u8(r);
    return b < 240 ? b % count : rd_i32(r);
}

static float rd_value(reader *r, size_t k) {
    uint8_t b;
    uint32_t bits;
    float f;
    if (!r->n) return (float)(k % 13) - 6.0f;
    b = rd_u8(r);
    if (b < 240) return (float)((int)b - 120) * 0.25f;
    bits = (uint32_t)rd_bytes(r, 4);
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---- the documented generator, written independently ------------------- */

static uint64_t gen_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

#define GEN_G UINT64_C(0x9E3779B97F4A7C15)

static uint64_t gen_key(uint64_t seed, uint64_t stream) { return gen_mix(gen_mix(seed + GEN_G) ^ stream); }

static uint64_t gen_at(uint64_t key, uint64_t k) { return gen_mix(key + (k + 1) * GEN_G); }

static uint64_t gen_word(uint64_t seed, uint64_t stream, uint64_t k) { return gen_at(gen_key(seed, stream), k); }

/* Draw L of the group whose words start at c: U has bit 31-k = bit L of word c+k. */
static int gen_bernoulli(uint64_t seed, uint64_t stream, uint64_t c, unsigned lane, double p) {
    uint32_t u = 0;
    uint64_t t;
    unsigned k;
    if (!(p > 0.0)) return 0;
    if (p >= 1.0) return 1;
    t = (uint64_t)(p * 4294967296.0);
    for (k = 0; k < 32; ++k) u |= (uint32_t)((gen_word(seed, stream, c + k) >> lane) & 1u) << (31 - k);
    return u < t;
}

/* FILL_NOISE value of the element with NHWC-order logical index e: the
   header's Box-Muller value (its own ln, sqrt and cos fix the last bits;
   test_extras checks them against libm) on the noise stream, whose key is
   derived here from the documentation. */
static float gen_noise(uint64_t seed, uint64_t step, uint64_t e) {
    return dropblock__noise(gen_mix(gen_key(seed, step) ^ UINT64_C(0x6A09E667F3BCC909)), (size_t)e);
}
/* ---- the case ------------------------------------------------------------ */

enum call_kind { K_FWD, K_BWD, K_FWD_WS, K_BWD_WS, K_FWD3, K_BWD3, K_COUNT, K_FRANGE, K_BRANGE, K_KINDS };

typedef struct fuzz_case {
    int is3d;
    dropblock_shape3d shape;
    dropblock_config cfg;
    uint64_t step;
    uint8_t arr[8];   /* arrangement bytes                 */
    int n0, n1;       /* a fuzzed range                    */
    uint64_t total_kept;
    reader data;
    int shape_err;    /* my own count: 0, SHAPE or OVERFLOW */
    size_t total;     /* elements, when shape_err == 0      */
    uint64_t knobs;   /* hash of the input: the tensor path */
} fuzz_case;

/* The case and call being run, for the failure message. */
static const fuzz_case *fuzz_current;
static int fuzz_kind = -1, fuzz_status;
static unsigned fuzz_want;

static void fuzz_fail(const char *what, int line) {
    const fuzz_case *fc = fuzz_current;
    fprintf(stderr, "fuzz_dropblock.c:%d: contract violated: %s\n", line, what);
    if (fc) {
        uint32_t kp, scale, layout;
        memcpy(&kp, &fc->cfg.keep_prob, sizeof kp);
        memcpy(&scale, &fc->cfg.scale, sizeof scale);
        memcpy(&layout, &fc->cfg.layout, sizeof layout);
        fprintf(stderr,
                "  case: %s shape n=%d d=%d h=%d w=%d c=%d; keep_prob=%.9g (0x%08x) block h=%d w=%d d=%d "
                "flags=0x%x scale=%u layout=%u seed=0x%llx step=%llu; arr=%u,%u,%u,%u,%u,%u,%u,%u "
                "range=[%d,%d) total_kept=%llu\n",
                fc->is3d ? "3-D" : "2-D", fc->shape.n, fc->shape.d, fc->shape.h, fc->shape.w, fc->shape.c,
                (double)fc->cfg.keep_prob, kp, fc->cfg.block_h, fc->cfg.block_w, fc->cfg.block_d, fc->cfg.flags,
                scale, layout, (unsigned long long)fc->cfg.seed, (unsigned long long)fc->step, fc->arr[0],
                fc->arr[1], fc->arr[2], fc->arr[3], fc->arr[4], fc->arr[5], fc->arr[6], fc->arr[7], fc->n0, fc->n1,
                (unsigned long long)fc->total_kept);
        fprintf(stderr, "  last call: kind %d, predicted error bits 0x%x, status %d\n", fuzz_kind, fuzz_want,
                fuzz_status);
    }
    abort();
}

static dropblock_shape to2d(dropblock_shape3d s) {
    dropblock_shape r;
    r.n = s.n; r.h = s.h; r.w = s.w; r.c = s.c;
    return r;
}

/* acc *= factor unless the product would pass limit; 0 then. */
static int grow_within(size_t *acc, int factor, size_t limit) {
    if (*acc > limit / (size_t)factor) return 0;
    *acc *= (size_t)factor;
    return 1;
}

/* The status the header demands of a shape, derived here on its own terms:
   a dimension below 1 is SHAPE; otherwise the byte size of the tensor
   (which bounds the element count too) must be representable. */
static int shape_status(dropblock_shape3d s, size_t *total) {
    const size_t limit = SIZE_MAX / sizeof(float);
    size_t elems = 1;
    if (s.n < 1 || s.d < 1 || s.h < 1 || s.w < 1 || s.c < 1) return DROPBLOCK_ERR_SHAPE;
    if (!(grow_within(&elems, s.n, limit) && grow_within(&elems, s.d, limit) && grow_within(&elems, s.h, limit) &&
          grow_within(&elems, s.w, limit) && grow_within(&elems, s.c, limit)))
        return DROPBLOCK_ERR_OVERFLOW;
    *total = elems;
    return DROPBLOCK_OK;
}

static void fuzz_decode(const uint8_t *data, size_t size, fuzz_case *fc) {
    reader r;
    unsigned k;
    uint8_t mode;
    r.p = data; r.n = size;
    memset(fc, 0, sizeof *fc);
    mode = rd_u8(&r);
    fc->is3d = mode & 1;
    fc->shape.n = rd_dim(&r);
    fc->shape.d = fc->is3d ? rd_dim(&r) : 1;
    fc->shape.h = rd_dim(&r);
    fc->shape.w = rd_dim(&r);
    fc->shape.c = rd_dim(&r);
    fc->cfg.keep_prob = rd_keep_prob(&r);
    fc->cfg.block_h = rd_block(&r);
    fc->cfg.block_w = rd_block(&r);
    fc->cfg.block_d = rd_block(&r);
    fc->cfg.flags = (mode & 2) ? (uint32_t)rd_bytes(&r, 4) : rd_u8(&r) & 7u;
    set_enum(&fc->cfg.scale, sizeof fc->cfg.scale, rd_enum(&r, 4));
    set_enum(&fc->cfg.layout, sizeof fc->cfg.layout, rd_enum(&r, 2));
    fc->cfg.seed = rd_bytes(&r, 8);
    fc->step = (mode & 4) ? rd_bytes(&r, 8) : rd_u8(&r);
    for (k = 0; k < sizeof fc->arr; ++k) fc->arr[k] = rd_u8(&r);
    fc->n0 = (mode & 8) ? rd_i32(&r) : (int)rd_u8(&r) - 2;
    fc->n1 = (mode & 8) ? rd_i32(&r) : (int)rd_u8(&r) - 2;
    fc->total_kept = (mode & 16) ? rd_bytes(&r, 8) : UINT64_MAX; /* MAX: use the true count */
    fc->data = r;
    fc->shape_err = shape_status(fc->shape, &fc->total);
}

/* ---- contract predicates ------------------------------------------------- */

#define ERRBIT(st) (1u << (unsigned)(-(int)(st)))

static int is_documented(dropblock_status st) {
    return st <= DROPBLOCK_OK && st >= DROPBLOCK_ERR_KEPT;
}

static unsigned config_errors(const dropblock_config *cfg) {
    unsigned e = 0;
    int32_t scale, layout;
    memcpy(&scale, &cfg->scale, sizeof scale);
    memcpy(&layout, &cfg->layout, sizeof layout);
    if (!(cfg->keep_prob >= 0.0f && cfg->keep_prob <= 1.0f)) e |= ERRBIT(DROPBLOCK_ERR_KEEP_PROB);
    if (cfg->block_h < 1 || cfg->block_w < 0 || cfg->block_d < 0) e |= ERRBIT(DROPBLOCK_ERR_BLOCK);
    if (cfg->flags & ~(unsigned)FUZZ_KNOWN_FLAGS) e |= ERRBIT(DROPBLOCK_ERR_FLAGS);
    if (scale < 0 || scale > 3) e |= ERRBIT(DROPBLOCK_ERR_SCALE);
    if (layout < 0 || layout > 1) e |= ERRBIT(DROPBLOCK_ERR_LAYOUT);
    return e;
}

/* [a, a+na) and [b, b+nb) intersect; differences, not sums, so no wrap. */
static int ranges_meet(const void *a, size_t na, const void *b, size_t nb) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    if (!a || !b || !na || !nb) return 0;
    return pb >= pa ? pb - pa < na : pa - pb < nb;
}

static int is_range_kind(int kind) { return kind == K_COUNT || kind == K_FRANGE || kind == K_BRANGE; }
static int is_ws_kind(int kind) { return kind != K_FWD && kind != K_BWD; }
static int is_bwd_kind(int kind) { return kind == K_BWD || kind == K_BWD_WS || kind == K_BWD3 || kind == K_BRANGE; }

/* One call of a forward/backward-like entry point. */
typedef struct call {
    int kind;
    const dropblock_config *cfg;
    dropblock_shape3d shape;
    uint64_t step;
    const float *x;
    float *y;
    uint8_t *keep;
    void *ws;
    size_t ws_bytes;
    int n0, n1;
    uint64_t total_kept;
    uint64_t *kept;
} call;

static dropblock_status invoke(const call *c) {
    dropblock_shape s2 = to2d(c->shape);
    switch (c->kind) {
    case K_FWD: return dropblock_forward(c->cfg, s2, c->step, c->x, c->y, c->keep);
    case K_BWD: return dropblock_backward(c->cfg, s2, c->step, c->x, c->y);
    case K_FWD_WS: return dropblock_forward_ws(c->cfg, s2, c->step, c->x, c->y, c->keep, c->ws, c->ws_bytes);
    case K_BWD_WS: return dropblock_backward_ws(c->cfg, s2, c->step, c->x, c->y, c->ws, c->ws_bytes);
    case K_FWD3: return dropblock_forward3d(c->cfg, c->shape, c->step, c->x, c->y, c->keep, c->ws, c->ws_bytes);
    case K_BWD3: return dropblock_backward3d(c->cfg, c->shape, c->step, c->x, c->y, c->ws, c->ws_bytes);
    case K_COUNT:
        return dropblock_count_kept(c->cfg, s2, c->step, c->n0, c->n1, c->ws, c->ws_bytes, c->kept);
    case K_FRANGE:
        return dropblock_forward_range(c->cfg, s2, c->step, c->n0, c->n1, c->total_kept, c->x, c->y, c->keep,
                                       c->ws, c->ws_bytes);
    default:
        return dropblock_backward_range(c->cfg, s2, c->step, c->n0, c->n1, c->total_kept, c->x, c->y, c->ws,
                                        c->ws_bytes);
    }
}

/* Workspace the library must accept for elems elements of one call. */
static size_t ws_need(dropblock_shape3d s) {
    size_t bytes = 0;
    FUZZ_CHECK(dropblock_workspace_size3d(s, &bytes) == DROPBLOCK_OK);
    return bytes;
}

static dropblock_shape3d range_shape(const call *c) {
    dropblock_shape3d s = c->shape;
    if (is_range_kind(c->kind)) s.n = c->n1 - c->n0;
    return s;
}

/* The errors the contract demands for this call; range_kept is the true
   kept count of the range (only consulted for K_FRANGE/K_BRANGE). */
static unsigned predict(const call *c, uint64_t range_kept) {
    unsigned e = 0;
    size_t total = 0;
    int shape_err = shape_status(c->shape, &total);
    int has_tensors = c->kind != K_COUNT;
    int range_bad = 0;
    if (!c->cfg) e |= ERRBIT(DROPBLOCK_ERR_NULL);
    else e |= config_errors(c->cfg);
    if (has_tensors && (!c->x || !c->y)) e |= ERRBIT(DROPBLOCK_ERR_NULL);
    if (is_ws_kind(c->kind) && !c->ws) e |= ERRBIT(DROPBLOCK_ERR_NULL);
    if (c->kind == K_COUNT && !c->kept) e |= ERRBIT(DROPBLOCK_ERR_NULL);
    if (shape_err) return e | ERRBIT(shape_err);
    if (is_range_kind(c->kind) && (c->n0 < 0 || c->n0 >= c->n1 || c->n1 > c->shape.n)) {
        e |= ERRBIT(DROPBLOCK_ERR_RANGE);
        range_bad = 1;
    }
    if (has_tensors) {
        size_t bytes = total * sizeof(float);
        if ((c->x != c->y && ranges_meet(c->x, bytes, c->y, bytes)) || ranges_meet(c->keep, total, c->x, bytes) ||
            ranges_meet(c->keep, total, c->y, bytes))
            e |= ERRBIT(DROPBLOCK_ERR_OVERLAP);
        if (is_ws_kind(c->kind) && (ranges_meet(c->ws, c->ws_bytes, c->x, bytes) || ranges_meet(c->ws, c->ws_bytes, c->y, bytes) ||
                      ranges_meet(c->ws, c->ws_bytes, c->keep, total)))
            e |= ERRBIT(DROPBLOCK_ERR_OVERLAP);
    }
    if (is_ws_kind(c->kind) && c->ws && !range_bad && c->ws_bytes < ws_need(range_shape(c)))
        e |= ERRBIT(DROPBLOCK_ERR_WORKSPACE);
    /* total_kept matters only where the batch scale is in effect: FILL_NOISE
       rescales nothing, so it ignores total_kept like the other modes */
    if ((c->kind == K_FRANGE || c->kind == K_BRANGE) && !e && c->cfg->scale == DROPBLOCK_SCALE_BATCH &&
        !(c->cfg->flags & DROPBLOCK_FILL_NOISE) && (c->total_kept < range_kept || c->total_kept > total))
        e |= ERRBIT(DROPBLOCK_ERR_KEPT);
    return e;
}

/* ---- buffers ---------------------------------------------------------------- */

/* A malloc'd block whose usable part [p, p+bytes) ends exactly at the end
   of the allocation, so an overrun is an ASan report; misalign shifts p. */
typedef struct block { unsigned char *base; void *p; size_t bytes; } block;

static block block_make(size_t bytes, unsigned misalign) {
    block b;
    b.base = (unsigned char *)malloc(bytes + misalign + 1);
    FUZZ_CHECK(b.base != NULL);
    b.p = b.base + misalign;
    b.bytes = bytes;
    memset(b.base, 0xA5, bytes + misalign + 1);
    return b;
}

static void block_free(block *b) { free(b->base); }

static int same_float(float a, float b) {
    return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b);
}

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

static int is_pos_zero(float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits == 0;
}

/* ---- the real path ------------------------------------------------------------ */

/* What one valid call must produce, from trusted-by-contract calls on
   separate buffers: y, the keep mask, the scale field (backward of an
   all-ones dy: s where kept, +0 where dropped) and g, backward of dy = x. */
typedef struct reference {
    float *x, *y, *s, *g;
    uint8_t *k;
    size_t kept;
} reference;

static size_t elem_index(const fuzz_case *fc, int layout, size_t n, size_t z, size_t i, size_t j, size_t c) {
    const dropblock_shape3d *s = &fc->shape;
    if (layout == DROPBLOCK_NHWC) return (((n * (size_t)s->d + z) * (size_t)s->h + i) * (size_t)s->w + j) * (size_t)s->c + c;
    return (((n * (size_t)s->c + c) * (size_t)s->d + z) * (size_t)s->h + i) * (size_t)s->w + j;
}

/* Runs forward (or backward when bwd) through the 2-D allocating API or,
   for 3-D cases, forward3d with an exact workspace. */
static dropblock_status run_plain(const fuzz_case *fc, const dropblock_config *cfg, int bwd, const float *x,
                                  float *y, uint8_t *keep) {
    call c;
    dropblock_status st;
    block ws = block_make(ws_need(fc->shape), 3);
    memset(&c, 0, sizeof c);
    c.kind = fc->is3d ? (bwd ? K_BWD3 : K_FWD3) : (bwd ? K_BWD : K_FWD);
    c.cfg = cfg; c.shape = fc->shape; c.step = fc->step;
    c.x = x; c.y = y; c.keep = bwd ? NULL : keep; c.ws = ws.p; c.ws_bytes = ws.bytes;
    st = invoke(&c);
    block_free(&ws);
    return st;
}

static int fills_noise(const fuzz_case *fc) { return (fc->cfg.flags & DROPBLOCK_FILL_NOISE) != 0; }

/* The NHWC-order logical index of storage index e, which numbers noise. */
static uint64_t logical_index(const fuzz_case *fc, size_t e) {
    size_t plane = (size_t)fc->shape.d * (size_t)fc->shape.h * (size_t)fc->shape.w, ch = (size_t)fc->shape.c;
    if (fc->cfg.layout == DROPBLOCK_NHWC) return e;
    return (e / (plane * ch) * plane + e % plane) * ch + e / plane % ch;
}

/* A dropped element: +0, or under FILL_NOISE its value of the noise stream
   (finite, |z| <= 8.58). */
static void check_dropped(const fuzz_case *fc, float v, size_t e) {
    if (!fills_noise(fc)) {
        FUZZ_CHECK(is_pos_zero(v));
        return;
    }
    FUZZ_CHECK(v >= -8.58f && v <= 8.58f);
    FUZZ_CHECK(same_bits(v, gen_noise(fc->cfg.seed, fc->step, logical_index(fc, e))));
}

/* Every kept element of [e0, e1) scaled by one s per group (the tensor, or
   a sample under SCALE_SAMPLE; s = 1 under FILL_NOISE), copied bit for bit
   when s == 1; every dropped one as check_dropped; returns the kept count. */
static size_t check_output(const fuzz_case *fc, const reference *ref, const float *y, size_t e0, size_t e1) {
    size_t sample = fc->total / (size_t)fc->shape.n, e, kept = 0;
    float s = 0.0f;
    int have_s = 0;
    for (e = e0; e < e1; ++e) {
        if (fc->cfg.scale == DROPBLOCK_SCALE_SAMPLE && e % sample == 0) have_s = 0;
        FUZZ_CHECK(ref->k[e] <= 1);
        if (!ref->k[e]) {
            check_dropped(fc, y[e], e);
            FUZZ_CHECK(is_pos_zero(ref->s[e]));
            continue;
        }
        ++kept;
        if (!have_s) { s = ref->s[e]; have_s = 1; }
        FUZZ_CHECK(same_float(ref->s[e], s));
        FUZZ_CHECK(s > 0.0f && s <= 4294967296.0f);
        FUZZ_CHECK(same_float(y[e], ref->x[e] * s));
        FUZZ_CHECK(s != 1.0f || same_bits(y[e], ref->x[e]));
        FUZZ_CHECK(!fills_noise(fc) || s == 1.0f);
    }
    return kept;
}

/* s against its definition (THE MATH) where it is a count ratio; when no
   seed can occur, and under FILL_NOISE, the header fixes s = 1 whatever
   the count. */
static void check_scale_values(const fuzz_case *fc, const reference *ref, double all, size_t e0, size_t e1,
                               uint64_t kept, int no_seed) {
    size_t e;
    for (e = e0; e < e1; ++e) {
        double s = ref->s[e], want = all / (double)kept;
        if (!ref->k[e]) continue;
        if (fc->cfg.scale == DROPBLOCK_SCALE_NONE || no_seed || fills_noise(fc))
            FUZZ_CHECK(s == 1.0);
        else if (fc->cfg.scale == DROPBLOCK_SCALE_BATCH || fc->cfg.scale == DROPBLOCK_SCALE_SAMPLE)
            FUZZ_CHECK(fabs(s - want) <= 1e-6 * want);
        return; /* one s per group, already checked equal */
    }
}

/* gamma * 2^32 < 1: the header's "no seed can occur" (2-D shapes; the
   paper's gamma, or the exact-rate one under EXACT_RATE). */
static int no_seed_2d(const fuzz_case *fc) {
    double kp = (double)fc->cfg.keep_prob, g;
    if (fc->cfg.flags & DROPBLOCK_EXACT_RATE)
        g = dropblock_gamma_exact(kp, fc->cfg.block_h, fc->cfg.block_w, fc->shape.h, fc->shape.w, fc->cfg.flags);
    else
        g = dropblock_gamma(kp, fc->cfg.block_h, fc->cfg.block_w, fc->shape.h, fc->shape.w);
    return g * 4294967296.0 < 1.0;
}

/* The logical mask (and noise) is the same in NHWC and NCHW, and shared
   maps drop together. */
static void check_mask_structure(const fuzz_case *fc, const reference *ref) {
    const dropblock_shape3d *s = &fc->shape;
    dropblock_config other = fc->cfg;
    float *y = (float *)malloc(fc->total * sizeof(float));
    uint8_t *k = (uint8_t *)malloc(fc->total);
    size_t n, z, i, j, c;
    FUZZ_CHECK(y && k);
    other.layout = fc->cfg.layout == DROPBLOCK_NHWC ? DROPBLOCK_NCHW : DROPBLOCK_NHWC;
    FUZZ_CHECK(run_plain(fc, &other, 0, ref->s, y, k) == DROPBLOCK_OK);
    for (n = 0; n < (size_t)s->n; ++n)
        for (z = 0; z < (size_t)s->d; ++z)
            for (i = 0; i < (size_t)s->h; ++i)
                for (j = 0; j < (size_t)s->w; ++j)
                    for (c = 0; c < (size_t)s->c; ++c) {
                        size_t at = elem_index(fc, fc->cfg.layout, n, z, i, j, c);
                        size_t there = elem_index(fc, other.layout, n, z, i, j, c);
                        uint8_t here = ref->k[at];
                        FUZZ_CHECK(k[there] == here);
                        if (!here && fills_noise(fc)) FUZZ_CHECK(same_bits(y[there], ref->y[at]));
                        if (fc->cfg.flags & DROPBLOCK_SHARE_CHANNELS)
                            FUZZ_CHECK(ref->k[elem_index(fc, fc->cfg.layout, n, z, i, j, 0)] == here);
                        if (fc->cfg.flags & DROPBLOCK_SHARE_BATCH)
                            FUZZ_CHECK(ref->k[elem_index(fc, fc->cfg.layout, 0, z, i, j, c)] == here);
                    }
    free(y);
    free(k);
}

static void reference_free(reference *ref) {
    free(ref->x); free(ref->y); free(ref->s); free(ref->g); free(ref->k);
}

static void reference_build(const fuzz_case *fc, reference *ref) {
    size_t T = fc->total, e, sample = T / (size_t)fc->shape.n, n;
    float *ones = (float *)malloc(T * sizeof(float)), *again = (float *)malloc(T * sizeof(float));
    reader data = fc->data;
    ref->x = (float *)malloc(T * sizeof(float));
    ref->y = (float *)malloc(T * sizeof(float));
    ref->s = (float *)malloc(T * sizeof(float));
    ref->g = (float *)malloc(T * sizeof(float));
    ref->k = (uint8_t *)malloc(T);
    FUZZ_CHECK(ones && again && ref->x && ref->y && ref->s && ref->g && ref->k);
    for (e = 0; e < T; ++e) {
        ref->x[e] = rd_value(&data, e);
        ones[e] = 1.0f;
    }
    memset(ref->k, 7, T);
    FUZZ_CHECK(run_plain(fc, &fc->cfg, 0, ref->x, ref->y, ref->k) == DROPBLOCK_OK);
    FUZZ_CHECK(run_plain(fc, &fc->cfg, 1, ones, ref->s, NULL) == DROPBLOCK_OK);
    ref->kept = check_output(fc, ref, ref->y, 0, T);
    if (fc->cfg.scale == DROPBLOCK_SCALE_SAMPLE)
        for (n = 0; n < (size_t)fc->shape.n; ++n) {
            size_t kn = 0;
            for (e = n * sample; e < (n + 1) * sample; ++e) kn += ref->k[e];
            check_scale_values(fc, ref, (double)sample, n * sample, (n + 1) * sample, kn, 0);
        }
    else
        check_scale_values(fc, ref, (double)T, 0, T, ref->kept, 0);
    if (fc->cfg.keep_prob == 1.0f) {
        FUZZ_CHECK(memcmp(ref->y, ref->x, T * sizeof(float)) == 0);
        FUZZ_CHECK(ref->kept == T);
    }
    /* backward on dy = x is forward's map applied to x, without noise */
    FUZZ_CHECK(run_plain(fc, &fc->cfg, 1, ref->x, ref->g, NULL) == DROPBLOCK_OK);
    for (e = 0; e < T; ++e) FUZZ_CHECK(ref->k[e] ? same_bits(ref->g[e], ref->y[e]) : is_pos_zero(ref->g[e]));
    /* in place gives the same bits */
    memcpy(again, ref->x, T * sizeof(float));
    FUZZ_CHECK(run_plain(fc, &fc->cfg, 0, again, again, NULL) == DROPBLOCK_OK);
    FUZZ_CHECK(memcmp(again, ref->y, T * sizeof(float)) == 0);
    check_mask_structure(fc, ref);
    free(ones);
    free(again);
}

/* A range call's arena: x, y, keep in one block so any stray write to any
   of them, or between them, is seen by one memcmp. */
typedef struct arena {
    block mem;
    unsigned char *snapshot;
    float *x, *y;
    uint8_t *keep;
} arena;

/* Lays x, y and keep out in a fresh arena as arr[] says: y separate, in
   place, partially overlapping x either way, or NULL; keep NULL, separate
   or inside x or y at a byte offset. */
static void arena_make(arena *a, const fuzz_case *fc, const reference *ref, size_t elems, const uint8_t *arr) {
    size_t fbytes = elems * sizeof(float), off = 1 + arr[1] % elems, e;
    reader data = fc->data;
    unsigned char *base;
    /* room past x for a workspace of the documented size (E/8 + E/256 + 88)
       at up to 63 bytes in (ws_make) */
    a->mem = block_make(3 * fbytes + elems + 8 + elems / 8 + elems / 256 + 88 + 63, 0);
    base = (unsigned char *)a->mem.p;
    a->x = (float *)(void *)(base + fbytes);
    switch (arr[0] % 8) {
    case 0: case 1: a->y = (float *)(void *)(base + 2 * fbytes); break;
    case 2: case 3: a->y = a->x; break;
    case 4: a->y = a->x + off % elems; break;
    case 5: a->y = a->x - off; break;
    case 6: a->y = NULL; break;
    default: a->y = a->x; a->x = NULL; break;
    }
    switch (arr[2] % 6) {
    case 0: case 1: a->keep = NULL; break;
    case 2: case 3: a->keep = (uint8_t *)(base + 3 * fbytes + arr[3] % 8); break;
    case 4: a->keep = (uint8_t *)(base + fbytes) + arr[3] % fbytes; break;
    default: a->keep = a->y ? (uint8_t *)a->y + arr[3] % fbytes : NULL; break;
    }
    for (e = 0; e < elems; ++e) ((float *)(void *)(base + fbytes))[e] = ref ? ref->x[e] : rd_value(&data, e);
    a->snapshot = (unsigned char *)malloc(a->mem.bytes);
    FUZZ_CHECK(a->snapshot != NULL);
    memcpy(a->snapshot, a->mem.p, a->mem.bytes);
}

static void arena_free(arena *a) {
    block_free(&a->mem);
    free(a->snapshot);
}

static int arena_unchanged(const arena *a) { return memcmp(a->snapshot, a->mem.p, a->mem.bytes) == 0; }

/* Workspace for a call as arr[] says: exact, too small, NULL, roomy, or
   starting inside x (x_bytes long); any misalignment. */
static block ws_make(const call *c, size_t x_bytes, const uint8_t *arr, size_t need) {
    block b;
    size_t small = need > 1u + arr[5] ? need - 1u - arr[5] : 0;
    unsigned mis = arr[6] % 64; /* every offset of a cache line: the mask's rows start at the next 64-byte boundary */
    switch (arr[4] % 8) {
    case 0: case 1: case 2: return block_make(need, mis);
    case 3: return block_make(small, mis);
    case 4: b = block_make(0, 0); b.p = NULL; b.bytes = 0; return b;
    case 5: return block_make(need + arr[5], mis);
    default:
        b = block_make(0, 0);
        b.p = c->x ? (void *)((unsigned char *)c->x + mis % x_bytes) : NULL;
        b.bytes = need;
        return b;
    }
}

/* Expected arena after a successful call: y's touched elements and the mask
   from the reference, over the whole tensor or the call's sample range. */
static void expect_success(const call *c, const fuzz_case *fc, const reference *ref, const arena *a) {
    size_t sample = fc->total / (size_t)fc->shape.n;
    size_t e0 = is_range_kind(c->kind) ? (size_t)c->n0 * sample : 0;
    size_t e1 = is_range_kind(c->kind) ? (size_t)c->n1 * sample : fc->total;
    unsigned char *want = (unsigned char *)malloc(a->mem.bytes);
    unsigned char *base = (unsigned char *)a->mem.p;
    FUZZ_CHECK(want != NULL);
    memcpy(want, a->snapshot, a->mem.bytes);
    memcpy(want + ((unsigned char *)(c->y + e0) - base), (is_bwd_kind(c->kind) ? ref->g : ref->y) + e0,
           (e1 - e0) * sizeof(float));
    if (c->keep) memcpy(want + (c->keep + e0 - base), ref->k + e0, e1 - e0);
    FUZZ_CHECK(memcmp(want, base, a->mem.bytes) == 0);
    free(want);
}

/* A range call whose total_kept is not the true sum still scales every kept
   element by T / total_kept; the scale field comes from backward_range on ones. */
static void expect_rescaled(const call *c, const fuzz_case *fc, const reference *ref) {
    size_t sample = fc->total / (size_t)fc->shape.n, e0 = (size_t)c->n0 * sample, e1 = (size_t)c->n1 * sample, e;
    float *ones = (float *)malloc(fc->total * sizeof(float)), *sfield = (float *)malloc(fc->total * sizeof(float));
    reference r2 = *ref;
    call b = *c;
    block ws = block_make(c->ws_bytes, 1);
    FUZZ_CHECK(ones && sfield);
    for (e = 0; e < fc->total; ++e) ones[e] = 1.0f;
    b.kind = K_BRANGE; b.x = ones; b.y = sfield; b.keep = NULL; b.ws = ws.p;
    FUZZ_CHECK(invoke(&b) == DROPBLOCK_OK);
    r2.s = sfield;
    check_output(fc, &r2, c->y, e0, e1);
    check_scale_values(fc, &r2, (double)fc->total, e0, e1, c->total_kept, no_seed_2d(fc));
    block_free(&ws);
    free(ones);
    free(sfield);
}

/* The fuzz-chosen call with a fuzz-chosen arrangement: errors exactly as
   predicted and nothing written, or the reference's result and nothing
   else written. */
static void run_arranged(const fuzz_case *fc, const reference *ref, int kind, const uint8_t *arr) {
    arena a;
    call c;
    block ws;
    uint64_t kept = UINT64_MAX;
    unsigned want;
    dropblock_status st;
    int use_true_kept = fc->total_kept == UINT64_MAX;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.cfg = (arr[7] % 16 == 15) ? NULL : &fc->cfg;
    c.shape = fc->shape; c.step = fc->step;
    c.n0 = fc->n0; c.n1 = fc->n1;
    if (arr[7] % 16 == 1) { c.n0 = 0; c.n1 = fc->shape.n; }
    arena_make(&a, fc, ref, fc->total, arr);
    c.x = a.x; c.y = a.y;
    c.keep = is_bwd_kind(kind) || kind == K_COUNT ? NULL : a.keep;
    c.kept = (arr[7] % 16 == 2) ? NULL : &kept;
    ws = ws_make(&c, fc->total * sizeof(float), arr, (is_range_kind(kind) && c.n1 > c.n0 && c.n0 >= 0 && c.n1 <= fc->shape.n)
                                   ? ws_need(range_shape(&c)) : ws_need(fc->shape));
    c.ws = ws.p; c.ws_bytes = ws.bytes;
    {
        uint64_t range_kept = 0;
        size_t sample = fc->total / (size_t)fc->shape.n, e;
        if (ref && c.n0 >= 0 && c.n0 < c.n1 && c.n1 <= fc->shape.n)
            for (e = (size_t)c.n0 * sample; e < (size_t)c.n1 * sample; ++e) range_kept += ref->k[e];
        c.total_kept = use_true_kept ? (ref ? ref->kept : 0) : fc->total_kept;
        fuzz_want = want = predict(&c, range_kept);
        fuzz_kind = kind;
        fuzz_status = st = invoke(&c);
        FUZZ_CHECK(is_documented(st));
        if (want) {
            FUZZ_CHECK(st != DROPBLOCK_OK && (want & ERRBIT(st)));
            FUZZ_CHECK(arena_unchanged(&a));
        } else {
            FUZZ_CHECK(st == DROPBLOCK_OK && ref != NULL);
            if (kind == K_COUNT) {
                FUZZ_CHECK(kept == range_kept);
            } else if ((kind == K_FRANGE || kind == K_BRANGE) && fc->cfg.scale == DROPBLOCK_SCALE_BATCH &&
                       !fills_noise(fc) && c.total_kept != ref->kept) {
                expect_rescaled(&c, fc, ref);
            } else {
                expect_success(&c, fc, ref, &a);
            }
        }
    }
    block_free(&ws);
    arena_free(&a);
}

/* forward_range over the split [0, m) + [m, n) (one part when n == 1),
   with kept numbers from count_kept, equals one call. */
static void check_split(const fuzz_case *fc, const reference *ref, int m) {
    dropblock_shape s2 = to2d(fc->shape);
    size_t sample = fc->total / (size_t)fc->shape.n;
    float *y = (float *)malloc(fc->total * sizeof(float));
    uint8_t *k = (uint8_t *)malloc(fc->total);
    uint64_t kept = 0, part_kept;
    int parts = fc->shape.n > 1 ? 2 : 1, bounds[3], part;
    bounds[0] = 0; bounds[1] = parts == 2 ? m : fc->shape.n; bounds[2] = fc->shape.n;
    FUZZ_CHECK(y && k);
    memset(y, 0x5A, fc->total * sizeof(float));
    for (part = 0; part < parts; ++part) {
        dropblock_shape3d rs = fc->shape;
        block ws;
        rs.n = bounds[part + 1] - bounds[part];
        ws = block_make(ws_need(rs), (unsigned)part * 5);
        FUZZ_CHECK(dropblock_count_kept(&fc->cfg, s2, fc->step, bounds[part], bounds[part + 1], ws.p, ws.bytes,
                                        &part_kept) == DROPBLOCK_OK);
        kept += part_kept;
        block_free(&ws);
    }
    FUZZ_CHECK(kept == ref->kept);
    for (part = 0; part < parts; ++part) {
        dropblock_shape3d rs = fc->shape;
        size_t e0 = (size_t)bounds[part] * sample, len = (size_t)(bounds[part + 1] - bounds[part]) * sample;
        block ws;
        rs.n = bounds[part + 1] - bounds[part];
        ws = block_make(ws_need(rs), 7 - (unsigned)part);
        FUZZ_CHECK(dropblock_forward_range(&fc->cfg, s2, fc->step, bounds[part], bounds[part + 1], kept, ref->x, y,
                                           k, ws.p, ws.bytes) == DROPBLOCK_OK);
        FUZZ_CHECK(memcmp(y + e0, ref->y + e0, len * sizeof(float)) == 0);
        FUZZ_CHECK(memcmp(k + e0, ref->k + e0, len) == 0);
        FUZZ_CHECK(dropblock_backward_range(&fc->cfg, s2, fc->step, bounds[part], bounds[part + 1], kept, ref->x, y,
                                            ws.p, ws.bytes) == DROPBLOCK_OK);
        FUZZ_CHECK(memcmp(y + e0, ref->g + e0, len * sizeof(float)) == 0);
        block_free(&ws);
    }
    free(y);
    free(k);
}

/* ---- the tensor API ----------------------------------------------------------- */

#define FUZZ_MAX_TENSOR_ELEMS 16384u
#define FUZZ_MAX_WINDOWS 4

/* The 1.x reference's storage index of the element with logical NDHWC index e. */
static size_t ref_storage(const fuzz_case *fc, size_t e) {
    const dropblock_shape3d *s = &fc->shape;
    size_t c = e % (size_t)s->c, r = e / (size_t)s->c, j = r % (size_t)s->w, i, z;
    r /= (size_t)s->w;
    i = r % (size_t)s->h;
    r /= (size_t)s->h;
    z = r % (size_t)s->d;
    return elem_index(fc, fc->cfg.layout, r / (size_t)s->d, z, i, j, c);
}

/* The calling thread as an executor, parts in a shuffled order. */
static void fuzz_parallel_for(void *pool, dropblock_task_fn fn, void *task, int parts) {
    int *order = (int *)malloc((size_t)parts * sizeof(int)), k;
    FUZZ_CHECK(order != NULL);
    tt_shuffle((tu_prng *)pool, order, parts);
    for (k = 0; k < parts; ++k) fn(task, order[k], parts);
    free(order);
}

static int pick_parts(tu_prng *r, const fuzz_case *fc) {
    static const int fixed[] = {1, 2, 3, 7, 64};
    unsigned k = tu_prng_below(r, 6);
    return k < 5 ? fixed[k] : fc->shape.n * fc->shape.d * fc->shape.h + 1 + (int)tu_prng_below(r, 4);
}

/* The double scale F64 applies to kept elements of sample n (THE MATH):
   T / Kept or S / Kept_n in double, the mask's own 1 / E for EXPECTED. */
static double f64_scale(const fuzz_case *fc, const reference *ref, size_t n, double expected) {
    size_t sample = fc->total / (size_t)fc->shape.n, kn = 0, e;
    if (fills_noise(fc) || fc->cfg.scale == DROPBLOCK_SCALE_NONE) return 1.0;
    if (fc->cfg.scale == DROPBLOCK_SCALE_EXPECTED) return expected;
    if (fc->cfg.scale == DROPBLOCK_SCALE_BATCH) return ref->kept ? (double)fc->total / (double)ref->kept : 0.0;
    for (e = n * sample; e < (n + 1) * sample; ++e) kn += ref->k[ref_storage(fc, e)];
    return kn ? (double)sample / (double)kn : 0.0; /* 0: nothing kept, never applied */
}

/* An F64 contiguous call against the reference; returns its output (the
   double noise where dropped under FILL_NOISE) and the per-sample scale. */
static double *f64_expectations(const fuzz_case *fc, const reference *ref, const dropblock_config *cfg,
                                double *scale) {
    const dropblock_shape3d *s = &fc->shape;
    size_t T = fc->total, sample = T / (size_t)s->n, e;
    double *x = (double *)malloc(T * sizeof(double)), *y = (double *)malloc(T * sizeof(double));
    dropblock_tensor tx = tt_ndhwc(x, DROPBLOCK_F64, s->n, s->d, s->h, s->w, s->c), ty = tx;
    dropblock_stats st;
    FUZZ_CHECK(x && y);
    ty.data = y;
    for (e = 0; e < T; ++e) x[e] = (double)ref->x[ref_storage(fc, e)];
    FUZZ_CHECK(dropblock_forward_tensor(cfg, fc->step, &tx, &ty, NULL, 0, NULL, &st) == DROPBLOCK_OK);
    FUZZ_CHECK(st.kept == ref->kept && st.total == T);
    for (e = 0; e < (size_t)s->n; ++e) scale[e] = f64_scale(fc, ref, e, st.scale);
    for (e = 0; e < T; ++e) {
        size_t at = ref_storage(fc, e);
        double sd = scale[e / sample];
        if (ref->k[at]) {
            FUZZ_CHECK(sd == 1.0 ? tt_f64_bits(y[e]) == tt_f64_bits(x[e]) : tt_f64_bits(y[e]) == tt_f64_bits(sd * x[e]));
            FUZZ_CHECK(same_bits((float)sd, ref->s[at]));
        } else if (fills_noise(fc)) {
            FUZZ_CHECK(same_bits((float)y[e], ref->y[at]));
        } else {
            FUZZ_CHECK(tt_f64_bits(y[e]) == 0);
        }
    }
    free(x);
    return y;
}

/* The dense expected output in dt of forward (grad 0) or backward: F32 the
   1.x output; kept 16-bit elements R((float)s * X), F64 ones s * x with
   the double s (bits copied where s is 1); dropped +0, or under forward
   FILL_NOISE the double noise rounded once to dt. */
static void tensor_expect(const fuzz_case *fc, const reference *ref, dropblock_dtype dt, int grad,
                          const unsigned char *xd, const double *y64, const double *scale, unsigned char *out) {
    size_t T = fc->total, sample = T / (size_t)fc->shape.n, e;
    for (e = 0; e < T; ++e) {
        size_t at = ref_storage(fc, e);
        int kept = ref->k[at], noise = !grad && !kept && fills_noise(fc);
        float s = ref->s[at];
        if (dt == DROPBLOCK_F32) {
            memcpy(out + 4 * e, grad ? &ref->g[at] : &ref->y[at], 4);
        } else if (dt == DROPBLOCK_F64) {
            double x, v = 0.0, sd = scale[e / sample];
            memcpy(&x, xd + 8 * e, 8);
            if (kept) v = sd == 1.0 ? x : sd * x;
            else if (noise) v = y64[e];
            memcpy(out + 8 * e, &v, 8);
        } else {
            uint16_t x, v = 0;
            memcpy(&x, xd + 2 * e, 2);
            if (kept && s == 1.0f) v = x;
            else if (kept && dt == DROPBLOCK_F16) v = tt_f32_to_f16(s * tt_f16_to_f32(x));
            else if (kept) v = tt_f32_to_bf16(s * tt_bf16_to_f32(x));
            else if (noise) v = dt == DROPBLOCK_F16 ? tt_f64_to_f16(y64[e]) : tt_f64_to_bf16(y64[e]);
            memcpy(out + 2 * e, &v, 2);
        }
    }
}

/* Rejected calls on the strided pair write nothing: y of another dtype
   no wider than its own (x and y apart; a wider one could be misaligned
   or reach x, other errors), a part past the end, an axis of size > 1 at stride 0
   (in place, so that only the strides are wrong). m is the mask of the
   first window, samples [0, n_first). */
static void tensor_errors(const fuzz_case *fc, const dropblock_config *cfg, const dropblock_tensor *tx,
                          const dropblock_tensor *ty, int in_place, int n_first, tt_buf *bx, tt_buf *by,
                          const dropblock_mask *m) {
    dropblock_tensor wx = *tx, wy = *ty, bad;
    wx.n = wy.n = n_first;
    tt_buf_snapshot(bx);
    tt_buf_snapshot(by);
    FUZZ_CHECK(dropblock_mask_forward(m, &wx, &wy, 1, 1) == DROPBLOCK_ERR_PART);
    if (!in_place) {
        bad = *ty;
        static const dropblock_dtype narrower[4] = {DROPBLOCK_F16, DROPBLOCK_BF16, DROPBLOCK_F16, DROPBLOCK_F32};
        bad.dtype = narrower[ty->dtype];
        FUZZ_CHECK(dropblock_forward_tensor(cfg, fc->step, tx, &bad, NULL, 0, NULL, NULL) == DROPBLOCK_ERR_DTYPE);
        bad.n = n_first;
        FUZZ_CHECK(dropblock_mask_forward(m, &wx, &bad, 0, 1) == DROPBLOCK_ERR_DTYPE);
    }
    bad = wy;
    if (bad.w > 1) bad.stride_w = 0;
    else if (bad.h > 1) bad.stride_h = 0;
    else if (bad.c > 1) bad.stride_c = 0;
    else if (bad.d > 1) bad.stride_d = 0;
    else if (bad.n > 1) bad.stride_n = 0;
    else bad.n = 0; /* one element: no stride can alias */
    if (bad.n) {
        FUZZ_CHECK(dropblock_forward_tensor(cfg, fc->step, &bad, &bad, NULL, 0, NULL, NULL) == DROPBLOCK_ERR_STRIDE);
        FUZZ_CHECK(dropblock_mask_backward(m, &bad, &bad, 0, 1) == DROPBLOCK_ERR_STRIDE);
    }
    FUZZ_CHECK(tt_buf_unchanged(bx) && tt_buf_unchanged(by));
}

/* The tensor API on this case: a dtype, strided x and y (or in place), the
   batch in n_offset windows with their counts combined by set_batch, build
   and apply in shuffled parts, and the one call on an executor; every
   result equals the reference, x stays as it was and no byte of y's buffer
   outside its elements changes. */
static void check_tensor_api(const fuzz_case *fc, const reference *ref) {
    const dropblock_shape3d *s = &fc->shape;
    static const int raw_layouts[] = {DROPBLOCK_NHWC, DROPBLOCK_NCHW, 77};
    int size[5], cuts[FUZZ_MAX_WINDOWS + 1], nw = 0, k, in_place, pass;
    size_t T = fc->total, es, e, sample = T / (size_t)s->n;
    dropblock_config cfg = fc->cfg;
    dropblock_dtype dt;
    tt_arrangement ax, ay;
    unsigned char *xd, *want, *got;
    double *y64, *scale = (double *)malloc((size_t)s->n * sizeof(double));
    dropblock_tensor tx, ty;
    dropblock_executor exec;
    dropblock_stats st;
    tt_buf bx, by;
    tu_prng r;
    FUZZ_CHECK(scale != NULL);
    tu_prng_seed(&r, fc->knobs);
    dt = (dropblock_dtype)tu_prng_below(&r, 4);
    es = tt_dtype_size(dt);
    size[TT_AX_N] = s->n; size[TT_AX_D] = s->d; size[TT_AX_H] = s->h; size[TT_AX_W] = s->w; size[TT_AX_C] = s->c;
    ax = tt_random_arrangement(&r);
    ay = tt_random_arrangement(&r);
    for (k = 0; k < 5; ++k) { /* padding of many size-1 axes multiplies; keep buffers small */
        if (tt_arrangement_bytes(&ax, dt, size) > ((size_t)1 << 22)) { ax.inner = 1; ax.pad[k] = 0; }
        if (tt_arrangement_bytes(&ay, dt, size) > ((size_t)1 << 22)) { ay.inner = 1; ay.pad[k] = 0; }
    }
    in_place = tu_prng_below(&r, 4) == 0;
    memcpy(&cfg.layout, &raw_layouts[tu_prng_below(&r, 3)], sizeof cfg.layout); /* ignored by the tensor API */
    cuts[0] = 0;
    for (k = 1; k < s->n && nw < FUZZ_MAX_WINDOWS - 1; ++k)
        if (tu_prng_below(&r, 2)) cuts[++nw] = k;
    cuts[++nw] = s->n;

    xd = (unsigned char *)malloc(T * es);
    want = (unsigned char *)malloc(T * es);
    got = (unsigned char *)malloc(T * es);
    FUZZ_CHECK(xd && want && got);
    for (e = 0; e < T; ++e) {
        float v = ref->x[ref_storage(fc, e)];
        double d = (double)v;
        uint16_t h = dt == DROPBLOCK_F16 ? tt_f32_to_f16(v) : tt_f32_to_bf16(v);
        memcpy(xd + e * es, dt == DROPBLOCK_F32 ? (const void *)&v : dt == DROPBLOCK_F64 ? (const void *)&d
                                                                                          : (const void *)&h, es);
    }
    y64 = f64_expectations(fc, ref, &cfg, scale);

    bx = tt_buf_make(tt_arrangement_bytes(&ax, dt, size), 1);
    by = tt_buf_make(in_place ? 1 : tt_arrangement_bytes(&ay, dt, size), 2);
    tx = tt_arrange(&ax, dt, size, tt_buf_data(&bx));
    ty = in_place ? tx : tt_arrange(&ay, dt, size, tt_buf_data(&by));
    for (pass = 0; pass < 3; ++pass) { /* windows forward, windows backward, one call forward */
        tt_buf *yb = in_place ? &bx : &by;
        tensor_expect(fc, ref, dt, pass == 1, xd, y64, scale, want);
        tt_scatter(&tx, xd);
        tt_buf_snapshot(&bx);
        tt_buf_snapshot(&by);
        if (pass == 2) {
            exec.parallel_for = fuzz_parallel_for;
            exec.pool = &r;
            exec.parts = pick_parts(&r, fc);
            FUZZ_CHECK(dropblock_forward_tensor(&cfg, fc->step, &tx, &ty, NULL, 0, &exec, &st) == DROPBLOCK_OK);
            FUZZ_CHECK(st.kept == ref->kept && st.total == T);
        } else {
            dropblock_mask m[FUZZ_MAX_WINDOWS];
            void *ws[FUZZ_MAX_WINDOWS];
            uint64_t kept = 0;
            for (k = 0; k < nw; ++k) {
                dropblock_tensor wx = tx;
                size_t bytes = 0;
                int parts = pick_parts(&r, fc), order[80], p;
                wx.data = tt_at(&tx, (size_t)cuts[k] * sample);
                wx.n = cuts[k + 1] - cuts[k];
                wx.n_offset = cuts[k];
                FUZZ_CHECK(dropblock_mask_workspace_size(&wx, &bytes) == DROPBLOCK_OK);
                ws[k] = malloc(bytes);
                FUZZ_CHECK(ws[k] != NULL);
                FUZZ_CHECK(dropblock_mask_init(&m[k], &cfg, fc->step, &wx, ws[k], bytes) == DROPBLOCK_OK);
                if (parts > 80) parts = 80;
                tt_shuffle(&r, order, parts);
                for (p = 0; p < parts; ++p) FUZZ_CHECK(dropblock_mask_build(&m[k], order[p], parts) == DROPBLOCK_OK);
                FUZZ_CHECK(dropblock_mask_stats(&m[k], &st) == DROPBLOCK_OK);
                FUZZ_CHECK(st.total == (uint64_t)wx.n * sample);
                kept += st.kept;
            }
            FUZZ_CHECK(kept == ref->kept);
            for (k = 0; k < nw; ++k) {
                dropblock_tensor wx = tx, wy = ty;
                int parts = pick_parts(&r, fc), order[80], p;
                FUZZ_CHECK(dropblock_mask_set_batch(&m[k], kept, T) == DROPBLOCK_OK);
                wx.data = tt_at(&tx, (size_t)cuts[k] * sample);
                wy.data = tt_at(&ty, (size_t)cuts[k] * sample);
                wx.n = wy.n = cuts[k + 1] - cuts[k];
                wx.n_offset = wy.n_offset = cuts[k];
                if (parts > 80) parts = 80;
                tt_shuffle(&r, order, parts);
                for (p = 0; p < parts; ++p)
                    FUZZ_CHECK((pass ? dropblock_mask_backward(&m[k], &wx, &wy, order[p], parts)
                                     : dropblock_mask_forward(&m[k], &wx, &wy, order[p], parts)) == DROPBLOCK_OK);
            }
            if (pass == 0) tensor_errors(fc, &cfg, &tx, &ty, in_place, cuts[1], &bx, &by, &m[0]);
            for (k = 0; k < nw; ++k) free(ws[k]);
        }
        tt_gather(&ty, got);
        FUZZ_CHECK(memcmp(got, want, T * es) == 0);
        FUZZ_CHECK(tt_buf_outside_unchanged(yb, &ty));
        if (!in_place) FUZZ_CHECK(tt_buf_unchanged(&bx));
    }
    tt_buf_free(&bx);
    tt_buf_free(&by);
    free(xd);
    free(want);
    free(got);
    free(y64);
    free(scale);
}

static void run_real(const fuzz_case *fc) {
    reference ref;
    int kind = fc->arr[7] / 16 % (fc->is3d ? 2 : K_KINDS);
    if (fc->is3d) kind = kind ? K_BWD3 : K_FWD3;
    memset(&ref, 0, sizeof ref);
    if (!config_errors(&fc->cfg)) {
        reference_build(fc, &ref);
        if (!fc->is3d)
            check_split(fc, &ref, fc->shape.n > 1 ? 1 + (int)(fc->arr[1] % (unsigned)(fc->shape.n - 1)) : 0);
    }
    run_arranged(fc, config_errors(&fc->cfg) ? NULL : &ref, kind, fc->arr);
    if (!config_errors(&fc->cfg) && fc->total <= FUZZ_MAX_TENSOR_ELEMS) check_tensor_api(fc, &ref);
    reference_free(&ref);
}

/* ---- huge or invalid shapes ------------------------------------------------- */

/* Every entry point on small dummy buffers, but only where the contract
   demands an error: nothing may be written and the status must be one of
   the predicted errors. */
static void run_bad(const fuzz_case *fc) {
    unsigned char *mem = (unsigned char *)malloc(FUZZ_DUMMY_BYTES);
    unsigned char snapshot[FUZZ_DUMMY_BYTES];
    float *x = (float *)(void *)(mem + 64);
    /* the arena's arrangement codes (arena_make), on dummy buffers */
    float *const ys[8] = {(float *)(void *)(mem + 128), (float *)(void *)(mem + 128), x, x, x + 1, x - 1, NULL, x};
    uint8_t *const keeps[6] = {NULL, NULL, mem + 200, mem + 200, mem + 65, NULL};
    uint64_t kept = 0;
    int kind;
    FUZZ_CHECK(mem != NULL);
    memset(mem, 0x3C, FUZZ_DUMMY_BYTES);
    memcpy(snapshot, mem, FUZZ_DUMMY_BYTES);
    for (kind = 0; kind < K_KINDS; ++kind) {
        call c;
        unsigned want;
        dropblock_status st;
        if (fc->is3d && kind != K_FWD3 && kind != K_BWD3) continue;
        memset(&c, 0, sizeof c);
        c.kind = kind;
        c.cfg = (fc->arr[7] % 16 == 15) ? NULL : &fc->cfg;
        c.shape = fc->shape; c.step = fc->step;
        c.x = fc->arr[0] % 8 == 7 ? NULL : x;
        c.y = ys[fc->arr[0] % 8];
        c.keep = fc->arr[2] % 6 == 5 && c.y ? (uint8_t *)c.y + 1 : keeps[fc->arr[2] % 6];
        if (is_bwd_kind(kind) || kind == K_COUNT) c.keep = NULL;
        c.ws = fc->arr[4] % 8 == 4 ? NULL : mem + 216 + fc->arr[6] % 8;
        c.ws_bytes = FUZZ_DUMMY_BYTES - 216 - fc->arr[6] % 8;
        c.n0 = fc->n0; c.n1 = fc->n1;
        c.total_kept = fc->total_kept;
        c.kept = &kept;
        want = predict(&c, 0) & ~ERRBIT(DROPBLOCK_ERR_KEPT);
        if (!want) continue; /* a valid call on a huge tensor: not ours to make */
        fuzz_want = want;
        fuzz_kind = kind;
        fuzz_status = st = invoke(&c);
        FUZZ_CHECK(is_documented(st) && st != DROPBLOCK_OK && (want & ERRBIT(st)));
        FUZZ_CHECK(memcmp(snapshot, mem, FUZZ_DUMMY_BYTES) == 0);
    }
    free(mem);
}

/* ---- the other public functions ---------------------------------------------- */

static void check_workspace_size(const fuzz_case *fc) {
    size_t bytes = 12345, bytes2d = 54321;
    dropblock_status st = dropblock_workspace_size3d(fc->shape, &bytes);
    FUZZ_CHECK(st == (dropblock_status)fc->shape_err);
    FUZZ_CHECK(dropblock_workspace_size3d(fc->shape, NULL) == DROPBLOCK_ERR_NULL);
    if (st == DROPBLOCK_OK) FUZZ_CHECK(bytes >= fc->total / 8 + (fc->total % 8 != 0));
    else FUZZ_CHECK(bytes == 12345);
    if (!fc->is3d) {
        FUZZ_CHECK(dropblock_workspace_size(to2d(fc->shape), &bytes2d) == st);
        FUZZ_CHECK(st != DROPBLOCK_OK || bytes2d == bytes);
    }
}

static int is_nan(double v) { return v != v; }

static int clip(int block, int len) { return block < len ? block : len; }

/* gamma of THE MATH, depth multiplied in the same way; NaN for arguments
   the header's comments call invalid. */
static double gamma_ref(double kp, int block_d, int block_h, int block_w, int d, int h, int w) {
    double bd, bh, bw, g;
    if (!(kp >= 0.0 && kp <= 1.0) || block_h < 1 || block_w < 0 || block_d < 0 || d < 1 || h < 1 || w < 1)
        return (double)NAN;
    bd = clip(block_d ? block_d : block_h, d);
    bh = clip(block_h, h);
    bw = clip(block_w ? block_w : block_h, w);
    g = (1.0 - kp) * ((double)d * (double)h * (double)w) /
        (bd * bh * bw * ((d - bd + 1) * (h - bh + 1) * (w - bw + 1)));
    return g > 1.0 ? 1.0 : g;
}

/* got against gamma_ref's want; a block covering the map gives exactly
   1 - keep_prob (the header's doc block). */
static void check_gamma_value(double got, double want, double kp, int covers_map) {
    if (is_nan(want)) {
        FUZZ_CHECK(is_nan(got));
        return;
    }
    FUZZ_CHECK(got >= 0.0 && got <= 1.0);
    FUZZ_CHECK(fabs(got - want) <= 1e-12 * want);
    if (kp == 1.0) FUZZ_CHECK(got == 0.0);
    if (covers_map) FUZZ_CHECK(got == 1.0 - kp);
}

/* dropblock_gamma and dropblock_gamma3d; the 2-D one is the 3-D one with
   d = 1 and block_d = 1. */
static void check_gamma(const fuzz_case *fc) {
    double kp = (double)fc->cfg.keep_prob, g2, g3;
    int bd = fc->cfg.block_d, bh = fc->cfg.block_h, bw = fc->cfg.block_w;
    int d = fc->shape.d, h = fc->shape.h, w = fc->shape.w;
    int bwr = bw ? bw : bh, covers = bh >= h && bwr >= w;
    g2 = dropblock_gamma(kp, bh, bw, h, w);
    check_gamma_value(g2, gamma_ref(kp, 1, bh, bw, 1, h, w), kp, covers);
    g3 = dropblock_gamma3d(kp, bd, bh, bw, d, h, w);
    check_gamma_value(g3, gamma_ref(kp, bd, bh, bw, d, h, w), kp, covers && (bd ? bd : bh) >= d);
    g3 = dropblock_gamma3d(kp, 1, bh, bw, 1, h, w);
    FUZZ_CHECK(g3 == g2 || (is_nan(g3) && is_nan(g2)));
}

/* Seed positions of one axis whose (clipped) block covers coordinate x:
   valid placement puts block starts at [0, len - b]; anywhere puts seeds
   at [0, len) with the block reaching (b-1)/2 before and b/2 after. */
static double axis_cover(int len, int block, int anywhere, int x) {
    int b = clip(block, len), lo, hi;
    if (anywhere) {
        lo = x - b / 2;
        hi = x + (b - 1) / 2;
        if (hi > len - 1) hi = len - 1;
    } else {
        lo = x - b + 1;
        hi = x < len - b ? x : len - b;
    }
    if (lo < 0) lo = 0;
    return hi >= lo ? (double)(hi - lo + 1) : 0.0;
}

/* The expected kept fraction as the header's EXACT_RATE comment states it:
   the mean over map positions of (1 - gamma)^(covering seed positions);
   blocks are rectangles, so a position's cover is the product of its axes'. */
static double expected_keep_ref(double gamma, int block_h, int block_w, int h, int w, int anywhere) {
    double sum = 0.0;
    int i, j;
    for (i = 0; i < h; ++i) {
        double ci = axis_cover(h, block_h, anywhere, i);
        for (j = 0; j < w; ++j) sum += pow(1.0 - gamma, ci * axis_cover(w, block_w ? block_w : block_h, anywhere, j));
    }
    return sum / ((double)h * (double)w);
}

/* How far E(gamma) may be off: 1 - gamma is rounded (half an ulp, 2^-53)
   before it is raised to a position's cover count, at most the block's
   area, so E carries up to about area * 2^-53 besides the sum's own
   rounding, which 1e-12 covers for any map this target runs. */
static double expected_keep_tolerance(int bh, int bw, int h, int w) {
    return 1e-12 + (double)clip(bh, h) * (double)clip(bw ? bw : bh, w) * DBL_EPSILON;
}

/* dropblock_expected_keep at gamma on a checked map: in [0, 1], the
   reference value on small maps; 1 exactly at gamma 0, 0 at gamma 1
   (every position is covered by some seed position). */
static double check_expected_keep(double gamma, int bh, int bw, int h, int w, unsigned flags) {
    double e = dropblock_expected_keep(gamma, bh, bw, h, w, flags);
    FUZZ_CHECK(e >= 0.0 && e <= 1.0);
    if ((size_t)h * (size_t)w <= FUZZ_MAX_MAP_CELLS)
        FUZZ_CHECK(fabs(e - expected_keep_ref(gamma, bh, bw, h, w, (flags & DROPBLOCK_SEED_ANYWHERE) != 0)) <=
                   expected_keep_tolerance(bh, bw, h, w));
    if (gamma == 0.0) FUZZ_CHECK(e == 1.0);
    if (gamma == 1.0) FUZZ_CHECK(e == 0.0);
    return e;
}

/* dropblock_gamma_exact and dropblock_expected_keep: NaN for invalid
   arguments (unknown flag bits included); otherwise in [0, 1], the exact
   gamma hits keep_prob as closely as E can be evaluated (a bisection to
   full precision on E; expected_keep_tolerance), falls as keep_prob
   rises, and of the flags only SEED_ANYWHERE matters. */
static void check_exact_rate_functions(const fuzz_case *fc) {
    double kp = (double)fc->cfg.keep_prob, other = fc->arr[5] / 255.0, g, g_other;
    int bh = fc->cfg.block_h, bw = fc->cfg.block_w, h = fc->shape.h, w = fc->shape.w;
    unsigned flags = fc->cfg.flags;
    int valid_map = bh >= 1 && bw >= 0 && h >= 1 && w >= 1 && !(flags & ~(unsigned)FUZZ_KNOWN_FLAGS);
    if (!valid_map) {
        FUZZ_CHECK(is_nan(dropblock_gamma_exact(other, bh, bw, h, w, flags)));
        FUZZ_CHECK(is_nan(dropblock_expected_keep(other, bh, bw, h, w, flags)));
    }
    if (!(kp >= 0.0 && kp <= 1.0)) { /* rejected before any work, so any map size */
        FUZZ_CHECK(is_nan(dropblock_gamma_exact(kp, bh, bw, h, w, flags)));
        FUZZ_CHECK(is_nan(dropblock_expected_keep(kp, bh, bw, h, w, flags)));
        return;
    }
    if (!valid_map || h > FUZZ_MAX_AXIS || w > FUZZ_MAX_AXIS) return;
    g = dropblock_gamma_exact(kp, bh, bw, h, w, flags);
    FUZZ_CHECK(g >= 0.0 && g <= 1.0);
    FUZZ_CHECK(fabs(check_expected_keep(g, bh, bw, h, w, flags) - kp) <= expected_keep_tolerance(bh, bw, h, w));
    if (kp == 1.0) FUZZ_CHECK(g == 0.0);
    FUZZ_CHECK(dropblock_gamma_exact(kp, bh, bw, h, w, flags & DROPBLOCK_SEED_ANYWHERE) == g);
    g_other = dropblock_gamma_exact(other, bh, bw, h, w, flags);
    FUZZ_CHECK(kp < other ? g >= g_other : kp > other ? g <= g_other : g == g_other);
    check_expected_keep(kp, bh, bw, h, w, flags);
    check_expected_keep(0.0, bh, bw, h, w, flags);
    check_expected_keep(1.0, bh, bw, h, w, flags);
}

/* Naive block painting: every seed clears its clipped block. */
static void expand_reference(const uint8_t *seeds, int h, int w, int block_h, int block_w, uint8_t *keep) {
    int bh = block_h < h ? block_h : h, bwr = block_w ? block_w : block_h, bw = bwr < w ? bwr : w;
    int a, b, i, j;
    memset(keep, 1, (size_t)h * (size_t)w);
    for (a = 0; a < h; ++a)
        for (b = 0; b < w; ++b) {
            if (!seeds[a * w + b]) continue;
            for (i = a - (bh - 1) / 2; i <= a + bh / 2; ++i)
                for (j = b - (bw - 1) / 2; j <= b + bw / 2; ++j)
                    if (i >= 0 && i < h && j >= 0 && j < w) keep[i * w + j] = 0;
        }
}

/* expand_mask on the shape's h x w map, seeds from the data: in place,
   separate, partially overlapping or NULL. */
static void check_expand(const fuzz_case *fc) {
    int h = fc->shape.h, w = fc->shape.w, bh = fc->cfg.block_h, bw = fc->cfg.block_w;
    int small = h >= 1 && w >= 1 && (size_t)h * (size_t)w <= 4096;
    size_t len = small ? (size_t)h * (size_t)w : 16, e;
    unsigned mode = fc->arr[3] % 5;
    block mem = block_make(3 * len, 0);
    uint8_t *seeds = (uint8_t *)mem.p, *keep, *snapshot = (uint8_t *)malloc(3 * len), *want = (uint8_t *)malloc(len);
    reader data = fc->data;
    unsigned errs = 0;
    dropblock_status st;
    FUZZ_CHECK(snapshot && want);
    for (e = 0; e < len; ++e) seeds[e] = rd_u8(&data) < 24 ? (uint8_t)(1 + e % 255) : 0;
    keep = mode == 0 ? seeds : mode == 1 ? seeds + len : mode == 2 ? seeds + 1 + fc->arr[5] % len : NULL;
    if (mode == 3) { keep = seeds + 2 * len; seeds = NULL; }
    if (!seeds || !keep) errs |= ERRBIT(DROPBLOCK_ERR_NULL);
    if (h < 1 || w < 1) errs |= ERRBIT(DROPBLOCK_ERR_SHAPE);
    if (bh < 1 || bw < 0) errs |= ERRBIT(DROPBLOCK_ERR_BLOCK);
    if (mode == 2 && keep != seeds + len) errs |= ERRBIT(DROPBLOCK_ERR_OVERLAP);
    if (!small && !errs) { /* a huge valid map: not ours to expand */
        block_free(&mem);
        free(snapshot);
        free(want);
        return;
    }
    memcpy(snapshot, mem.p, 3 * len);
    if (!errs) expand_reference(seeds, h, w, bh, bw, want);
    st = dropblock_expand_mask(seeds, h, w, bh, bw, keep);
    if (errs) {
        FUZZ_CHECK(st != DROPBLOCK_OK && (errs & ERRBIT(st)));
        FUZZ_CHECK(memcmp(snapshot, mem.p, 3 * len) == 0);
    } else {
        FUZZ_CHECK(st == DROPBLOCK_OK);
        FUZZ_CHECK(memcmp(keep, want, len) == 0);
    }
    block_free(&mem);
    free(snapshot);
    free(want);
}

static void check_linear(const fuzz_case *fc) {
    float f = fc->cfg.keep_prob, now, next;
    uint64_t ramp = fc->arr[5] | (uint64_t)fc->arr[6] << 8, step = fc->step % (ramp + 2);
    if (!(f >= 0.0f && f <= 1.0f)) return; /* no contract outside [0, 1] */
    now = dropblock_keep_prob_linear(f, step, ramp);
    next = dropblock_keep_prob_linear(f, step + 1, ramp);
    FUZZ_CHECK(now >= f && now <= 1.0f && next <= now);
    if (step >= ramp) FUZZ_CHECK(now == f);
    if (ramp > 0) FUZZ_CHECK(dropblock_keep_prob_linear(f, 0, ramp) == 1.0f);
}

/* The rng against THE GENERATOR: u32 halves, uniform, and bernoulli groups. */
static void check_rng(const fuzz_case *fc) {
    uint64_t seed = fc->cfg.seed, stream = fc->step, word = gen_word(seed, stream, 0);
    double p = (double)fc->cfg.keep_prob;
    size_t n = fc->arr[5], ones = 0, i;
    uint8_t *out = (uint8_t *)malloc(n + 1);
    dropblock_rng rng, copy;
    FUZZ_CHECK(out != NULL);
    dropblock_rng_init(&rng, seed, stream);
    copy = rng;
    FUZZ_CHECK(dropblock_rng_next_u32(&rng) == (uint32_t)word);
    FUZZ_CHECK(dropblock_rng_next_u32(&copy) == (uint32_t)word);
    FUZZ_CHECK(dropblock_rng_uniform(&rng) == (float)((uint32_t)(word >> 32) >> 8) * (1.0f / 16777216.0f));
    /* a pending high half is dropped: the groups start at word 1 */
    FUZZ_CHECK(dropblock_bernoulli(NULL, p, out, n) == 0);
    FUZZ_CHECK(dropblock_bernoulli(&copy, p, NULL, n) == 0);
    FUZZ_CHECK(dropblock_bernoulli(&copy, p, out, n) == dropblock_bernoulli(&rng, p, out, n));
    for (i = 0; i < n; ++i) {
        FUZZ_CHECK(out[i] == gen_bernoulli(seed, stream, 1 + 32 * (i / 64), (unsigned)(i % 64), p));
        ones += out[i];
    }
    FUZZ_CHECK(dropblock_bernoulli(&copy, p, out, 0) == 0);
    FUZZ_CHECK(dropblock_rng_next_u32(&rng) == (uint32_t)gen_word(seed, stream, 1 + 32 * ((n + 63) / 64)));
    FUZZ_CHECK(!(p <= 0.0 || p != p) || ones == 0);
    FUZZ_CHECK(!(p >= 1.0) || ones == n);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_case fc;
    fuzz_decode(data, size, &fc);
    fc.knobs = tu_fnv1a(data, size);
    fuzz_current = &fc;
    fuzz_kind = -1; /* no entry-point call yet: the report shows none */
    fuzz_want = 0;
    fuzz_status = 0;
    check_workspace_size(&fc);
    check_gamma(&fc);
    check_exact_rate_functions(&fc);
    check_expand(&fc);
    check_linear(&fc);
    check_rng(&fc);
    if (!fc.shape_err && fc.total <= FUZZ_MAX_ELEMS)
        run_real(&fc);
    else
        run_bad(&fc);
    fuzz_current = NULL;
    return 0;
}
