/* The options beyond the paper: the exact drop rate (DROPBLOCK_EXACT_RATE,
   dropblock_gamma_exact, dropblock_expected_keep), the noise fill
   (DROPBLOCK_FILL_NOISE) and 3-D DropBlock (dropblock_forward3d,
   dropblock_backward3d, dropblock_gamma3d). Expectations are recomputed here
   from the header's documentation: covers by brute-force scanning, the noise
   from the documented stream, 3-D masks from tests/reference.h. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reference.h"
#include "golden.h"
#include "test_util.h"

/* ---- small helpers --------------------------------------------------------- */

static size_t voxels(dropblock_shape3d s) { return (size_t)s.d * (size_t)s.h * (size_t)s.w; }
/* Tensor index of element (n, voxel p, channel c). */
static size_t index3(dropblock_layout layout, dropblock_shape3d s, size_t n, size_t p, size_t c) {
    return layout == DROPBLOCK_NCHW ? (n * (size_t)s.c + c) * voxels(s) + p : (n * voxels(s) + p) * (size_t)s.c + c;
}

static dropblock_config make_cfg(float keep_prob, int bd, int bh, int bw, unsigned flags, dropblock_scale scale,
                                 dropblock_layout layout) {
    return tu_config(keep_prob, bd, bh, bw, flags, scale, layout, 2018);
}

/* Logical x (same value for (n, p, c) in both layouts), from a fixed seed. */
static void fill_logical(float *x, dropblock_shape3d s, dropblock_layout layout, uint64_t fill_seed) {
    ref_rng r;
    size_t n, p, c;
    r.s = fill_seed;
    for (n = 0; n < (size_t)s.n; ++n)
        for (p = 0; p < voxels(s); ++p)
            for (c = 0; c < (size_t)s.c; ++c) x[index3(layout, s, n, p, c)] = ref_rng_float(&r, -4.0f, 4.0f);
}

/* One call through the 2-D entry point (d must be 1) or the 3-D one. */
static dropblock_status run_forward(const dropblock_config *cfg, dropblock_shape3d s, uint64_t step, const float *x,
                                    float *y, uint8_t *keep, int three_d) {
    size_t bytes = 0;
    void *ws;
    dropblock_status st;
    if (!three_d) return dropblock_forward(cfg, tu_flat(s), step, x, y, keep);
    assert_int_equal(dropblock_workspace_size3d(s, &bytes), DROPBLOCK_OK);
    ws = tu_xmalloc(bytes);
    st = dropblock_forward3d(cfg, s, step, x, y, keep, ws, bytes);
    free(ws);
    return st;
}

/* ---- brute-force geometry (from THE MATH, scanning every seed position) ---- */

typedef struct box {
    int len[3], b[3]; /* depth, height, width; b clipped to the map */
    int anywhere;
} box;

static int clip(int block, int len) { return block < len ? block : len; }

static box make_box(int bd, int bh, int bw, int d, int h, int w, unsigned flags) {
    box g;
    g.len[0] = d; g.len[1] = h; g.len[2] = w;
    g.b[0] = clip(bd ? bd : bh, d);
    g.b[1] = clip(bh, h);
    g.b[2] = clip(bw ? bw : bh, w);
    g.anywhere = (flags & DROPBLOCK_SEED_ANYWHERE) != 0;
    return g;
}

static size_t box_voxels(const box *g) { return (size_t)g->len[0] * (size_t)g->len[1] * (size_t)g->len[2]; }

/* Map coordinates [lo, hi] where a seed may sit on axis a. */
static void seed_span(const box *g, int a, int *lo, int *hi) {
    *lo = g->anywhere ? 0 : (g->b[a] - 1) / 2;
    *hi = g->anywhere ? g->len[a] - 1 : g->len[a] - 1 - g->b[a] / 2;
}

/* A seed at r drops r - floor((b-1)/2) .. r + floor(b/2). */
static int drops(int r, int b, int x) { return r - (b - 1) / 2 <= x && x <= r + b / 2; }

/* cov[v]: how many allowed seed positions drop voxel v, by scanning them all. */
static void brute_covers(const box *g, unsigned *cov) {
    int lo[3], hi[3], x[3], r[3], a;
    for (a = 0; a < 3; ++a) seed_span(g, a, &lo[a], &hi[a]);
    for (x[0] = 0; x[0] < g->len[0]; ++x[0])
        for (x[1] = 0; x[1] < g->len[1]; ++x[1])
            for (x[2] = 0; x[2] < g->len[2]; ++x[2]) {
                unsigned n = 0;
                for (r[0] = lo[0]; r[0] <= hi[0]; ++r[0])
                    for (r[1] = lo[1]; r[1] <= hi[1]; ++r[1])
                        for (r[2] = lo[2]; r[2] <= hi[2]; ++r[2])
                            n += (unsigned)(drops(r[0], g->b[0], x[0]) && drops(r[1], g->b[1], x[1]) &&
                                            drops(r[2], g->b[2], x[2]));
                cov[((size_t)x[0] * (size_t)g->len[1] + (size_t)x[1]) * (size_t)g->len[2] + (size_t)x[2]] = n;
            }
}

/* Mean over voxels of (1 - gamma)^cover, summed with Kahan compensation so
   that thousands of terms do not lose the last digits the solver needs. */
static double brute_keep(const unsigned *cov, size_t nvox, double gamma) {
    double sum = 0.0, carry = 0.0;
    size_t v;
    for (v = 0; v < nvox; ++v) {
        double term = pow(1.0 - gamma, (double)cov[v]) - carry, next = sum + term;
        carry = (next - sum) - term;
        sum = next;
    }
    return sum / (double)nvox;
}

/* The documented solver: bisection on [0, 1] until the interval cannot
   shrink, then the endpoint whose expectation is closer to keep. */
static double brute_gamma_exact(const unsigned *cov, size_t nvox, double keep) {
    double lo = 0.0, hi = 1.0;
    if (keep >= 1.0) return 0.0;
    if (keep <= 0.0) return 1.0;
    for (;;) {
        double mid = lo + (hi - lo) / 2.0;
        if (!(mid > lo && mid < hi)) break;
        if (brute_keep(cov, nvox, mid) > keep)
            lo = mid;
        else
            hi = mid;
    }
    return brute_keep(cov, nvox, lo) - keep <= keep - brute_keep(cov, nvox, hi) ? lo : hi;
}

/* brute_covers of a box into a new array (the caller frees it). */
static unsigned *box_covers(const box *g) {
    unsigned *cov = (unsigned *)tu_xmalloc(box_voxels(g) * sizeof(unsigned));
    brute_covers(g, cov);
    return cov;
}

/* Expected kept fraction (brute force) of gamma on a box. */
static double box_keep(const box *g, double gamma) {
    unsigned *cov = box_covers(g);
    double e = brute_keep(cov, box_voxels(g), gamma);
    free(cov);
    return e;
}

static double box_gamma_exact(const box *g, double keep) {
    unsigned *cov = box_covers(g);
    double gamma = brute_gamma_exact(cov, box_voxels(g), keep);
    free(cov);
    return gamma;
}

static box cfg_box(const dropblock_config *cfg, dropblock_shape3d s) {
    return make_box(cfg->block_d, cfg->block_h, cfg->block_w, s.d, s.h, s.w, cfg->flags);
}

/* ---- the documented noise ---------------------------------------------------
   key = mix(key(seed, step) ^ 0x6A09E667F3BCC909); element e (NHWC-order
   logical index) is Box-Muller on words 2e and 2e+1. The library's own ln,
   sqrt and cos define the last bits, so the bit-exact value is taken from
   dropblock__noise with the key derived here from the documentation, and
   test_noise_box_muller checks dropblock__noise against libm's log, sqrt
   and cos on the documented uniforms. */

static float doc_noise(uint64_t seed, uint64_t step, size_t e) {
    return (float)dropblock__noise(tu_mix(tu_key(seed, step) ^ UINT64_C(0x6A09E667F3BCC909)), e);
}

/* The documented Box-Muller value in double with libm, from the words of
   the documented stream. */
static double libm_noise(uint64_t key, size_t e) {
    uint64_t w1 = tu_word(key, 2u * (uint64_t)e), w2 = tu_word(key, 2u * (uint64_t)e + 1u);
    double u1 = ldexp((double)(w1 >> 11) + 1.0, -53), u2 = ldexp((double)(w2 >> 11), -53);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

/* ---- the naive reference extended to EXACT_RATE and FILL_NOISE --------------
   EXACT_RATE: the brute-force exact gamma instead of the paper's. FILL_NOISE:
   no rescaling, and dropped elements get doc_noise in the forward pass (grad
   0) while backward (grad 1) leaves them +0. keep receives the mask. */
static void ext_ref(const dropblock_config *cfg, dropblock_shape3d s, uint64_t step, const float *x, float *y,
                    uint8_t *keep, int grad) {
    ref_geom g = ref_setup(cfg, s, step);
    int noise = (cfg->flags & DROPBLOCK_FILL_NOISE) != 0;
    size_t n, p, c;
    if (cfg->flags & DROPBLOCK_EXACT_RATE) {
        box b = cfg_box(cfg, s);
        g.t = ref_threshold(box_gamma_exact(&b, (double)cfg->keep_prob));
    }
    if (noise) g.scale = DROPBLOCK_SCALE_NONE;
    ref_keep_mask(&g, keep);
    if (g.t == 0) {
        memmove(y, x, tu_count3d(s) * sizeof(float));
        return;
    }
    for (n = 0; n < g.n; ++n) {
        float sc = ref_scale(&g, keep, n);
        for (p = 0; p < voxels(s); ++p)
            for (c = 0; c < g.c; ++c) {
                size_t e = ref_index(&g, n, p, c);
                if (keep[e])
                    y[e] = x[e] * sc;
                else
                    y[e] = noise && !grad ? doc_noise(cfg->seed, step, (n * voxels(s) + p) * g.c + c) : 0.0f;
            }
    }
}

/* First differing element of two float arrays (bitwise), or -1. */
static long first_diff(const float *a, const float *b, size_t n) {
    size_t k;
    for (k = 0; k < n; ++k)
        if (tu_bits(a[k]) != tu_bits(b[k])) return (long)k;
    return -1;
}

/* ======== 1. exact drop rate =============================================== */

static const int small_lens[] = {1, 2, 3, 5, 8, 13};
static const int small_blocks[] = {1, 2, 3, 4, 7, 20};
static const int small_bws[] = {0, 1, 2, 5};

/* dropblock_expected_keep against the brute-force mean of (1-gamma)^cover
   over 1728 geometries (both placements) and 7 gammas; both are sums of a
   few hundred correctly rounded terms, so 1e-12 relative is generous. */
static void test_expected_keep_brute_force(void **state) {
    static const double gammas[] = {0.0, 1e-4, 0.003, 0.05, 0.3, 0.7, 1.0};
    unsigned *cov = (unsigned *)tu_xmalloc((size_t)13 * 13 * sizeof(unsigned));
    size_t ih, iw, ib, iw2, ig;
    unsigned fl;
    (void)state;
    for (ih = 0; ih < 6; ++ih)
        for (iw = 0; iw < 6; ++iw)
            for (ib = 0; ib < 6; ++ib)
                for (iw2 = 0; iw2 < 4; ++iw2)
                    for (fl = 0; fl <= DROPBLOCK_SEED_ANYWHERE; fl += DROPBLOCK_SEED_ANYWHERE) {
                        int h = small_lens[ih], w = small_lens[iw], bh = small_blocks[ib], bw = small_bws[iw2];
                        box g = make_box(1, bh, bw, 1, h, w, fl);
                        brute_covers(&g, cov);
                        for (ig = 0; ig < sizeof gammas / sizeof gammas[0]; ++ig) {
                            double want = brute_keep(cov, box_voxels(&g), gammas[ig]);
                            double got = dropblock_expected_keep(gammas[ig], bh, bw, h, w, fl);
                            if (!(fabs(got - want) <= 1e-12 * want))
                                fail_msg("expected_keep(%g, %d, %d, %d, %d, %u) = %.17g, brute force %.17g",
                                         gammas[ig], bh, bw, h, w, fl, got, want);
                        }
                    }
    free(cov);
}

typedef struct geo { int bh, bw, h, w; unsigned flags; } geo;

/* Square, rectangular, even, anywhere, block > map, 1x1, long thin maps. */
static const geo round_trip_geos[] = {
    {7, 0, 14, 14, 0}, {7, 0, 14, 14, DROPBLOCK_SEED_ANYWHERE}, {3, 5, 13, 9, 0},
    {4, 2, 9, 13, 0},  {2, 0, 10, 10, DROPBLOCK_SEED_ANYWHERE}, {6, 4, 28, 20, DROPBLOCK_SEED_ANYWHERE},
    {20, 0, 7, 5, 0},  {20, 3, 7, 5, DROPBLOCK_SEED_ANYWHERE},  {1, 0, 1, 1, 0},
    {1, 0, 32, 32, 0}, {7, 0, 56, 56, 0},                       {3, 7, 5, 200, 0},
    {8, 0, 8, 8, 0},   {5, 0, 1, 9, DROPBLOCK_SEED_ANYWHERE},
};
#define N_GEOS (sizeof round_trip_geos / sizeof round_trip_geos[0])

/* gamma_exact(k) lands on the root: expected_keep of it equals k within
   1e-14 (a few ulps of k plus the E rounding of a few hundred terms), it
   matches the brute-force root, and the bits that are not SEED_ANYWHERE do
   not change it. */
static void test_gamma_exact_round_trip(void **state) {
    static const double keeps[] = {0.5, 0.8, 0.9, 0.95, 0.99};
    const unsigned other = DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SHARE_BATCH | DROPBLOCK_EXACT_RATE |
                           DROPBLOCK_FILL_NOISE;
    size_t i, k;
    (void)state;
    for (i = 0; i < N_GEOS; ++i) {
        const geo *q = &round_trip_geos[i];
        box b = make_box(1, q->bh, q->bw, 1, q->h, q->w, q->flags);
        for (k = 0; k < sizeof keeps / sizeof keeps[0]; ++k) {
            double gamma = dropblock_gamma_exact(keeps[k], q->bh, q->bw, q->h, q->w, q->flags);
            double e = dropblock_expected_keep(gamma, q->bh, q->bw, q->h, q->w, q->flags);
            double brute = box_gamma_exact(&b, keeps[k]), flagged;
            if (!(gamma > 0.0 && gamma < 1.0) || !(fabs(e - keeps[k]) <= 1e-14))
                fail_msg("geo %zu keep %g: gamma %.17g gives E %.17g", i, keeps[k], gamma, e);
            if (!(fabs(gamma - brute) <= 1e-12 * brute))
                fail_msg("geo %zu keep %g: gamma %.17g, brute-force root %.17g", i, keeps[k], gamma, brute);
            flagged = dropblock_gamma_exact(keeps[k], q->bh, q->bw, q->h, q->w, q->flags | other);
            assert_memory_equal(&gamma, &flagged, sizeof gamma);
        }
    }
}

/* The end points are exact; where a position has a single covering seed
   (block 1x1, or a block as large as the map) E = 1 - gamma, so gamma is
   1 - keep. */
static void test_gamma_exact_edges(void **state) {
    size_t i;
    (void)state;
    for (i = 0; i < N_GEOS; ++i) {
        const geo *q = &round_trip_geos[i];
        assert_true(dropblock_gamma_exact(1.0, q->bh, q->bw, q->h, q->w, q->flags) == 0.0);
        assert_true(dropblock_gamma_exact(0.0, q->bh, q->bw, q->h, q->w, q->flags) == 1.0);
        assert_true(dropblock_expected_keep(0.0, q->bh, q->bw, q->h, q->w, q->flags) == 1.0);
        assert_true(dropblock_expected_keep(1.0, q->bh, q->bw, q->h, q->w, q->flags) == 0.0);
    }
    assert_true(fabs(dropblock_gamma_exact(0.75, 1, 1, 9, 4, 0) - 0.25) <= 1e-15);
    assert_true(fabs(dropblock_gamma_exact(0.6, 9, 9, 9, 9, 0) - 0.4) <= 1e-15);
    assert_true(fabs(dropblock_gamma_exact(0.6, 30, 12, 9, 7, 0) - 0.4) <= 1e-15);
}

/* gamma_exact strictly decreases as keep grows (step 1/64), and
   expected_keep strictly decreases as gamma grows. */
static void test_gamma_exact_monotone(void **state) {
    size_t i;
    int k;
    (void)state;
    for (i = 0; i < N_GEOS; ++i) {
        const geo *q = &round_trip_geos[i];
        double prev_gamma = 2.0, prev_keep = 2.0;
        for (k = 0; k <= 64; ++k) {
            double gamma = dropblock_gamma_exact(k / 64.0, q->bh, q->bw, q->h, q->w, q->flags);
            double keep = dropblock_expected_keep(k / 64.0, q->bh, q->bw, q->h, q->w, q->flags);
            if (!(gamma < prev_gamma) || !(keep < prev_keep))
                fail_msg("geo %zu at %d/64: gamma %.17g after %.17g, E %.17g after %.17g", i, k, gamma, prev_gamma,
                         keep, prev_keep);
            prev_gamma = gamma;
            prev_keep = keep;
        }
    }
}

static void test_gamma_exact_invalid(void **state) {
    static const double bad_p[] = {-0.1, 1.0000001, 2.0, -1e-300};
    size_t k;
    (void)state;
    for (k = 0; k < sizeof bad_p / sizeof bad_p[0]; ++k) {
        assert_true(isnan(dropblock_gamma_exact(bad_p[k], 3, 3, 8, 8, 0)));
        assert_true(isnan(dropblock_expected_keep(bad_p[k], 3, 3, 8, 8, 0)));
    }
    assert_true(isnan(dropblock_gamma_exact(NAN, 3, 3, 8, 8, 0)));
    assert_true(isnan(dropblock_expected_keep(NAN, 3, 3, 8, 8, 0)));
    assert_true(isnan(dropblock_gamma_exact(0.9, 0, 3, 8, 8, 0)));
    assert_true(isnan(dropblock_gamma_exact(0.9, 3, -1, 8, 8, 0)));
    assert_true(isnan(dropblock_gamma_exact(0.9, 3, 3, 0, 8, 0)));
    assert_true(isnan(dropblock_gamma_exact(0.9, 3, 3, 8, -2, 0)));
    assert_true(isnan(dropblock_gamma_exact(0.9, 3, 3, 8, 8, 1u << 5)));
    assert_true(isnan(dropblock_gamma_exact(0.9, 3, 3, 8, 8, 0x80000000u)));
    assert_true(isnan(dropblock_expected_keep(0.1, -3, 3, 8, 8, 0)));
    assert_true(isnan(dropblock_expected_keep(0.1, 3, -1, 8, 8, 0)));
    assert_true(isnan(dropblock_expected_keep(0.1, 3, 3, 8, 0, 0)));
    assert_true(isnan(dropblock_expected_keep(0.1, 3, 3, 0, 8, 0)));
    assert_true(isnan(dropblock_expected_keep(0.1, 3, 3, 8, 8, 1u << 5)));
}

/* The paper's gamma keeps more than keep_prob once blocks overlap: for keep
   0.9, block 7 on 14x14 (gamma 0.00625) E[kept] = 0.9070..., i.e. 9.3%
   dropped instead of 10%; the exact gamma is larger. With no overlap
   (block 1x1, block = map) the two agree. */
static void test_paper_gamma_undershoots(void **state) {
    double paper = dropblock_gamma(0.9, 7, 7, 14, 14);
    double e = dropblock_expected_keep(paper, 7, 7, 14, 14, 0);
    box b = make_box(1, 7, 7, 1, 14, 14, 0);
    size_t i;
    (void)state;
    assert_true(fabs(e - box_keep(&b, paper)) <= 1e-12);
    assert_true(e > 0.906 && e < 0.908);
    assert_true(dropblock_gamma_exact(0.9, 7, 7, 14, 14, 0) > paper);
    for (i = 0; i < N_GEOS; ++i) {
        const geo *q = &round_trip_geos[i];
        box g = make_box(1, q->bh, q->bw, 1, q->h, q->w, q->flags);
        double p = dropblock_gamma(0.9, q->bh, q->bw, q->h, q->w);
        int overlap = g.b[1] * g.b[2] > 1 && (g.b[1] < q->h || g.b[2] < q->w || g.anywhere);
        if (overlap)
            assert_true(dropblock_expected_keep(p, q->bh, q->bw, q->h, q->w, 0) > 0.9 + 1e-6);
        else
            assert_true(fabs(dropblock_expected_keep(p, q->bh, q->bw, q->h, q->w, 0) - 0.9) <= 1e-15);
    }
}

/* Dropped fraction of every (n, c) map of a keep mask, accumulated. */
typedef struct moments { double sum, sum2; size_t count; } moments;

static void add_map_fractions(moments *m, const uint8_t *keep, dropblock_shape3d s, dropblock_layout layout) {
    size_t n, c, p;
    for (n = 0; n < (size_t)s.n; ++n)
        for (c = 0; c < (size_t)s.c; ++c) {
            size_t dropped = 0;
            double f;
            for (p = 0; p < voxels(s); ++p) dropped += !keep[index3(layout, s, n, p, c)];
            f = (double)dropped / (double)voxels(s);
            m->sum += f;
            m->sum2 += f * f;
            ++m->count;
        }
}

typedef struct rate_case {
    dropblock_shape3d s;
    float keep_prob;
    int bd, bh, bw;
    unsigned flags;
    dropblock_layout layout;
    int three_d, steps;
} rate_case;

/* Maps are independent (no sharing flags), so their dropped fractions are
   i.i.d. with mean 1 - keep_prob under EXACT_RATE (t = floor(gamma*2^32)
   moves it by < 1e-8). Tolerance: 6 sample standard deviations of the mean.
   Where the paper's gamma would miss the target, the tolerance must be below
   half the miss, so a forward that ignored the flag fails. */
static void check_exact_rate(const rate_case *rc) {
    dropblock_config cfg = make_cfg(rc->keep_prob, rc->bd, rc->bh, rc->bw, rc->flags | DROPBLOCK_EXACT_RATE,
                                    DROPBLOCK_SCALE_BATCH, rc->layout);
    size_t total = tu_count3d(rc->s);
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)tu_xmalloc(total);
    box b = cfg_box(&cfg, rc->s);
    double target = 1.0 - (double)rc->keep_prob, mean, sd, tol, paper_miss;
    moments m = {0.0, 0.0, 0};
    int step;
    fill_logical(x, rc->s, rc->layout, 5);
    for (step = 0; step < rc->steps; ++step) {
        assert_int_equal(run_forward(&cfg, rc->s, (uint64_t)step, x, y, keep, rc->three_d), DROPBLOCK_OK);
        add_map_fractions(&m, keep, rc->s, rc->layout);
    }
    mean = m.sum / (double)m.count;
    sd = sqrt((m.sum2 - m.sum * mean) / (double)(m.count - 1));
    tol = 6.0 * sd / sqrt((double)m.count);
    paper_miss = fabs(1.0 - box_keep(&b, dropblock_gamma3d((double)rc->keep_prob, rc->bd, rc->bh, rc->bw, rc->s.d,
                                                          rc->s.h, rc->s.w)) -
                      target);
    if (!(fabs(mean - target) <= tol))
        fail_msg("%dx%dx%d block %dx%dx%d keep %g: dropped %.6f, want %.6f +- %.6f", rc->s.d, rc->s.h, rc->s.w,
                 b.b[0], b.b[1], b.b[2], (double)rc->keep_prob, mean, target, tol);
    if (paper_miss > 1e-3) assert_true(tol < paper_miss / 2.0);
    free(x);
    free(y);
    free(keep);
}

static void test_exact_rate_empirical(void **state) {
    const unsigned any = DROPBLOCK_SEED_ANYWHERE;
    const rate_case cases[] = {
        {{16, 1, 14, 14, 32}, 0.9f, 0, 7, 0, 0, DROPBLOCK_NHWC, 0, 200},
        {{16, 1, 14, 14, 32}, 0.9f, 0, 7, 0, any, DROPBLOCK_NCHW, 0, 120},
        {{32, 1, 9, 11, 8}, 0.7f, 0, 3, 5, 0, DROPBLOCK_NCHW, 0, 60},
        {{32, 1, 16, 16, 8}, 0.8f, 0, 4, 0, any, DROPBLOCK_NHWC, 0, 60},
        {{32, 1, 8, 8, 8}, 0.5f, 0, 1, 0, 0, DROPBLOCK_NHWC, 0, 20},
        {{16, 6, 6, 6, 8}, 0.8f, 3, 3, 0, 0, DROPBLOCK_NHWC, 1, 80},
        {{16, 4, 7, 5, 8}, 0.85f, 2, 3, 0, any, DROPBLOCK_NCHW, 1, 80},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) check_exact_rate(&cases[i]);
}

/* Without the flag the paper's path is unchanged: the mask equals the naive
   reference (paper gamma; its checksum is the row default_path_block7 of
   tests/golden.h); with the flag the mask
   drops more here (same stream, larger gamma, so a superset of seeds). */
static void test_default_path_unchanged(void **state) {
    dropblock_shape3d s = tu_shape3(4, 1, 14, 14, 8);
    dropblock_config cfg = make_cfg(0.9f, 0, 7, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC);
    size_t total = tu_count3d(s), k, kept = 0, kept_exact = 0;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    float *yr = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)tu_xmalloc(total), *keep_ref = (uint8_t *)tu_xmalloc(total);
    uint8_t *keep_exact = (uint8_t *)tu_xmalloc(total);
    (void)state;
    fill_logical(x, s, cfg.layout, 11);
    assert_int_equal(dropblock_forward(&cfg, tu_flat(s), 7, x, y, keep), DROPBLOCK_OK);
    ref_forward3d(&cfg, s, 7, x, yr, keep_ref);
    assert_int_equal(memcmp(keep, keep_ref, total), 0);
    assert_int_equal(first_diff(y, yr, total), -1);
    cfg.flags = DROPBLOCK_EXACT_RATE;
    assert_int_equal(dropblock_forward(&cfg, tu_flat(s), 7, x, y, keep_exact), DROPBLOCK_OK);
    for (k = 0; k < total; ++k) {
        kept += keep[k];
        kept_exact += keep_exact[k];
        assert_true(keep_exact[k] <= keep[k]);
    }
    assert_true(kept_exact < kept);
    free(x);
    free(y);
    free(yr);
    free(keep);
    free(keep_ref);
    free(keep_exact);
}

/* ======== 2. noise fill ===================================================== */

/* Every element, both layouts, every sharing and scale: kept elements are x
   bit for bit (no rescaling), dropped ones the documented noise of their
   logical index, and the mask is the one without FILL_NOISE. */
static void test_noise_values(void **state) {
    dropblock_shape3d s = tu_shape3(3, 1, 9, 7, 5);
    size_t total = tu_count3d(s), n, p, c, dropped = 0;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    float *y_plain = (float *)tu_xmalloc(total * sizeof(float));
    float *out[2];
    uint8_t *keep = (uint8_t *)tu_xmalloc(total), *keep_plain = (uint8_t *)tu_xmalloc(total);
    unsigned share;
    int scale, lay;
    (void)state;
    out[0] = (float *)tu_xmalloc(total * sizeof(float));
    out[1] = (float *)tu_xmalloc(total * sizeof(float));
    for (share = 0; share < 4; ++share)
        for (scale = 0; scale <= (int)DROPBLOCK_SCALE_NONE; ++scale) {
            for (lay = 0; lay < 2; ++lay) {
                dropblock_layout layout = (dropblock_layout)lay;
                dropblock_config cfg = make_cfg(0.7f, 0, 3, 2, share | DROPBLOCK_FILL_NOISE, (dropblock_scale)scale,
                                                layout);
                fill_logical(x, s, layout, 3);
                assert_int_equal(dropblock_forward(&cfg, tu_flat(s), 9, x, y, keep), DROPBLOCK_OK);
                cfg.flags &= ~(unsigned)DROPBLOCK_FILL_NOISE;
                assert_int_equal(dropblock_forward(&cfg, tu_flat(s), 9, x, y_plain, keep_plain), DROPBLOCK_OK);
                assert_int_equal(memcmp(keep, keep_plain, total), 0);
                for (n = 0; n < (size_t)s.n; ++n)
                    for (p = 0; p < voxels(s); ++p)
                        for (c = 0; c < (size_t)s.c; ++c) {
                            size_t e = index3(layout, s, n, p, c);
                            float want = keep[e] ? x[e] : doc_noise(cfg.seed, 9, (n * voxels(s) + p) * (size_t)s.c + c);
                            if (tu_bits(y[e]) != tu_bits(want))
                                fail_msg("share %u scale %d layout %d element (%zu,%zu,%zu): %a, want %a", share,
                                         scale, lay, n, p, c, (double)y[e], (double)want);
                            dropped += !keep[e];
                            out[lay][index3(DROPBLOCK_NHWC, s, n, p, c)] = y[e];
                        }
            }
            assert_int_equal(first_diff(out[0], out[1], total), -1);
        }
    assert_true(dropped > total);
    free(x);
    free(y);
    free(y_plain);
    free(out[0]);
    free(out[1]);
    free(keep);
    free(keep_plain);
}

/* dropblock__noise is the documented Box-Muller value: against libm's log,
   sqrt and cos on the same uniforms it differs only by the rounding to
   float (the double series are within ~1e-15): within one float ulp of the
   double value, over 4 * 10^5 elements of two streams. */
static void test_noise_box_muller(void **state) {
    size_t e, k;
    (void)state;
    for (k = 0; k < 2; ++k) {
        uint64_t key = tu_mix(tu_key(k, 1000u + k) ^ UINT64_C(0x6A09E667F3BCC909));
        for (e = 0; e < 200000; ++e) {
            double want = libm_noise(key, e), got = (double)dropblock__noise(key, e);
            double ulp = ldexp(1.0, ilogb(want == 0.0 ? 1.0 : fabs(want)) - 23);
            if (!(fabs(got - want) <= ulp)) fail_msg("noise %zu of stream %zu: %.9g, libm %.17g", e, k, got, want);
        }
    }
}

/* The noise of distinct elements uses distinct words, so dropped values are
   i.i.d. standard normal (Box-Muller from 53-bit uniforms: |z| <= 8.58).
   Over M values the mean has standard deviation 1/sqrt(M) and the mean of
   z^2 has sqrt((3 - 1)/M); both must lie within 6 of those. */
static void test_noise_statistics(void **state) {
    dropblock_shape3d s = tu_shape3(64, 1, 32, 32, 8);
    dropblock_config cfg = make_cfg(0.2f, 0, 5, 0, DROPBLOCK_FILL_NOISE, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC);
    size_t total = tu_count3d(s), k, m = 0;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)tu_xmalloc(total);
    double sum = 0.0, sum2 = 0.0, mean, var;
    (void)state;
    fill_logical(x, s, cfg.layout, 21);
    assert_int_equal(dropblock_forward(&cfg, tu_flat(s), 1, x, y, keep), DROPBLOCK_OK);
    for (k = 0; k < total; ++k) {
        if (keep[k]) continue;
        assert_true(fabs((double)y[k]) <= 8.58);
        sum += y[k];
        sum2 += (double)y[k] * y[k];
        ++m;
    }
    assert_true(m > total / 2);
    mean = sum / (double)m;
    var = sum2 / (double)m;
    if (!(fabs(mean) <= 6.0 / sqrt((double)m)) || !(fabs(var - 1.0) <= 6.0 * sqrt(2.0 / (double)m)))
        fail_msg("noise over %zu values: mean %.6f, E[z^2] %.6f", m, mean, var);
    free(x);
    free(y);
    free(keep);
}

/* Backward with FILL_NOISE: dy passes unscaled where forward kept, +0 where
   it dropped (no gradient into the noise), for every scale and both layouts. */
static void test_noise_backward(void **state) {
    dropblock_shape3d s = tu_shape3(4, 1, 10, 12, 3);
    size_t total = tu_count3d(s), k;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    float *dy = (float *)tu_xmalloc(total * sizeof(float)), *dx = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)tu_xmalloc(total);
    int scale, lay;
    (void)state;
    for (lay = 0; lay < 2; ++lay)
        for (scale = 0; scale <= (int)DROPBLOCK_SCALE_NONE; ++scale) {
            dropblock_config cfg = make_cfg(0.6f, 0, 3, 0, DROPBLOCK_FILL_NOISE | DROPBLOCK_SHARE_CHANNELS,
                                            (dropblock_scale)scale, (dropblock_layout)lay);
            size_t dropped = 0;
            fill_logical(x, s, cfg.layout, 1);
            fill_logical(dy, s, cfg.layout, 2);
            assert_int_equal(dropblock_forward(&cfg, tu_flat(s), 4, x, y, keep), DROPBLOCK_OK);
            assert_int_equal(dropblock_backward(&cfg, tu_flat(s), 4, dy, dx), DROPBLOCK_OK);
            for (k = 0; k < total; ++k) {
                assert_int_equal(tu_bits(dx[k]), keep[k] ? tu_bits(dy[k]) : 0u);
                dropped += !keep[k];
            }
            assert_true(dropped > 0 && dropped < total);
        }
    free(x);
    free(y);
    free(dy);
    free(dx);
    free(keep);
}

/* keep_prob 1 with noise: no seed, so the output is x bit for bit, NaN and
   Inf included, and the mask is all ones. */
static void test_noise_identity(void **state) {
    dropblock_shape3d s = tu_shape3(2, 1, 5, 6, 3);
    dropblock_config cfg = make_cfg(1.0f, 0, 3, 0, DROPBLOCK_FILL_NOISE | DROPBLOCK_EXACT_RATE,
                                    DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC);
    size_t total = tu_count3d(s);
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)tu_xmalloc(total);
    (void)state;
    fill_logical(x, s, cfg.layout, 8);
    x[3] = NAN;
    x[7] = INFINITY;
    x[11] = -0.0f;
    assert_int_equal(dropblock_forward(&cfg, tu_flat(s), 0, x, y, keep), DROPBLOCK_OK);
    assert_int_equal(memcmp(x, y, total * sizeof(float)), 0);
    assert_true(tu_all_bytes(keep, total, 1));
    free(x);
    free(y);
    free(keep);
}

/* "y = x where K = 1": kept elements are copied bit for bit under
   FILL_NOISE, special values included (a signalling NaN, a NaN payload,
   infinities, -0, subnormals), both layouts, every scale. */
static void test_noise_kept_specials(void **state) {
    static const uint32_t specials[] = {0x7F800001u, 0xFFC12345u, 0x7F800000u, 0xFF800000u,
                                        0x80000000u, 0x00000001u, 0x807FFFFFu, 0x3F800000u};
    dropblock_shape3d s = tu_shape3(2, 1, 8, 8, 4);
    size_t total = tu_count3d(s), k, kept = 0;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)tu_xmalloc(total);
    int scale, lay;
    (void)state;
    for (k = 0; k < total; ++k) memcpy(&x[k], &specials[k % 8], sizeof(float));
    for (lay = 0; lay < 2; ++lay)
        for (scale = 0; scale <= (int)DROPBLOCK_SCALE_NONE; ++scale) {
            dropblock_config cfg = make_cfg(0.8f, 0, 2, 0, DROPBLOCK_FILL_NOISE, (dropblock_scale)scale,
                                            (dropblock_layout)lay);
            assert_int_equal(dropblock_forward(&cfg, tu_flat(s), 6, x, y, keep), DROPBLOCK_OK);
            for (k = 0; k < total; ++k) {
                if (!keep[k]) continue;
                ++kept;
                if (tu_bits(y[k]) != tu_bits(x[k]))
                    fail_msg("layout %d scale %d: kept element %zu is %08x, x is %08x", lay, scale, k,
                             (unsigned)tu_bits(y[k]), (unsigned)tu_bits(x[k]));
            }
        }
    assert_true(kept > 0);
    free(x);
    free(y);
    free(keep);
}

/* ======== 3. 3-D ============================================================= */

/* Random small shapes and configs: forward3d (mask and output) and
   backward3d equal the extended reference bit for bit, every flag
   combination, scale and layout, sometimes in place. */
static void test_forward3d_vs_reference(void **state) {
    static const float kps[] = {0.0f, 0.3f, 0.7f, 0.9f, 1.0f};
    ref_rng r;
    int it;
    (void)state;
    r.s = 63;
    for (it = 0; it < 300; ++it) {
        dropblock_shape3d s = tu_shape3(ref_rng_int(&r, 1, 3), ref_rng_int(&r, 1, 5), ref_rng_int(&r, 1, 6),
                                     ref_rng_int(&r, 1, 6), ref_rng_int(&r, 1, 4));
        float kp = it % 3 ? kps[ref_rng_int(&r, 0, 4)] : ref_rng_float(&r, 0.0f, 1.0f);
        dropblock_config cfg = make_cfg(kp, ref_rng_int(&r, 0, 4), ref_rng_int(&r, 1, 5), ref_rng_int(&r, 0, 5),
                                        (unsigned)ref_rng_int(&r, 0, 31), (dropblock_scale)ref_rng_int(&r, 0, 3),
                                        (dropblock_layout)ref_rng_int(&r, 0, 1));
        size_t total = tu_count3d(s), bytes = 0;
        float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
        float *yr = (float *)tu_xmalloc(total * sizeof(float));
        uint8_t *keep = (uint8_t *)tu_xmalloc(total), *keep_ref = (uint8_t *)tu_xmalloc(total);
        uint64_t step = ref_rng_u64(&r) % 1000;
        int in_place = it % 4 == 0, grad;
        void *ws;
        cfg.seed = ref_rng_u64(&r);
        assert_int_equal(dropblock_workspace_size3d(s, &bytes), DROPBLOCK_OK);
        ws = tu_xmalloc(bytes);
        for (grad = 0; grad < 2; ++grad) {
            dropblock_status st;
            long bad;
            ref_fill(&r, x, total);
            ext_ref(&cfg, s, step, x, yr, keep_ref, grad);
            if (in_place) memcpy(y, x, total * sizeof(float));
            st = grad ? dropblock_backward3d(&cfg, s, step, in_place ? y : x, y, ws, bytes)
                      : dropblock_forward3d(&cfg, s, step, in_place ? y : x, y, keep, ws, bytes);
            assert_int_equal(st, DROPBLOCK_OK);
            bad = first_diff(y, yr, total);
            if (bad >= 0 || (!grad && memcmp(keep, keep_ref, total) != 0))
                fail_msg("case %d (%s) n%d d%d h%d w%d c%d kp %a block %d/%d/%d flags %u scale %d layout %d: "
                         "element %ld %a vs %a",
                         it, grad ? "backward" : "forward", s.n, s.d, s.h, s.w, s.c, (double)kp, cfg.block_d,
                         cfg.block_h, cfg.block_w, cfg.flags, (int)cfg.scale, (int)cfg.layout, bad,
                         bad >= 0 ? (double)y[bad] : 0.0, bad >= 0 ? (double)yr[bad] : 0.0);
        }
        free(ws);
        free(x);
        free(y);
        free(yr);
        free(keep);
        free(keep_ref);
    }
}

/* d = 1 is the 2-D call, whatever block_d, for every flag, scale and layout. */
static void test_3d_depth1_is_2d(void **state) {
    dropblock_shape3d s = tu_shape3(3, 1, 11, 9, 4);
    size_t total = tu_count3d(s), bytes = 0;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y2 = (float *)tu_xmalloc(total * sizeof(float));
    float *y3 = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *k2 = (uint8_t *)tu_xmalloc(total), *k3 = (uint8_t *)tu_xmalloc(total);
    void *ws;
    unsigned flags;
    int scale, lay;
    (void)state;
    assert_int_equal(dropblock_workspace_size3d(s, &bytes), DROPBLOCK_OK);
    ws = tu_xmalloc(bytes);
    for (flags = 0; flags < 32; ++flags)
        for (scale = 0; scale <= (int)DROPBLOCK_SCALE_NONE; ++scale)
            for (lay = 0; lay < 2; ++lay) {
                dropblock_config cfg = make_cfg(0.75f, (int)(flags % 5), 3, 4, flags, (dropblock_scale)scale,
                                                (dropblock_layout)lay);
                fill_logical(x, s, cfg.layout, flags);
                assert_int_equal(dropblock_forward_ws(&cfg, tu_flat(s), flags, x, y2, k2, ws, bytes), DROPBLOCK_OK);
                assert_int_equal(dropblock_forward3d(&cfg, s, flags, x, y3, k3, ws, bytes), DROPBLOCK_OK);
                assert_int_equal(first_diff(y2, y3, total), -1);
                assert_int_equal(memcmp(k2, k3, total), 0);
                assert_int_equal(dropblock_backward_ws(&cfg, tu_flat(s), flags, x, y2, ws, bytes), DROPBLOCK_OK);
                assert_int_equal(dropblock_backward3d(&cfg, s, flags, x, y3, ws, bytes), DROPBLOCK_OK);
                assert_int_equal(first_diff(y2, y3, total), -1);
            }
    free(ws);
    free(x);
    free(y2);
    free(y3);
    free(k2);
    free(k3);
}

/* Hand-computed 3-D gammas (same operations in a different order, so within
   a couple of ulps), block_d 0 = block_h, clipping, and NaN on bad input. */
static void test_gamma3d(void **state) {
    (void)state;
    assert_true(fabs(dropblock_gamma3d(0.9, 3, 3, 3, 8, 8, 8) - (1.0 - 0.9) / 27.0 * 512.0 / 216.0) <= 1e-17);
    assert_true(fabs(dropblock_gamma3d(0.8, 2, 3, 4, 5, 7, 9) - (1.0 - 0.8) / 24.0 * 315.0 / (4.0 * 5.0 * 6.0)) <=
                1e-17);
    assert_true(dropblock_gamma3d(0.9, 0, 3, 3, 8, 8, 8) == dropblock_gamma3d(0.9, 3, 3, 3, 8, 8, 8));
    assert_true(dropblock_gamma3d(0.7, 1, 5, 0, 1, 9, 9) == dropblock_gamma(0.7, 5, 0, 9, 9));
    assert_true(dropblock_gamma3d(0.9, 20, 3, 3, 4, 8, 8) == dropblock_gamma3d(0.9, 4, 3, 3, 4, 8, 8));
    assert_true(fabs(dropblock_gamma3d(0.9, 9, 9, 9, 4, 5, 6) - 0.1) <= 1e-16);
    assert_true(dropblock_gamma3d(1.0, 3, 3, 3, 8, 8, 8) == 0.0);
    assert_true(dropblock_gamma3d(0.0, 8, 8, 8, 8, 8, 8) == 1.0);
    assert_true(fabs(dropblock_gamma3d(0.0, 7, 7, 7, 8, 8, 8) - 512.0 / (343.0 * 8.0)) <= 1e-16);
    assert_true(isnan(dropblock_gamma3d(NAN, 3, 3, 3, 8, 8, 8)));
    assert_true(isnan(dropblock_gamma3d(1.5, 3, 3, 3, 8, 8, 8)));
    assert_true(isnan(dropblock_gamma3d(-0.5, 3, 3, 3, 8, 8, 8)));
    assert_true(isnan(dropblock_gamma3d(0.9, -1, 3, 3, 8, 8, 8)));
    assert_true(isnan(dropblock_gamma3d(0.9, 3, 0, 3, 8, 8, 8)));
    assert_true(isnan(dropblock_gamma3d(0.9, 3, 3, -1, 8, 8, 8)));
    assert_true(isnan(dropblock_gamma3d(0.9, 3, 3, 3, 0, 8, 8)));
    assert_true(isnan(dropblock_gamma3d(0.9, 3, 3, 3, 8, 0, 8)));
    assert_true(isnan(dropblock_gamma3d(0.9, 3, 3, 3, 8, 8, -4)));
}

/* In valid placement every dropped voxel lies in a whole bd x bh x bw box
   that is entirely dropped (blocks span depth), checked per map with boxes
   whose depth differs from their height and width. */
static int box_dropped(const uint8_t *keep, dropblock_shape3d s, size_t n, size_t c, const box *b, int z0, int i0,
                       int j0) {
    int z, i, j;
    for (z = z0; z < z0 + b->b[0]; ++z)
        for (i = i0; i < i0 + b->b[1]; ++i)
            for (j = j0; j < j0 + b->b[2]; ++j)
                if (keep[index3(DROPBLOCK_NCHW, s, n, (((size_t)z * (size_t)s.h + (size_t)i) * (size_t)s.w + (size_t)j), c)])
                    return 0;
    return 1;
}

static void test_3d_blocks_span_depth(void **state) {
    static const int blocks[][3] = {{2, 3, 1}, {4, 2, 2}, {0, 3, 0}, {3, 1, 1}};
    dropblock_shape3d s = tu_shape3(4, 9, 8, 7, 6);
    size_t total = tu_count3d(s), bytes = 0, n, c, dropped = 0, bi;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)tu_xmalloc(total), *covered = (uint8_t *)tu_xmalloc(voxels(s));
    void *ws;
    (void)state;
    assert_int_equal(dropblock_workspace_size3d(s, &bytes), DROPBLOCK_OK);
    ws = tu_xmalloc(bytes);
    fill_logical(x, s, DROPBLOCK_NCHW, 4);
    for (bi = 0; bi < sizeof blocks / sizeof blocks[0]; ++bi) {
        dropblock_config cfg = make_cfg(0.85f, blocks[bi][0], blocks[bi][1], blocks[bi][2], 0, DROPBLOCK_SCALE_NONE,
                                        DROPBLOCK_NCHW);
        box b = cfg_box(&cfg, s);
        assert_int_equal(dropblock_forward3d(&cfg, s, bi, x, y, keep, ws, bytes), DROPBLOCK_OK);
        for (n = 0; n < (size_t)s.n; ++n)
            for (c = 0; c < (size_t)s.c; ++c) {
                size_t p;
                int z, i, j, a, bz, bi2, bj;
                memset(covered, 0, voxels(s));
                for (z = 0; z + b.b[0] <= s.d; ++z)
                    for (i = 0; i + b.b[1] <= s.h; ++i)
                        for (j = 0; j + b.b[2] <= s.w; ++j) {
                            if (!box_dropped(keep, s, n, c, &b, z, i, j)) continue;
                            for (bz = z; bz < z + b.b[0]; ++bz)
                                for (bi2 = i; bi2 < i + b.b[1]; ++bi2)
                                    for (bj = j; bj < j + b.b[2]; ++bj)
                                        covered[((size_t)bz * (size_t)s.h + (size_t)bi2) * (size_t)s.w + (size_t)bj] = 1;
                        }
                for (p = 0, a = 0; p < voxels(s); ++p) {
                    int is_dropped = !keep[index3(DROPBLOCK_NCHW, s, n, p, c)];
                    dropped += (size_t)is_dropped;
                    a |= is_dropped && !covered[p];
                }
                if (a) fail_msg("block %zu map (%zu,%zu): a dropped voxel is in no whole dropped box", bi, n, c);
            }
    }
    assert_true(dropped > total / 20);
    free(ws);
    free(x);
    free(y);
    free(keep);
    free(covered);
}

/* Bad 3-D input returns its code and writes nothing: y, keep and x keep
   their pattern, and workspace_size3d leaves *bytes alone. */
static void test_3d_errors(void **state) {
    dropblock_shape3d s = tu_shape3(2, 3, 4, 5, 2);
    size_t total = tu_count3d(s), bytes = 0, pattern_bytes;
    float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
    uint8_t *keep = (uint8_t *)tu_xmalloc(total), *ws;
    dropblock_config cfg = make_cfg(0.7f, 2, 2, 2, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC);
    dropblock_shape3d bad_d = s;
    int v;
    (void)state;
    assert_int_equal(dropblock_workspace_size3d(s, &bytes), DROPBLOCK_OK);
    ws = (uint8_t *)tu_xmalloc(bytes);
    bad_d.d = 0;
    pattern_bytes = 12345;
    assert_int_equal(dropblock_workspace_size3d(bad_d, &pattern_bytes), DROPBLOCK_ERR_SHAPE);
    assert_int_equal(pattern_bytes, 12345);
    bad_d.d = -3;
    assert_int_equal(dropblock_workspace_size3d(bad_d, &pattern_bytes), DROPBLOCK_ERR_SHAPE);
    for (v = 0; v < 5; ++v) {
        dropblock_config c2 = cfg;
        dropblock_shape3d s2 = s;
        size_t ws_bytes = bytes;
        dropblock_status want, got;
        switch (v) {
        case 0: c2.block_d = -1; want = DROPBLOCK_ERR_BLOCK; break;
        case 1: c2.block_d = -100; want = DROPBLOCK_ERR_BLOCK; break;
        case 2: s2.d = 0; want = DROPBLOCK_ERR_SHAPE; break;
        case 3: s2.d = -1; want = DROPBLOCK_ERR_SHAPE; break;
        default: ws_bytes = bytes - 1; want = DROPBLOCK_ERR_WORKSPACE; break;
        }
        tu_fill(x, total * sizeof(float), 0x3C);
        tu_fill(y, total * sizeof(float), TU_PATTERN);
        tu_fill(keep, total, TU_PATTERN);
        got = dropblock_forward3d(&c2, s2, 1, x, y, keep, ws, ws_bytes);
        assert_int_equal(got, want);
        assert_true(tu_all_bytes(y, total * sizeof(float), TU_PATTERN));
        assert_true(tu_all_bytes(keep, total, TU_PATTERN));
        assert_true(tu_all_bytes(x, total * sizeof(float), 0x3C));
        got = dropblock_backward3d(&c2, s2, 1, x, y, ws, ws_bytes);
        assert_int_equal(got, want);
        assert_true(tu_all_bytes(y, total * sizeof(float), TU_PATTERN));
        assert_true(tu_all_bytes(x, total * sizeof(float), 0x3C));
    }
    assert_int_equal(dropblock_forward3d(&cfg, s, 1, x, y, keep, NULL, bytes), DROPBLOCK_ERR_NULL);
    assert_true(tu_all_bytes(y, total * sizeof(float), TU_PATTERN));
    free(x);
    free(y);
    free(keep);
    free(ws);
}

/* ======== golden values ====================================================== */

/* Every row of tests/golden.h: first equal to the extended reference bit for
   bit, then equal to its pinned checksums. */
static void test_golden(void **state) {
    size_t i;
    (void)state;
    for (i = 0; i < sizeof golden_forwards / sizeof golden_forwards[0]; ++i) {
        const golden_forward *g = &golden_forwards[i];
        dropblock_config cfg = tu_config(g->keep_prob, g->block_d, g->block_h, g->block_w, g->flags, g->scale,
                                         g->layout, g->seed);
        dropblock_shape3d s = tu_shape3(g->n, g->d, g->h, g->w, g->c);
        size_t total = tu_count3d(s);
        float *x = (float *)tu_xmalloc(total * sizeof(float)), *y = (float *)tu_xmalloc(total * sizeof(float));
        float *yr = (float *)tu_xmalloc(total * sizeof(float));
        uint8_t *keep = (uint8_t *)tu_xmalloc(total), *keep_ref = (uint8_t *)tu_xmalloc(total);
        size_t kept = 0, k;
        fill_logical(x, s, cfg.layout, 11);
        assert_int_equal(run_forward(&cfg, s, g->step, x, y, keep, g->three_d), DROPBLOCK_OK);
        ext_ref(&cfg, s, g->step, x, yr, keep_ref, 0);
        assert_int_equal(first_diff(y, yr, total), -1);
        assert_int_equal(memcmp(keep, keep_ref, total), 0);
        /* a pinned mask must be a real draw, neither all kept nor all dropped */
        for (k = 0; k < total; ++k) kept += keep[k];
        assert_in_range(kept, 1, total - 1);
        if (tu_fnv1a(keep, total) != g->mask_fnv || tu_fnv1a(y, total * sizeof(float)) != g->y_fnv)
            fail_msg("golden %s: mask UINT64_C(0x%016llX), y UINT64_C(0x%016llX)", g->name,
                     (unsigned long long)tu_fnv1a(keep, total), (unsigned long long)tu_fnv1a(y, total * sizeof(float)));
        free(x);
        free(y);
        free(yr);
        free(keep);
        free(keep_ref);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expected_keep_brute_force),
        cmocka_unit_test(test_gamma_exact_round_trip),
        cmocka_unit_test(test_gamma_exact_edges),
        cmocka_unit_test(test_gamma_exact_monotone),
        cmocka_unit_test(test_gamma_exact_invalid),
        cmocka_unit_test(test_paper_gamma_undershoots),
        cmocka_unit_test(test_exact_rate_empirical),
        cmocka_unit_test(test_default_path_unchanged),
        cmocka_unit_test(test_noise_values),
        cmocka_unit_test(test_noise_box_muller),
        cmocka_unit_test(test_noise_statistics),
        cmocka_unit_test(test_noise_backward),
        cmocka_unit_test(test_noise_identity),
        cmocka_unit_test(test_noise_kept_specials),
        cmocka_unit_test(test_forward3d_vs_reference),
        cmocka_unit_test(test_3d_depth1_is_2d),
        cmocka_unit_test(test_gamma3d),
        cmocka_unit_test(test_3d_blocks_span_depth),
        cmocka_unit_test(test_3d_errors),
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
