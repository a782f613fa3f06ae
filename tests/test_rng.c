/* The sampler: dropblock_rng_* and dropblock_bernoulli against an
   independent implementation of THE GENERATOR (tests/test_util.h), pinned
   golden values, the exact Bernoulli rule, and its statistics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "golden.h"
#include "test_util.h"

/* Anchors the independent mix to published SplitMix64: seeded with 0, its
   outputs are mix(k * G) for k = 1, 2, 3. */
static void test_reference_is_splitmix64(void **state) {
    (void)state;
    assert_true(tu_mix(TU_G * 1u) == UINT64_C(0xE220A8397B1DCDAF));
    assert_true(tu_mix(TU_G * 2u) == UINT64_C(0x6E789E6AA1B965F4));
    assert_true(tu_mix(TU_G * 3u) == UINT64_C(0x06C45D188009454F));
}

static const uint64_t stream_ids[][2] = {
    {0, 0}, {42, 7}, {1, 0}, {0, 1}, {UINT64_MAX, UINT64_MAX}, {UINT64_C(0x9E3779B97F4A7C15), 3},
};

/* next_u32 = low half of word k, then its high half, k = 0, 1, ... */
static void test_next_u32_matches_reference(void **state) {
    size_t s;
    uint64_t i;
    (void)state;
    for (s = 0; s < sizeof stream_ids / sizeof stream_ids[0]; ++s) {
        dropblock_rng rng;
        uint64_t key = tu_key(stream_ids[s][0], stream_ids[s][1]);
        dropblock_rng_init(&rng, stream_ids[s][0], stream_ids[s][1]);
        for (i = 0; i < 2000; ++i) assert_int_equal(dropblock_rng_next_u32(&rng), tu_u32(key, i));
    }
}

/* The streams of tests/golden.h, from both the library and test_util.h's
   SplitMix64 (which is checked against published SplitMix64 above). */
static void test_golden_values(void **state) {
    size_t g;
    int i;
    (void)state;
    for (g = 0; g < sizeof golden_streams / sizeof golden_streams[0]; ++g) {
        const golden_stream *gs = &golden_streams[g];
        dropblock_rng rng;
        uint64_t key = tu_key(gs->seed, gs->stream);
        dropblock_rng_init(&rng, gs->seed, gs->stream);
        for (i = 0; i < 8; ++i) {
            assert_int_equal(tu_u32(key, (uint64_t)i), gs->u32[i]);
            assert_int_equal(dropblock_rng_next_u32(&rng), gs->u32[i]);
        }
    }
}

/* uniform = (next_u32 >> 8) * 2^-24 exactly, consuming one u32. */
static void test_uniform_exact(void **state) {
    dropblock_rng rng, twin;
    int i;
    (void)state;
    dropblock_rng_init(&rng, 9, 4);
    twin = rng;
    for (i = 0; i < 100000; ++i) {
        uint32_t u = dropblock_rng_next_u32(&twin);
        float f = dropblock_rng_uniform(&rng);
        assert_true(f == (float)(u >> 8) * 0x1p-24f);
        assert_true(f >= 0.0f && f < 1.0f);
    }
    assert_int_equal(dropblock_rng_next_u32(&rng), dropblock_rng_next_u32(&twin));
}

/* The struct is plain data: a copy continues the same stream on its own. */
static void test_copy_forks(void **state) {
    dropblock_rng a, b, c;
    uint32_t from_a[50];
    int i;
    (void)state;
    dropblock_rng_init(&a, 5, 6);
    for (i = 0; i < 3; ++i) dropblock_rng_next_u32(&a); /* leaves a pending high half */
    b = a;
    c = a;
    for (i = 0; i < 50; ++i) from_a[i] = dropblock_rng_next_u32(&a);
    for (i = 0; i < 50; ++i) assert_int_equal(dropblock_rng_next_u32(&b), from_a[i]);
    for (i = 0; i < 50; ++i) assert_int_equal(dropblock_rng_next_u32(&c), tu_u32(tu_key(5, 6), (uint64_t)i + 3));
    /* re-initialising restarts the stream */
    dropblock_rng_init(&a, 5, 6);
    assert_int_equal(dropblock_rng_next_u32(&a), tu_u32(tu_key(5, 6), 0));
}

/* floor(p * 2^32) for 0 < p < 1; p * 2^32 is exact in double. */
static uint64_t threshold(double p) {
    if (!(p > 0.0)) return 0;
    if (p >= 1.0) return UINT64_C(1) << 32;
    return (uint64_t)floor(p * 4294967296.0);
}

/* One call of n draws whose first group starts at word counter c0: draw i
   must equal the naive rule for the group at c0 + 32*(i/64), lane i%64.
   out[n] is a sentinel that must stay untouched; the count must match. */
static void check_bernoulli(dropblock_rng *rng, uint64_t key, uint64_t c0, double p, size_t n) {
    uint8_t *out = (uint8_t *)malloc(n + 1);
    uint64_t t = threshold(p);
    size_t i, ones = 0, got;
    assert_non_null(out);
    memset(out, 0xA5, n + 1);
    got = dropblock_bernoulli(rng, p, out, n);
    for (i = 0; i < n; ++i) {
        int want = tu_bernoulli_draw(key, c0 + 32 * (i / 64), (unsigned)(i % 64), t);
        if (out[i] != want) print_error("p=%.17g n=%zu i=%zu: got %d want %d\n", p, n, i, out[i], want);
        assert_int_equal(out[i], want);
        ones += out[i];
    }
    assert_int_equal(out[n], 0xA5);
    assert_int_equal(got, ones);
    free(out);
}

static uint64_t groups_words(size_t n) {
    return 32u * (uint64_t)((n + 63) / 64);
}

/* Every p class: tiny (t = 0, 1, few), 0.5 and neighbours, near 1
   (t = 2^32 - 1), at lengths that are and are not multiples of 64, in two
   consecutive calls; then next_u32 resumes right after the last group. */
static void test_bernoulli_matches_rule(void **state) {
    static const double ps[] = {0x1p-33, 0x1p-32, 3e-10, 1e-6, 0.001, 0.1, 0.3, 0.5 - 0x1p-32, 0.5,
                                0.5 + 0x1p-32, 0.75, 0.9, 0.999999, 1.0 - 0x1p-32, 1.0 - 0x1p-33, 1.0 - 1e-12};
    static const size_t lens[] = {1, 63, 64, 65, 127, 200, 1000};
    size_t a, b;
    (void)state;
    for (a = 0; a < sizeof ps / sizeof ps[0]; ++a)
        for (b = 0; b < sizeof lens / sizeof lens[0]; ++b) {
            dropblock_rng rng;
            uint64_t key = tu_key(77 + b, a), c = 0;
            size_t n2 = lens[(b + 3) % (sizeof lens / sizeof lens[0])];
            dropblock_rng_init(&rng, 77 + b, a);
            check_bernoulli(&rng, key, c, ps[a], lens[b]);
            c += groups_words(lens[b]);
            check_bernoulli(&rng, key, c, ps[a], n2);
            c += groups_words(n2);
            assert_int_equal(dropblock_rng_next_u32(&rng), (uint32_t)tu_word(key, c));
        }
}

/* A pending high half of next_u32 is dropped: Bernoulli starts at the
   next whole word. */
static void test_bernoulli_drops_pending_half(void **state) {
    dropblock_rng rng;
    uint64_t key = tu_key(3, 3);
    (void)state;
    dropblock_rng_init(&rng, 3, 3);
    assert_int_equal(dropblock_rng_next_u32(&rng), (uint32_t)tu_word(key, 0));
    check_bernoulli(&rng, key, 1, 0.4, 100);
    assert_int_equal(dropblock_rng_next_u32(&rng), (uint32_t)tu_word(key, 65));
    assert_int_equal(dropblock_rng_next_u32(&rng), (uint32_t)(tu_word(key, 65) >> 32));
}

/* The edges of the integer compare, on draws whose U was found by search
   with the reference generator: U = 2^32 - 1 at draw 1849 of (0, 869431),
   U = 0 at draw 1577 of (0, 128366). A float compare or an off-by-one in
   t would flip exactly these. */
static void check_single_edge(uint64_t stream, size_t draw, double p, int want_at_draw) {
    const size_t n = 1900;
    uint8_t out[1900];
    dropblock_rng rng;
    size_t i, ones = 0;
    dropblock_rng_init(&rng, 0, stream);
    assert_int_equal(dropblock_bernoulli(&rng, p, out, n), want_at_draw ? 1 : n - 1);
    for (i = 0; i < n; ++i) ones += out[i];
    assert_int_equal(ones, want_at_draw ? 1 : n - 1);
    assert_int_equal(out[draw], want_at_draw);
}

static void test_bernoulli_edges(void **state) {
    (void)state;
    check_single_edge(869431, 1849, 1.0 - 0x1p-32, 0); /* t = 2^32 - 1: U = t is not below */
    check_single_edge(128366, 1577, 0x1p-32, 1);       /* t = 1: only U = 0 is below */
}

static void check_constant(dropblock_rng *rng, uint64_t key, double p, uint8_t value) {
    uint8_t out[101];
    memset(out, 0xA5, sizeof out);
    assert_int_equal(dropblock_bernoulli(rng, p, out, 100), value ? 100 : 0);
    assert_true(tu_all_bytes(out, 100, value));
    assert_int_equal(out[100], 0xA5);
    /* still 32 words per group of 64: the stream position stays a pure
       function of how many draws were made */
    assert_int_equal(dropblock_rng_next_u32(rng), (uint32_t)tu_word(key, 64));
}

static void test_bernoulli_degenerate_p(void **state) {
    static const double zeros[] = {0.0, -0.0, -1.0, -INFINITY, NAN, 1e-300, 0x1p-33};
    static const double ones[] = {1.0, 1.5, INFINITY};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof zeros / sizeof zeros[0]; ++i) {
        dropblock_rng rng;
        dropblock_rng_init(&rng, 1, i);
        check_constant(&rng, tu_key(1, i), zeros[i], 0);
    }
    for (i = 0; i < sizeof ones / sizeof ones[0]; ++i) {
        dropblock_rng rng;
        dropblock_rng_init(&rng, 2, i);
        check_constant(&rng, tu_key(2, i), ones[i], 1);
    }
}

/* NULL rng or out: returns 0, draws nothing, writes nothing. */
static void test_bernoulli_null(void **state) {
    dropblock_rng rng, before;
    uint8_t out[64];
    int k;
    (void)state;
    dropblock_rng_init(&rng, 8, 8);
    dropblock_rng_next_u32(&rng);
    before = rng;
    memset(out, 0xA5, sizeof out);
    assert_int_equal(dropblock_bernoulli(NULL, 0.5, out, sizeof out), 0);
    assert_int_equal(dropblock_bernoulli(NULL, 1.0, out, sizeof out), 0);
    assert_true(tu_all_bytes(out, sizeof out, 0xA5));
    assert_int_equal(dropblock_bernoulli(&rng, 0.5, NULL, 64), 0);
    assert_int_equal(dropblock_bernoulli(&rng, 1.0, NULL, 64), 0);
    /* the stream did not move: it continues exactly like the copy (compared
       by its draws, not its bytes, which include struct padding) */
    for (k = 0; k < 8; ++k) assert_int_equal(dropblock_rng_next_u32(&rng), dropblock_rng_next_u32(&before));
}

/* Mean of 10^6 draws: the count is binomial(n, p'), p' = t / 2^32 within
   2^-32 of p, so the mean is within 6 sigma, sigma = sqrt(p (1-p) / n). */
static void test_bernoulli_mean(void **state) {
    static const double ps[] = {0.001, 0.1, 0.5, 0.9};
    const size_t n = 1000000;
    uint8_t *out = (uint8_t *)malloc(n);
    size_t i;
    (void)state;
    assert_non_null(out);
    for (i = 0; i < sizeof ps / sizeof ps[0]; ++i) {
        dropblock_rng rng;
        double sigma = sqrt(ps[i] * (1.0 - ps[i]) / (double)n), mean;
        dropblock_rng_init(&rng, 1234, i);
        mean = (double)dropblock_bernoulli(&rng, ps[i], out, n) / (double)n;
        assert_true(fabs(mean - ps[i]) <= 6.0 * sigma);
    }
    free(out);
}

/* Draws of different seeds and streams are unrelated: two Bernoulli(0.5)
   sequences of 1024 differ in binomial(1024, 1/2) places, 512 +- 6*16
   (sigma = sqrt(1024/4)); and u32 words never repeat across them. */
static void test_streams_independent(void **state) {
    static const uint64_t ids[][2] = {{1, 0}, {1, 1}, {2, 0}, {0, 1}, {1, 2}, {2, 1}};
    enum { NIDS = sizeof ids / sizeof ids[0], LEN = 1024 };
    uint8_t draws[NIDS][LEN];
    uint32_t first[NIDS][16];
    size_t a, b, i;
    (void)state;
    for (a = 0; a < NIDS; ++a) {
        dropblock_rng rng;
        dropblock_rng_init(&rng, ids[a][0], ids[a][1]);
        for (i = 0; i < 16; ++i) first[a][i] = dropblock_rng_next_u32(&rng);
        dropblock_rng_init(&rng, ids[a][0], ids[a][1]);
        dropblock_bernoulli(&rng, 0.5, draws[a], LEN);
    }
    for (a = 0; a < NIDS; ++a)
        for (b = a + 1; b < NIDS; ++b) {
            size_t diff = 0, same_words = 0;
            for (i = 0; i < LEN; ++i) diff += draws[a][i] != draws[b][i];
            for (i = 0; i < 16; ++i) same_words += first[a][i] == first[b][i];
            assert_true(diff >= 512 - 96 && diff <= 512 + 96);
            assert_int_equal(same_words, 0);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_is_splitmix64),
        cmocka_unit_test(test_next_u32_matches_reference),
        cmocka_unit_test(test_golden_values),
        cmocka_unit_test(test_uniform_exact),
        cmocka_unit_test(test_copy_forks),
        cmocka_unit_test(test_bernoulli_matches_rule),
        cmocka_unit_test(test_bernoulli_drops_pending_half),
        cmocka_unit_test(test_bernoulli_edges),
        cmocka_unit_test(test_bernoulli_degenerate_p),
        cmocka_unit_test(test_bernoulli_null),
        cmocka_unit_test(test_bernoulli_mean),
        cmocka_unit_test(test_streams_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
