/* Element types (THE MATH, Tensors): every one of the 65 536 F16 and BF16 bit
   patterns through a copy (keep_prob 1: bits identical) and through kept
   elements with non-unit scales, against the reference conversion of
   tensor_util.h (integer arithmetic: half to float exact; float to half or
   bf16 to nearest even with subnormals, overflow to Inf, NaN quieted).
   Scales of 1.5 and 1.25 (set with dropblock_mask_set_batch) make every
   odd-significand input an exact tie; 3 overflows the top third of the
   range. F64 takes its scale in double, FILL_NOISE rounds the double noise
   once to each type, and x and y of different dtypes are rejected. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "reference.h"
#include "tensor_util.h"

#define PATTERNS ((size_t)65536)

/* 2 x 64 x 64 x 8 = 65 536 elements: one per bit pattern. */
static dropblock_tensor exhaustive_like(dropblock_dtype dt, void *data) {
    return tt_ndhwc(data, dt, 2, 1, 64, 64, 8);
}

static dropblock_config base_config(float keep_prob, dropblock_scale scale) {
    dropblock_config cfg = tu_config(keep_prob, 0, 3, 0, 0, scale, DROPBLOCK_NHWC, 20240607);
    return cfg;
}

/* ---- the reference itself ----------------------------------------------------- */

/* Worked values of the conversions, ties, subnormals, overflow and NaN. */
static void test_reference_conversions(void **state) {
    static const struct { uint32_t f; uint16_t h, b; } cases[] = {
        {0x3F800000u, 0x3C00, 0x3F80}, /* 1                                            */
        {0x477FE000u, 0x7BFF, 0x4780}, /* 65504: largest half                          */
        {0x477FEFFFu, 0x7BFF, 0x4780}, /* just below the half overflow threshold       */
        {0x477FF000u, 0x7C00, 0x4780}, /* 65520: tie to even is Inf                    */
        {0xC77FF000u, 0xFC00, 0xC780}, /* -65520                                       */
        {0x33800000u, 0x0001, 0x3380}, /* 2^-24: smallest half subnormal               */
        {0x33000000u, 0x0000, 0x3300}, /* 2^-25: tie between 0 and 2^-24, even is 0    */
        {0x33400000u, 0x0001, 0x3340}, /* 1.5 * 2^-25: above the tie                   */
        {0x33C00000u, 0x0002, 0x33C0}, /* 3 * 2^-25: tie, even is 2                    */
        {0x3F801000u, 0x3C00, 0x3F80}, /* 1 + 2^-11: tie, even; bf16 below its tie     */
        {0x3F803000u, 0x3C02, 0x3F80}, /* 1 + 3 * 2^-11: tie, even is up               */
        {0x3F808000u, 0x3C04, 0x3F80}, /* 1 + 2^-8: bf16 tie, even stays               */
        {0x3F818000u, 0x3C0C, 0x3F82}, /* 1 + 3 * 2^-8: bf16 tie, even is up           */
        {0x3F808001u, 0x3C04, 0x3F81}, /* bf16 just above its tie                      */
        {0x7F7FFFFFu, 0x7C00, 0x7F80}, /* FLT_MAX: Inf in both                         */
        {0x7F7F7FFFu, 0x7C00, 0x7F7F}, /* bf16 just below its overflow                 */
        {0x00008000u, 0x0000, 0x0000}, /* float subnormal, bf16 tie to even 0          */
        {0x00018000u, 0x0000, 0x0002}, /* float subnormal, bf16 tie to even 2          */
        {0x80000000u, 0x8000, 0x8000}, /* -0                                           */
        {0x7F800000u, 0x7C00, 0x7F80}, /* Inf                                          */
        {0xFF800000u, 0xFC00, 0xFF80}, /* -Inf                                         */
        {0x7FC00000u, 0x7E00, 0x7FC0}, /* quiet NaN                                    */
        {0x7F800001u, 0x7E00, 0x7FC0}, /* signalling NaN: quieted                      */
        {0xFF812345u, 0xFE09, 0xFFC1}, /* payload's top bits, sign kept                */
    };
    size_t k;
    (void)state;
    for (k = 0; k < sizeof cases / sizeof *cases; ++k) {
        float f = tu_float(cases[k].f);
        assert_int_equal(tt_f32_to_f16(f), cases[k].h);
        assert_int_equal(tt_f32_to_bf16(f), cases[k].b);
        if (f == f) { /* a float widens to double exactly: the same rounding */
            assert_int_equal(tt_f64_to_f16((double)f), cases[k].h);
            assert_int_equal(tt_f64_to_bf16((double)f), cases[k].b);
        }
    }
    assert_int_equal(tu_bits(tt_f16_to_f32(0x7C01)), 0x7F802000u); /* widening keeps NaN bits */
    assert_int_equal(tu_bits(tt_f16_to_f32(0x8000)), 0x80000000u);
}

/* Every half: its value by plain arithmetic (significand times exact powers
   of two), and back to the same bits. */
static void test_reference_roundtrip(void **state) {
    uint32_t h;
    (void)state;
    for (h = 0; h < PATTERNS; ++h) {
        unsigned ef = (h >> 10) & 31u, m = h & 1023u;
        float f = tt_f16_to_f32((uint16_t)h);
        if (ef == 31) {
            assert_int_equal(tt_f32_to_f16(f), m ? (h | 0x0200u) : h);
        } else {
            double v = (double)(ef ? m + 1024u : m);
            int e = (ef ? (int)ef : 1) - 25, k;
            for (k = 0; k < -e; ++k) v *= 0.5;
            for (k = 0; k < e; ++k) v *= 2.0;
            if (h & 0x8000u) v = -v;
            assert_true((double)f == v);
            assert_int_equal(tt_f32_to_f16(f), h);
        }
        assert_int_equal(tt_f32_to_bf16(tt_bf16_to_f32((uint16_t)h)),
                         ((h & 0x7F80u) == 0x7F80u && (h & 0x7Fu)) ? (h | 0x0040u) : h);
    }
}

/* ---- copies at keep_prob 1 ------------------------------------------------------- */

/* keep_prob 1: forward, backward and the mask object copy every bit
   pattern of dt (signalling NaNs included), out of place and in place. */
static void copy_all_patterns(dropblock_dtype dt) {
    dropblock_config cfg = base_config(1.0f, DROPBLOCK_SCALE_BATCH);
    uint16_t *x = (uint16_t *)tu_xmalloc(PATTERNS * 2), *y = (uint16_t *)tu_xmalloc(PATTERNS * 2);
    dropblock_tensor tx = exhaustive_like(dt, x), ty = exhaustive_like(dt, y);
    dropblock_stats stats;
    dropblock_mask m;
    void *ws;
    uint32_t k;
    for (k = 0; k < PATTERNS; ++k) x[k] = (uint16_t)(k * 40503u); /* odd: a permutation */
    memset(y, 0xEE, PATTERNS * 2);
    assert_int_equal(dropblock_forward_tensor(&cfg, 3, &tx, &ty, NULL, 0, NULL, &stats), DROPBLOCK_OK);
    assert_memory_equal(x, y, PATTERNS * 2);
    assert_true(stats.scale == 1.0);
    assert_int_equal(stats.kept, PATTERNS);
    assert_int_equal(stats.total, PATTERNS);
    memset(y, 0xEE, PATTERNS * 2);
    assert_int_equal(dropblock_backward_tensor(&cfg, 3, &tx, &ty, NULL, 0, NULL), DROPBLOCK_OK);
    assert_memory_equal(x, y, PATTERNS * 2);
    assert_int_equal(tt_mask_make(&m, &cfg, 3, &tx, &ws), DROPBLOCK_OK);
    memset(y, 0xEE, PATTERNS * 2);
    assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
    assert_memory_equal(x, y, PATTERNS * 2);
    memcpy(y, x, PATTERNS * 2);
    assert_int_equal(dropblock_mask_backward(&m, &ty, &ty, 0, 1), DROPBLOCK_OK);
    assert_memory_equal(x, y, PATTERNS * 2);
    free(ws);
    free(x);
    free(y);
}

static void test_f16_copy(void **state) {
    (void)state;
    copy_all_patterns(DROPBLOCK_F16);
}

static void test_bf16_copy(void **state) {
    (void)state;
    copy_all_patterns(DROPBLOCK_BF16);
}

/* F64 at keep_prob 1: random 64-bit patterns, NaN payloads among them. */
static void test_f64_copy(void **state) {
    dropblock_config cfg = base_config(1.0f, DROPBLOCK_SCALE_EXPECTED);
    size_t count = (size_t)4 * 9 * 7 * 3, k;
    uint64_t *x = (uint64_t *)tu_xmalloc(count * 8), *y = (uint64_t *)tu_xmalloc(count * 8);
    dropblock_tensor tx = tt_ncdhw(x, DROPBLOCK_F64, 4, 1, 9, 7, 3), ty = tx;
    tu_prng r;
    (void)state;
    tu_prng_seed(&r, 99);
    for (k = 0; k < count; ++k) x[k] = tu_prng_next(&r) | (k % 3 == 0 ? UINT64_C(0x7FF0000000000000) : 0);
    memset(y, 0xEE, count * 8);
    ty.data = y;
    assert_int_equal(dropblock_forward_tensor(&cfg, 1, &tx, &ty, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_memory_equal(x, y, count * 8);
    free(x);
    free(y);
}

/* F32 and F64 under a mask with rows of 8 x 64 elements, so that the
   vector kernels' whole runs do the work (test_dtype_stream: with
   non-temporal stores). With s exactly 1 (SCALE_NONE) kept elements keep
   their bits, signalling NaNs included (a multiply by 1 would quiet them);
   with the batch scale they are s * x in the type (a NaN stays a NaN);
   dropped ones are +0. Out of place, in place and backward. */
static int kept_ok(dropblock_dtype dt, const unsigned char *x, const unsigned char *y, double s) {
    if (dt == DROPBLOCK_F64) {
        double v, r, e;
        memcpy(&v, x, 8);
        memcpy(&r, y, 8);
        if (s == 1.0) return memcmp(x, y, 8) == 0;
        e = v * s;
        return isnan(e) ? isnan(r) : memcmp(&e, &r, 8) == 0;
    } else {
        float v, r, e;
        memcpy(&v, x, 4);
        memcpy(&r, y, 4);
        if ((float)s == 1.0f) return memcmp(x, y, 4) == 0;
        e = v * (float)s;
        return isnan(e) ? isnan(r) : memcmp(&e, &r, 4) == 0;
    }
}

static void wide_rows_under_mask(dropblock_dtype dt, dropblock_scale scale) {
    enum { N = 2, H = 8, W = 8, C = 64, COUNT = N * H * W * C };
    const size_t es = dt == DROPBLOCK_F64 ? 8 : 4;
    const uint64_t snan = dt == DROPBLOCK_F64 ? UINT64_C(0x7FF0000000000001) : UINT64_C(0x7F800001);
    dropblock_config cfg = base_config(0.8f, scale);
    unsigned char *x = (unsigned char *)tu_xmalloc(COUNT * es), *y = (unsigned char *)tu_xmalloc(COUNT * es);
    unsigned char *z = (unsigned char *)tu_xmalloc(COUNT * es);
    uint8_t *keep = (uint8_t *)tu_xmalloc(COUNT);
    dropblock_tensor tx = tt_ndhwc(x, dt, N, 1, H, W, C), ty = tx, tz = tx;
    dropblock_stats stats;
    dropblock_mask m;
    void *ws;
    size_t k, dropped = 0;
    tu_prng r;
    ty.data = y;
    tz.data = z;
    tu_prng_seed(&r, 31);
    for (k = 0; k < COUNT; ++k) { /* every third a signalling NaN with a random payload */
        uint64_t v = tu_prng_next(&r);
        if (k % 3 == 0) v = snan | (v & (dt == DROPBLOCK_F64 ? UINT64_C(0x0007FFFFFFFFFFFF) : UINT64_C(0x003FFFFF)));
        if (es == 4) {
            const uint32_t u = (uint32_t)v;
            memcpy(x + k * es, &u, es);
        } else {
            memcpy(x + k * es, &v, es);
        }
    }
    assert_int_equal(tt_mask_make(&m, &cfg, 2, &tx, &ws), DROPBLOCK_OK);
    assert_int_equal(tt_mask_keep(&m, &tx, keep), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_stats(&m, &stats), DROPBLOCK_OK);
    assert_true(scale == DROPBLOCK_SCALE_NONE ? stats.scale == 1.0 : stats.scale > 1.0);
    memset(y, 0xEE, COUNT * es);
    assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
    for (k = 0; k < COUNT; ++k) {
        static const unsigned char zero[8] = {0};
        if (keep[k])
            assert_true(kept_ok(dt, x + k * es, y + k * es, stats.scale));
        else
            assert_memory_equal(y + k * es, zero, es);
        dropped += !keep[k];
    }
    assert_true(dropped > COUNT / 20 && dropped < COUNT / 2);
    memcpy(z, x, COUNT * es); /* in place */
    assert_int_equal(dropblock_mask_forward(&m, &tz, &tz, 0, 1), DROPBLOCK_OK);
    assert_memory_equal(z, y, COUNT * es);
    memset(z, 0xEE, COUNT * es);
    assert_int_equal(dropblock_mask_backward(&m, &tx, &tz, 0, 1), DROPBLOCK_OK);
    assert_memory_equal(z, y, COUNT * es);
    free(ws);
    free(x);
    free(y);
    free(z);
    free(keep);
}

static void test_wide_rows_under_mask(void **state) {
    (void)state;
    wide_rows_under_mask(DROPBLOCK_F32, DROPBLOCK_SCALE_NONE);
    wide_rows_under_mask(DROPBLOCK_F64, DROPBLOCK_SCALE_NONE);
    wide_rows_under_mask(DROPBLOCK_F32, DROPBLOCK_SCALE_BATCH);
    wide_rows_under_mask(DROPBLOCK_F64, DROPBLOCK_SCALE_BATCH);
}

/* ---- kept elements with a scale ----------------------------------------------------- */

/* What a kept element x of dt becomes under the float scale s (§4.1). */
static uint16_t expected_kept(dropblock_dtype dt, uint16_t x, float s) {
    float p;
    if (s == 1.0f) return x;
    p = s * (dt == DROPBLOCK_F16 ? tt_f16_to_f32(x) : tt_bf16_to_f32(x));
    return dt == DROPBLOCK_F16 ? tt_f32_to_f16(p) : tt_f32_to_bf16(p);
}

/* Every bit pattern of dt through a kept element: the mask is built once;
   num/den > 0 sets its scale to exactly num/den with set_batch (counts
   consistent with the mask's own), num 0 keeps its own T / Kept. Runs
   rotate the patterns over the elements until each has met a kept one;
   dropped elements must be +0, backward must equal forward. The tensor
   has shape's sizes (at least PATTERNS elements). */
static void scaled_all_patterns(dropblock_dtype dt, const dropblock_tensor *shape, const dropblock_config *cfg,
                                unsigned num, unsigned den) {
    size_t count = tt_count(shape);
    uint16_t *x = (uint16_t *)tu_xmalloc(count * 2), *y = (uint16_t *)tu_xmalloc(count * 2);
    uint16_t *dx = (uint16_t *)tu_xmalloc(count * 2);
    uint8_t *keep = (uint8_t *)tu_xmalloc(count), *seen = (uint8_t *)calloc(PATTERNS, 1);
    dropblock_tensor tx = tt_ndhwc(x, dt, shape->n, shape->d, shape->h, shape->w, shape->c), ty = tx, tdx = tx;
    dropblock_stats stats;
    dropblock_mask m;
    void *ws;
    uint32_t k, covered = 0, bad = 0, run;
    float s;
    assert_non_null(seen);
    assert_true(count >= PATTERNS);
    ty.data = y;
    tdx.data = dx;
    assert_int_equal(tt_mask_make(&m, cfg, 11, &tx, &ws), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_stats(&m, &stats), DROPBLOCK_OK);
    assert_true(stats.kept > 0 && stats.kept < stats.total);
    if (num) {
        uint64_t kept = stats.kept, dropped = stats.total - stats.kept, mult;
        mult = (kept + den - 1) / den;
        if ((stats.total + num - 1) / num > mult) mult = (stats.total + num - 1) / num;
        if ((dropped + num - den - 1) / (num - den) > mult) mult = (dropped + num - den - 1) / (num - den);
        assert_int_equal(dropblock_mask_set_batch(&m, den * mult, num * mult), DROPBLOCK_OK);
        assert_int_equal(dropblock_mask_stats(&m, &stats), DROPBLOCK_OK);
        assert_true(stats.scale == (double)num / (double)den);
    } else if (cfg->scale == DROPBLOCK_SCALE_BATCH) {
        assert_true(stats.scale == (double)stats.total / (double)stats.kept);
    } else {
        assert_true(stats.scale == 1.0); /* SCALE_NONE */
    }
    s = (float)stats.scale;
    assert_int_equal(tt_mask_keep(&m, &tx, keep), DROPBLOCK_OK);
    for (run = 0; covered < PATTERNS; ++run) {
        assert_true(run < 24); /* ~10 % dropped: a handful of rotations cover all */
        for (k = 0; k < count; ++k) x[k] = (uint16_t)(k * 40503u + run * 7919u);
        memset(y, 0xEE, count * 2);
        assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
        for (k = 0; k < count; ++k) {
            uint16_t want = keep[k] ? expected_kept(dt, x[k], s) : 0;
            if (y[k] != want && bad++ < 8)
                print_error("%s x=0x%04x scale=%.9g: expected 0x%04x, got 0x%04x\n",
                            dt == DROPBLOCK_F16 ? "F16" : "BF16", x[k], (double)s, want, y[k]);
            if (keep[k] && !seen[x[k]]) {
                seen[x[k]] = 1;
                ++covered;
            }
        }
        assert_int_equal(bad, 0);
        memset(dx, 0xEE, count * 2);
        assert_int_equal(dropblock_mask_backward(&m, &tx, &tdx, 0, 1), DROPBLOCK_OK);
        assert_memory_equal(dx, y, count * 2);
    }
    if (!num) { /* the one-call path applies the same mask and scale */
        memset(dx, 0xEE, count * 2);
        assert_int_equal(dropblock_forward_tensor(cfg, 11, &tx, &tdx, NULL, 0, NULL, NULL), DROPBLOCK_OK);
        assert_memory_equal(dx, y, count * 2);
    }
    free(ws);
    free(x);
    free(y);
    free(dx);
    free(keep);
    free(seen);
}

static void scaled_cases(dropblock_dtype dt) {
    dropblock_config cfg = base_config(0.9f, DROPBLOCK_SCALE_BATCH);
    dropblock_tensor even = exhaustive_like(dt, NULL);
    dropblock_tensor odd = tt_ndhwc(NULL, dt, 3, 1, 151, 149, 1); /* rows of 149: vector tails */
    scaled_all_patterns(dt, &even, &cfg, 0, 0); /* the mask's own T / Kept, not a round number */
    scaled_all_patterns(dt, &even, &cfg, 3, 2); /* every odd significand is a tie            */
    scaled_all_patterns(dt, &even, &cfg, 5, 4);
    scaled_all_patterns(dt, &even, &cfg, 3, 1); /* overflow to Inf                            */
    scaled_all_patterns(dt, &odd, &cfg, 0, 0);
    scaled_all_patterns(dt, &odd, &cfg, 3, 2);
    cfg.scale = DROPBLOCK_SCALE_NONE;           /* s exactly 1: bits copied, sNaN included    */
    scaled_all_patterns(dt, &even, &cfg, 0, 0);
}

static void test_f16_kept_scaled(void **state) {
    (void)state;
    scaled_cases(DROPBLOCK_F16);
}

static void test_bf16_kept_scaled(void **state) {
    (void)state;
    scaled_cases(DROPBLOCK_BF16);
}

/* ---- F64: the scale in double ---------------------------------------------------- */

/* F64 applies y = s * x with the double s of dropblock_mask_stats; F32 on
   the same mask applies (float)s and equals the 1.x call. */
static void f64_scale_case(dropblock_scale scale, unsigned flags) {
    enum { N = 3, H = 12, W = 10, C = 4, COUNT = N * H * W * C, SAMPLE = H * W * C };
    dropblock_config cfg = tu_config(0.8f, 0, 3, 2, flags, scale, DROPBLOCK_NHWC, 5150);
    dropblock_shape shape = {N, H, W, C};
    double *x = (double *)tu_xmalloc((size_t)COUNT * 8), *y = (double *)tu_xmalloc((size_t)COUNT * 8);
    float *xf = (float *)tu_xmalloc((size_t)COUNT * 4), *yf = (float *)tu_xmalloc((size_t)COUNT * 4);
    float *y1 = (float *)tu_xmalloc((size_t)COUNT * 4);
    uint8_t *keep = (uint8_t *)tu_xmalloc(COUNT);
    dropblock_tensor tx = tt_ndhwc(x, DROPBLOCK_F64, N, 1, H, W, C), ty = tx;
    dropblock_tensor txf = tt_ndhwc(xf, DROPBLOCK_F32, N, 1, H, W, C), tyf = txf;
    dropblock_stats stats;
    dropblock_mask m;
    void *ws;
    size_t e, n;
    tu_prng r;
    ty.data = y;
    tyf.data = yf;
    tu_prng_seed(&r, 4);
    tt_fill_values(&r, DROPBLOCK_F64, x, COUNT);
    for (e = 0; e < COUNT; ++e) xf[e] = (float)x[e];
    assert_int_equal(tt_mask_make(&m, &cfg, 8, &tx, &ws), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_stats(&m, &stats), DROPBLOCK_OK);
    assert_int_equal(tt_mask_keep(&m, &tx, keep), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_OK);
    assert_int_equal(dropblock_mask_forward(&m, &txf, &tyf, 0, 1), DROPBLOCK_OK);
    assert_int_equal(dropblock_forward(&cfg, shape, 8, xf, y1, NULL), DROPBLOCK_OK);
    assert_memory_equal(yf, y1, (size_t)COUNT * 4);
    if (scale == DROPBLOCK_SCALE_BATCH) {
        assert_true(stats.scale == (double)stats.total / (double)stats.kept);
    } else if (scale == DROPBLOCK_SCALE_EXPECTED) {
        ref_geom g = ref_setup(&cfg, ref_lift(shape), 8);
        double want = 1.0 / ref_expected_keep(&g);
        assert_true(fabs(stats.scale - want) <= 1e-12 * want);
        assert_true(stats.scale > 1.0);
    } else {
        assert_true(stats.scale == 0.0); /* SAMPLE: one scale per sample */
    }
    for (n = 0; n < N; ++n) {
        size_t kept_n = 0;
        double s;
        for (e = n * SAMPLE; e < (n + 1) * SAMPLE; ++e) kept_n += keep[e];
        s = scale == DROPBLOCK_SCALE_SAMPLE ? (double)SAMPLE / (double)kept_n : stats.scale;
        for (e = n * SAMPLE; e < (n + 1) * SAMPLE; ++e) {
            if (keep[e]) {
                assert_true(y[e] == s * x[e]);
                assert_true(yf[e] == (float)s * xf[e]);
            } else {
                assert_true(tt_f64_bits(y[e]) == 0);
            }
        }
    }
    free(ws);
    free(x);
    free(y);
    free(xf);
    free(yf);
    free(y1);
    free(keep);
}

static void test_f64_double_scale(void **state) {
    (void)state;
    f64_scale_case(DROPBLOCK_SCALE_BATCH, 0);
    f64_scale_case(DROPBLOCK_SCALE_EXPECTED, 0);
    f64_scale_case(DROPBLOCK_SCALE_EXPECTED, DROPBLOCK_SEED_ANYWHERE | DROPBLOCK_SHARE_CHANNELS);
    f64_scale_case(DROPBLOCK_SCALE_SAMPLE, 0);
}

/* ---- FILL_NOISE ----------------------------------------------------------------- */

/* The noise is computed in double: F64 writes it as is, F32 rounds it to
   float, F16 and BF16 round it once, directly from the double. Kept
   elements are copied (s = 1). */
static void test_fill_noise_rounding(void **state) {
    enum { N = 2, H = 16, W = 16, C = 4, COUNT = N * H * W * C };
    dropblock_config plain = tu_config(0.85f, 0, 3, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 77);
    dropblock_config cfg = plain;
    double *x64 = (double *)tu_xmalloc((size_t)COUNT * 8), *y64 = (double *)tu_xmalloc((size_t)COUNT * 8), sum2 = 0.0;
    float *x32 = (float *)tu_xmalloc((size_t)COUNT * 4), *y32 = (float *)tu_xmalloc((size_t)COUNT * 4);
    uint16_t *x16 = (uint16_t *)tu_xmalloc((size_t)COUNT * 2), *y16 = (uint16_t *)tu_xmalloc((size_t)COUNT * 2);
    uint16_t *xb = (uint16_t *)tu_xmalloc((size_t)COUNT * 2), *yb = (uint16_t *)tu_xmalloc((size_t)COUNT * 2);
    uint8_t *keep = (uint8_t *)tu_xmalloc(COUNT);
    dropblock_tensor t64 = tt_ndhwc(x64, DROPBLOCK_F64, N, 1, H, W, C), u64 = t64;
    dropblock_tensor t32 = tt_ndhwc(x32, DROPBLOCK_F32, N, 1, H, W, C), u32 = t32;
    dropblock_tensor t16 = tt_ndhwc(x16, DROPBLOCK_F16, N, 1, H, W, C), u16 = t16;
    dropblock_tensor tb = tt_ndhwc(xb, DROPBLOCK_BF16, N, 1, H, W, C), ub = tb;
    dropblock_mask m;
    void *ws;
    size_t e, dropped = 0;
    tu_prng r;
    (void)state;
    u64.data = y64;
    u32.data = y32;
    u16.data = y16;
    ub.data = yb;
    cfg.flags = DROPBLOCK_FILL_NOISE;
    tu_prng_seed(&r, 31);
    tt_fill_values(&r, DROPBLOCK_F64, x64, COUNT);
    tt_fill_values(&r, DROPBLOCK_F32, x32, COUNT);
    tt_fill_values(&r, DROPBLOCK_F16, x16, COUNT);
    tt_fill_values(&r, DROPBLOCK_BF16, xb, COUNT);
    assert_int_equal(tt_mask_make(&m, &plain, 2, &t32, &ws), DROPBLOCK_OK);
    assert_int_equal(tt_mask_keep(&m, &t32, keep), DROPBLOCK_OK);
    free(ws);
    assert_int_equal(dropblock_forward_tensor(&cfg, 2, &t64, &u64, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_int_equal(dropblock_forward_tensor(&cfg, 2, &t32, &u32, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_int_equal(dropblock_forward_tensor(&cfg, 2, &t16, &u16, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_int_equal(dropblock_forward_tensor(&cfg, 2, &tb, &ub, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    for (e = 0; e < COUNT; ++e) {
        if (keep[e]) {
            assert_true(tt_f64_bits(y64[e]) == tt_f64_bits(x64[e]));
            assert_int_equal(tu_bits(y32[e]), tu_bits(x32[e]));
            assert_int_equal(y16[e], x16[e]);
            assert_int_equal(yb[e], xb[e]);
        } else {
            double d = y64[e];
            ++dropped;
            sum2 += d * d;
            assert_true(fabs(d) <= 8.6 && d != 0.0);
            assert_int_equal(tu_bits(y32[e]), tu_bits((float)d));
            assert_int_equal(y16[e], tt_f64_to_f16(d));
            assert_int_equal(yb[e], tt_f64_to_bf16(d));
        }
    }
    /* a standard normal: E[d^2] = 1; over >= 100 values the mean square
       has a standard deviation <= 0.15, so [0.4, 1.6] is 4 of them */
    assert_true(dropped >= 100);
    assert_true(sum2 / (double)dropped > 0.4 && sum2 / (double)dropped < 1.6);
    free(x64); free(y64); free(x32); free(y32); free(x16); free(y16); free(xb); free(yb);
    free(keep);
}

/* ---- mixed dtypes --------------------------------------------------------------- */

/* Data at every element offset from a 64-byte boundary gives the same
   bits, in every dtype, out of place and in place: the apply takes a long
   run's elements up to a 32-byte boundary before its vector loop. NHWC
   rows of 360 elements, NCHW planes of 144 (a channel-major mask) and of
   4608 under SHARE_CHANNELS (a pixel-major mask whose bits the apply
   gathers 4096 at a time), y at another offset than x; finite values (the
   top exponent bit cleared). */
static void test_any_alignment(void **state) {
    static const dropblock_dtype dts[] = {DROPBLOCK_F32, DROPBLOCK_F64, DROPBLOCK_F16, DROPBLOCK_BF16};
    static const int shapes[3][4] = {{2, 6, 5, 72}, {2, 12, 12, 72}, {1, 72, 64, 2}}; /* n h w c */
    const uint16_t one = 1;
    unsigned char first;
    size_t k, e, off;
    (void)state;
    memcpy(&first, &one, 1); /* 0 on a big-endian machine */
    for (k = 0; k < 3 * sizeof dts / sizeof dts[0]; ++k) {
        const dropblock_dtype dt = dts[k / 3];
        const int *sh = shapes[k % 3], nchw = k % 3 != 0;
        const size_t es = tt_dtype_size(dt), count = (size_t)sh[0] * (size_t)sh[1] * (size_t)sh[2] * (size_t)sh[3];
        const size_t bytes = count * es;
        dropblock_config cfg = tu_config(0.8f, 0, 3, 0, k % 3 == 2 ? DROPBLOCK_SHARE_CHANNELS : 0,
                                         DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 77);
        unsigned char *x0 = (unsigned char *)tu_xmalloc(bytes), *want = (unsigned char *)tu_xmalloc(bytes);
        unsigned char *xm = (unsigned char *)tu_xmalloc(bytes + 128), *ym = (unsigned char *)tu_xmalloc(bytes + 128);
        unsigned char *xa = xm + (64 - (uintptr_t)xm % 64) % 64, *ya = ym + (64 - (uintptr_t)ym % 64) % 64;
        tu_prng r;
        tu_prng_seed(&r, 500 + k);
        for (e = 0; e < bytes; ++e) x0[e] = (unsigned char)tu_prng_below(&r, 256);
        for (e = 0; e < count; ++e) { /* the top byte of each element, little or big endian */
            unsigned char *top = x0 + e * es + (first ? es - 1 : 0);
            *top &= 0xBF;
        }
        for (off = 0; off < 64; off += es) {
            int inplace;
            for (inplace = 0; inplace < 2; ++inplace) {
                unsigned char *x = xa + off, *y = inplace ? x : ya + (64 - off) % 64;
                dropblock_tensor tx = nchw ? tt_ncdhw(x, dt, sh[0], 1, sh[1], sh[2], sh[3])
                                           : tt_ndhwc(x, dt, sh[0], 1, sh[1], sh[2], sh[3]),
                                 ty = tx;
                ty.data = y;
                memcpy(x, x0, bytes);
                if (!inplace) memset(y, 0x5A, bytes);
                assert_int_equal(dropblock_forward_tensor(&cfg, 3, &tx, &ty, NULL, 0, NULL, NULL), DROPBLOCK_OK);
                if (!off && !inplace)
                    memcpy(want, y, bytes);
                else
                    assert_memory_equal(y, want, bytes);
            }
        }
        free(x0);
        free(want);
        free(xm);
        free(ym);
    }
}

/* x and y (dy and dx) of different types: DROPBLOCK_ERR_DTYPE on every
   entry point, nothing written. */
static void test_mixed_dtypes(void **state) {
    enum { COUNT = 2 * 5 * 6 * 3 };
    dropblock_config cfg = base_config(0.9f, DROPBLOCK_SCALE_BATCH);
    tt_buf bx = tt_buf_make((size_t)COUNT * 8, 1), by = tt_buf_make((size_t)COUNT * 8, 2);
    dropblock_tensor like = tt_ndhwc(NULL, DROPBLOCK_F32, 2, 1, 5, 6, 3);
    dropblock_stats stats;
    dropblock_mask m;
    void *ws;
    int a, b;
    (void)state;
    assert_int_equal(tt_mask_make(&m, &cfg, 1, &like, &ws), DROPBLOCK_OK);
    tt_buf_snapshot(&bx);
    tt_buf_snapshot(&by);
    for (a = 0; a < 4; ++a)
        for (b = 0; b < 4; ++b) {
            dropblock_tensor tx = tt_ndhwc(tt_buf_data(&bx), (dropblock_dtype)a, 2, 1, 5, 6, 3);
            dropblock_tensor ty = tt_ndhwc(tt_buf_data(&by), (dropblock_dtype)b, 2, 1, 5, 6, 3);
            if (a == b) continue;
            assert_int_equal(dropblock_forward_tensor(&cfg, 1, &tx, &ty, NULL, 0, NULL, &stats), DROPBLOCK_ERR_DTYPE);
            assert_int_equal(dropblock_backward_tensor(&cfg, 1, &tx, &ty, NULL, 0, NULL), DROPBLOCK_ERR_DTYPE);
            assert_int_equal(dropblock_mask_forward(&m, &tx, &ty, 0, 1), DROPBLOCK_ERR_DTYPE);
            assert_int_equal(dropblock_mask_backward(&m, &tx, &ty, 0, 1), DROPBLOCK_ERR_DTYPE);
            assert_true(tt_buf_unchanged(&bx));
            assert_true(tt_buf_unchanged(&by));
        }
    free(ws);
    tt_buf_free(&bx);
    tt_buf_free(&by);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_conversions),
        cmocka_unit_test(test_reference_roundtrip),
        cmocka_unit_test(test_f16_copy),
        cmocka_unit_test(test_bf16_copy),
        cmocka_unit_test(test_f64_copy),
        cmocka_unit_test(test_wide_rows_under_mask),
        cmocka_unit_test(test_f16_kept_scaled),
        cmocka_unit_test(test_bf16_kept_scaled),
        cmocka_unit_test(test_f64_double_scale),
        cmocka_unit_test(test_fill_noise_rounding),
        cmocka_unit_test(test_any_alignment),
        cmocka_unit_test(test_mixed_dtypes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
