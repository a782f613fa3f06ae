/* reference.h - a deliberately naive DropBlock, for tests only.

   Written from the documentation in include/dropblock.h (THE MATH and THE
   GENERATOR), not from its implementation, and kept obviously correct
   rather than fast: every seed position is drawn on its own by assembling
   its 32-bit U bit by bit from the documented SplitMix64 words, every map
   is expanded with an O(bd*bh*bw) scan per pixel, and the expected scale
   is a plain loop over pixels. Only the library's types are used, never
   its functions. All functions are static inline so that a test file may
   use any subset of them without unused-function warnings. */
#ifndef DROPBLOCK_TESTS_REFERENCE_H
#define DROPBLOCK_TESTS_REFERENCE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dropblock.h"
#include "test_util.h"

/* ---- the generator ------------------------------------------------------ */

/* The stream itself (key, words, and draw number P, whose U has bit 31-k
   equal to bit P mod 64 of word 32*floor(P/64) + k) is test_util.h's
   independent SplitMix64, the single test copy of THE GENERATOR. */

/* t = floor(p * 2^32), 2^32 for p >= 1, 0 for p <= 0. */
static inline uint64_t ref_threshold(double p) {
    if (p >= 1.0) return UINT64_C(1) << 32;
    if (p <= 0.0) return 0;
    return (uint64_t)(p * 4294967296.0);
}

/* ---- geometry ----------------------------------------------------------- */

/* One axis: clipped block, seed grid size and the map coordinate of grid
   position 0 (valid: the seed sits floor((b-1)/2) into a block that starts
   at row 0; anywhere: every row is a position). */
typedef struct ref_axis { size_t len, b, grid, first; } ref_axis;

typedef struct ref_geom {
    size_t n, c;
    ref_axis ax[3]; /* depth, height, width */
    int share_c, share_n, nchw;
    uint64_t t, key;
    dropblock_scale scale;
} ref_geom;

static inline ref_axis ref_make_axis(int len, int block, int anywhere) {
    ref_axis a;
    a.len = (size_t)len;
    a.b = (size_t)block < a.len ? (size_t)block : a.len;
    a.grid = anywhere ? a.len : a.len - a.b + 1;
    a.first = anywhere ? 0 : (a.b - 1) / 2;
    return a;
}

/* The paper's seed threshold as the header's THE MATH defines it, exactly:
   t = floor((2^32 - K) * map / (area * valid)), capped at 2^32, with
   K = keep_prob * 2^32 rounded half up (exact for keep_prob >= 2^-8; here
   by ldexp, exact for every float, and a 128-bit integer division). */
static inline uint64_t ref_paper_threshold(float keep_prob, const ref_geom *g) {
    __extension__ typedef unsigned __int128 u128;
    size_t area = 1, map = 1, valid = 1, k;
    double scaled = ldexp((double)keep_prob, 32); /* exact: a float times a power of two */
    uint64_t keep = (uint64_t)scaled, q;
    u128 num, den;
    if (scaled - (double)keep >= 0.5) ++keep; /* the fraction is exact too */
    for (k = 0; k < 3; ++k) {
        area *= g->ax[k].b;
        map *= g->ax[k].len;
        valid *= g->ax[k].len - g->ax[k].b + 1;
    }
    num = (u128)((UINT64_C(1) << 32) - keep) * map;
    den = (u128)area * valid;
    q = (uint64_t)(num / den > ((u128)1 << 32) ? ((u128)1 << 32) : num / den);
    return q;
}

static inline ref_geom ref_setup(const dropblock_config *cfg, dropblock_shape3d s, uint64_t step) {
    ref_geom g;
    int anywhere = (cfg->flags & DROPBLOCK_SEED_ANYWHERE) != 0;
    g.n = (size_t)s.n;
    g.c = (size_t)s.c;
    g.ax[0] = ref_make_axis(s.d, cfg->block_d ? cfg->block_d : cfg->block_h, anywhere);
    g.ax[1] = ref_make_axis(s.h, cfg->block_h, anywhere);
    g.ax[2] = ref_make_axis(s.w, cfg->block_w ? cfg->block_w : cfg->block_h, anywhere);
    g.share_c = (cfg->flags & DROPBLOCK_SHARE_CHANNELS) != 0;
    g.share_n = (cfg->flags & DROPBLOCK_SHARE_BATCH) != 0;
    g.nchw = cfg->layout == DROPBLOCK_NCHW;
    g.t = ref_paper_threshold(cfg->keep_prob, &g);
    g.key = tu_key(cfg->seed, step);
    g.scale = cfg->scale;
    return g;
}

static inline dropblock_shape3d ref_lift(dropblock_shape s) {
    dropblock_shape3d r;
    r.n = s.n;
    r.d = 1;
    r.h = s.h;
    r.w = s.w;
    r.c = s.c;
    return r;
}

static inline size_t ref_pixels(const ref_geom *g) { return g->ax[0].len * g->ax[1].len * g->ax[2].len; }

static inline size_t ref_positions(const ref_geom *g) { return g->ax[0].grid * g->ax[1].grid * g->ax[2].grid; }

static inline size_t ref_total(const ref_geom *g) { return g->n * ref_pixels(g) * g->c; }

static inline size_t ref_maps_c(const ref_geom *g) { return g->share_c ? 1 : g->c; }

/* Map index m = nm * Cm + cm of element (n, c): nm = n (0 under
   SHARE_BATCH), cm = c (0 under SHARE_CHANNELS). */
static inline size_t ref_map_of(const ref_geom *g, size_t n, size_t c) {
    return (g->share_n ? 0 : n) * ref_maps_c(g) + (g->share_c ? 0 : c);
}

/* Draw number of grid position q = (z*Hs + i)*Ws + j of map m:
   P = (((nm*Ds + z)*Hs + i)*Ws + j)*Cm + cm = (nm*Ds*Hs*Ws + q)*Cm + cm. */
static inline uint64_t ref_seed_number(const ref_geom *g, size_t m, size_t q) {
    size_t cm_count = ref_maps_c(g), nm = m / cm_count, cm = m % cm_count;
    return ((uint64_t)nm * ref_positions(g) + q) * cm_count + cm;
}

/* Index of element (n, pixel p = (z*H + i)*W + j, c) in the tensor layout. */
static inline size_t ref_index(const ref_geom *g, size_t n, size_t p, size_t c) {
    size_t px = ref_pixels(g);
    return g->nchw ? (n * g->c + c) * px + p : (n * px + p) * g->c + c;
}

/* Grid position of map coordinate r on an axis, or -1 if no seed may sit there. */
static inline long ref_grid_pos(const ref_axis *a, size_t r) {
    if (r < a->first || r - a->first >= a->grid) return -1;
    return (long)(r - a->first);
}

/* Calls visit(ctx, grid position) for every allowed seed position whose
   block covers pixel (z, i, j): a seed at map coordinate r drops
   r - floor((b-1)/2) .. r + floor(b/2), so it covers x iff
   r in [x - floor(b/2), x + floor((b-1)/2)]. Stops when visit returns 1;
   returns whether it stopped. */
static inline int ref_each_cover(const ref_geom *g, const size_t x[3], int (*visit)(void *, size_t), void *ctx) {
    long lo[3], hi[3], r[3];
    int k;
    for (k = 0; k < 3; ++k) {
        lo[k] = (long)x[k] - (long)(g->ax[k].b / 2);
        hi[k] = (long)x[k] + (long)((g->ax[k].b - 1) / 2);
    }
    for (r[0] = lo[0]; r[0] <= hi[0]; ++r[0])
        for (r[1] = lo[1]; r[1] <= hi[1]; ++r[1])
            for (r[2] = lo[2]; r[2] <= hi[2]; ++r[2]) {
                long q[3];
                for (k = 0; k < 3; ++k) {
                    q[k] = r[k] < 0 ? -1 : ref_grid_pos(&g->ax[k], (size_t)r[k]);
                    if (q[k] < 0) break;
                }
                if (k < 3) continue;
                if (visit(ctx, ((size_t)q[0] * g->ax[1].grid + (size_t)q[1]) * g->ax[2].grid + (size_t)q[2]))
                    return 1;
            }
    return 0;
}

static inline void ref_unpixel(const ref_geom *g, size_t p, size_t x[3]) {
    x[2] = p % g->ax[2].len;
    x[1] = p / g->ax[2].len % g->ax[1].len;
    x[0] = p / (g->ax[2].len * g->ax[1].len);
}

/* ---- the keep bit of one element, straight from the generator ------------ */

typedef struct ref_draw_ctx { const ref_geom *g; size_t map; } ref_draw_ctx;

static inline int ref_visit_draw(void *ctx, size_t q) {
    const ref_draw_ctx *d = (const ref_draw_ctx *)ctx;
    return tu_draw(d->g->key, ref_seed_number(d->g, d->map, q), d->g->t);
}

/* K(n, pixel, c): 0 iff a drawn seed of the element's map covers the pixel. */
static inline int ref_keep_element(const ref_geom *g, size_t n, size_t pixel, size_t c) {
    ref_draw_ctx d;
    size_t x[3];
    d.g = g;
    d.map = ref_map_of(g, n, c);
    ref_unpixel(g, pixel, x);
    return !ref_each_cover(g, x, ref_visit_draw, &d);
}

/* ---- expected kept fraction ---------------------------------------------- */

static inline int ref_visit_count(void *ctx, size_t q) {
    (void)q;
    ++*(size_t *)ctx;
    return 0;
}

/* Number of allowed seed positions whose block covers pixel p. */
static inline size_t ref_cover(const ref_geom *g, size_t p) {
    size_t x[3], count = 0;
    ref_unpixel(g, p, x);
    ref_each_cover(g, x, ref_visit_count, &count);
    return count;
}

/* E[kept fraction] = mean over pixels of (1 - p)^cover, p = t / 2^32. */
static inline double ref_expected_keep(const ref_geom *g) {
    double q = (double)((UINT64_C(1) << 32) - g->t) / 4294967296.0, sum = 0.0;
    size_t p, k;
    for (p = 0; p < ref_pixels(g); ++p) {
        double term = 1.0;
        size_t cover = ref_cover(g, p);
        for (k = 0; k < cover; ++k) term *= q;
        sum += term;
    }
    return sum / (double)ref_pixels(g);
}

/* ---- the whole forward pass ------------------------------------------------ */

typedef struct ref_seed_ctx { const uint8_t *seeds; } ref_seed_ctx;

static inline int ref_visit_seed(void *ctx, size_t q) { return ((const ref_seed_ctx *)ctx)->seeds[q] != 0; }

/* Keep mask (tensor layout, one byte per element) of the whole tensor:
   draw every seed position of a map, then expand it by the per-pixel scan. */
static inline void ref_keep_mask(const ref_geom *g, uint8_t *keep) {
    size_t maps = (g->share_n ? 1 : g->n) * (g->share_c ? 1 : g->c);
    size_t positions = ref_positions(g), px = ref_pixels(g), m, q, p, n, c;
    uint8_t *seeds = (uint8_t *)malloc(positions);
    uint8_t *mapkeep = (uint8_t *)malloc(maps * px);
    ref_seed_ctx sc;
    if (!seeds || !mapkeep) abort();
    sc.seeds = seeds;
    for (m = 0; m < maps; ++m) {
        for (q = 0; q < positions; ++q) seeds[q] = (uint8_t)tu_draw(g->key, ref_seed_number(g, m, q), g->t);
        for (p = 0; p < px; ++p) {
            size_t x[3];
            ref_unpixel(g, p, x);
            mapkeep[m * px + p] = (uint8_t)!ref_each_cover(g, x, ref_visit_seed, &sc);
        }
    }
    for (n = 0; n < g->n; ++n)
        for (p = 0; p < px; ++p)
            for (c = 0; c < g->c; ++c) keep[ref_index(g, n, p, c)] = mapkeep[ref_map_of(g, n, c) * px + p];
    free(seeds);
    free(mapkeep);
}

static inline size_t ref_count_kept(const ref_geom *g, const uint8_t *keep, size_t n_begin, size_t n_end) {
    size_t n, p, c, kept = 0;
    for (n = n_begin; n < n_end; ++n)
        for (p = 0; p < ref_pixels(g); ++p)
            for (c = 0; c < g->c; ++c) kept += keep[ref_index(g, n, p, c)];
    return kept;
}

/* all / kept rounded once from double; 0 if nothing is kept. */
static inline float ref_ratio(size_t all, size_t kept) {
    return kept ? (float)((double)all / (double)kept) : 0.0f;
}

/* The scale of sample n under the given keep mask. */
static inline float ref_scale(const ref_geom *g, const uint8_t *keep, size_t n) {
    size_t sample = ref_pixels(g) * g->c;
    if (g->t == 0) return 1.0f;
    switch (g->scale) {
    case DROPBLOCK_SCALE_SAMPLE: return ref_ratio(sample, ref_count_kept(g, keep, n, n + 1));
    case DROPBLOCK_SCALE_EXPECTED: {
        double e = ref_expected_keep(g);
        return e > 0.0 ? (float)(1.0 / e) : 0.0f;
    }
    case DROPBLOCK_SCALE_NONE: return 1.0f;
    default: return ref_ratio(ref_total(g), ref_count_kept(g, keep, 0, g->n));
    }
}

/* y = s*x where kept, +0.0f where dropped; a bit-exact copy when no seed can
   occur (t == 0); all zeros when nothing is kept. y == x is allowed.
   keep: NULL or one byte per element. */
static inline void ref_forward3d(const dropblock_config *cfg, dropblock_shape3d shape, uint64_t step, const float *x,
                                 float *y, uint8_t *keep_out) {
    ref_geom g = ref_setup(cfg, shape, step);
    size_t total = ref_total(&g), n, p, c;
    uint8_t *keep = (uint8_t *)malloc(total);
    if (!keep) abort();
    ref_keep_mask(&g, keep);
    if (g.t == 0) {
        memmove(y, x, total * sizeof(float));
    } else {
        float s = 0.0f;
        for (n = 0; n < g.n; ++n) {
            if (n == 0 || g.scale == DROPBLOCK_SCALE_SAMPLE) s = ref_scale(&g, keep, n);
            for (p = 0; p < ref_pixels(&g); ++p)
                for (c = 0; c < g.c; ++c) {
                    size_t e = ref_index(&g, n, p, c);
                    y[e] = keep[e] ? x[e] * s : 0.0f;
                }
        }
    }
    if (keep_out) memcpy(keep_out, keep, total);
    free(keep);
}

static inline void ref_forward(const dropblock_config *cfg, dropblock_shape shape, uint64_t step, const float *x,
                               float *y, uint8_t *keep) {
    ref_forward3d(cfg, ref_lift(shape), step, x, y, keep);
}

/* ---- test-data generator (not the library's stream) ---------------------- */

typedef struct ref_rng { uint64_t s; } ref_rng;

static inline uint64_t ref_rng_u64(ref_rng *r) { return tu_mix(r->s += TU_G); }

/* Uniform integer in [lo, hi]. */
static inline int ref_rng_int(ref_rng *r, int lo, int hi) {
    return lo + (int)(ref_rng_u64(r) % (uint64_t)(hi - lo + 1));
}

/* Uniform float in [lo, hi). */
static inline float ref_rng_float(ref_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)(ref_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

static inline void ref_fill(ref_rng *r, float *x, size_t n) {
    size_t k;
    for (k = 0; k < n; ++k) x[k] = ref_rng_float(r, -4.0f, 4.0f);
}

/* ---- the tensor API: any dtype, strides and window ------------------------- */

#include "tensor_util.h"

/* The keep mask (tensor layout, one byte per element) element by element
   from the generator (ref_keep_element), for the tensor-API reference. */
static inline void ref_keep_mask_naive(const ref_geom *g, uint8_t *keep) {
    size_t n, p, c;
    for (n = 0; n < g->n; ++n)
        for (p = 0; p < ref_pixels(g); ++p)
            for (c = 0; c < g->c; ++c) keep[ref_index(g, n, p, c)] = (uint8_t)ref_keep_element(g, n, p, c);
}

/* Scale s of sample n in float (F32, F16, BF16) and in double (F64),
   from the whole batch's keep mask in logical NDHWC order. */
static inline void ref_tensor_scale(const ref_geom *g, const uint8_t *keep, size_t n, float *s, double *sd) {
    size_t sample = ref_pixels(g) * g->c, all = g->scale == DROPBLOCK_SCALE_SAMPLE ? sample : ref_total(g);
    size_t kept = g->scale == DROPBLOCK_SCALE_SAMPLE ? ref_count_kept(g, keep, n, n + 1)
                                                     : ref_count_kept(g, keep, 0, g->n);
    *s = ref_scale(g, keep, n);
    if (g->t == 0 || g->scale == DROPBLOCK_SCALE_NONE) {
        *sd = 1.0;
    } else if (g->scale == DROPBLOCK_SCALE_EXPECTED) {
        double e = ref_expected_keep(g);
        *sd = e > 0.0 ? 1.0 / e : 0.0;
    } else {
        *sd = kept ? (double)all / (double)kept : 0.0;
    }
}

/* y = DropBlock(x) through the tensor API, naively: x and y of one dtype,
   any strides (y == x allowed), a window of samples [n_offset, n_offset +
   n) of a batch of batch_n samples, whose whole-batch counts set the batch
   scale. The stream key is THE GENERATOR's (seed, step) key xor
   mix(cfg->stream). A kept element is x's bits where s is exactly 1, else
   s*x in float (F32), R(s * float(x)) rounded to nearest even (F16, BF16),
   or sd*x in double (F64); a dropped one is +0. Backward is the same
   without FILL_NOISE. FILL_NOISE and EXACT_RATE are outside this
   reference. */
static inline void ref_forward_tensor(const dropblock_config *cfg, uint64_t step, int batch_n,
                                      const dropblock_tensor *x, const dropblock_tensor *y) {
    dropblock_config logical = *cfg;
    dropblock_shape3d whole;
    ref_geom g;
    uint8_t *keep;
    size_t sample, k, q;
    whole.n = batch_n;
    whole.d = x->d;
    whole.h = x->h;
    whole.w = x->w;
    whole.c = x->c;
    logical.layout = DROPBLOCK_NHWC; /* the keep mask in logical NDHWC order */
    g = ref_setup(&logical, whole, step);
    g.key ^= tu_mix(cfg->stream);
    sample = ref_pixels(&g) * g.c;
    keep = (uint8_t *)malloc(ref_total(&g));
    if (!keep) abort();
    ref_keep_mask_naive(&g, keep);
    for (k = 0; k < (size_t)x->n; ++k) {
        size_t n = (size_t)x->n_offset + k;
        float s;
        double sd;
        ref_tensor_scale(&g, keep, n, &s, &sd);
        for (q = 0; q < sample; ++q) {
            const unsigned char *in = tt_at(x, k * sample + q);
            unsigned char *out = tt_at(y, k * sample + q);
            if (!keep[n * sample + q]) {
                memset(out, 0, tt_dtype_size(x->dtype));
            } else if (x->dtype == DROPBLOCK_F64) {
                double v;
                memcpy(&v, in, 8);
                if (sd != 1.0) v *= sd;
                memcpy(out, &v, 8);
            } else if (x->dtype == DROPBLOCK_F32) {
                float v;
                memcpy(&v, in, 4);
                if (s != 1.0f) v *= s;
                memcpy(out, &v, 4);
            } else {
                uint16_t v;
                memcpy(&v, in, 2);
                if (s != 1.0f)
                    v = x->dtype == DROPBLOCK_F16 ? tt_f32_to_f16(s * tt_f16_to_f32(v))
                                                  : tt_f32_to_bf16(s * tt_bf16_to_f32(v));
                memcpy(out, &v, 2);
            }
        }
    }
    free(keep);
}

#endif /* DROPBLOCK_TESTS_REFERENCE_H */
