/* The run-time-chosen vector paths against the portable ones, called
   directly: the AVX-512 seed draw against the scalar draw, and the AVX-512
   (F32, F64, BF16) and F16C (F16) applies against the plain-C kernels, on
   random inputs, masks, scales and lengths. The rest of the suite runs the
   vector paths through the public calls wherever the CPU has them; this
   program is where a disagreement shows first. A CPU (or a build) without
   them cannot run a path: the program then says so and exits 77, which
   ctest reports as skipped, never as passed. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#if defined(DROPBLOCK__AVX512)
static int have_avx512(void) {
    return __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}
#else
static int have_avx512(void) { return 0; }
#endif

#if defined(DROPBLOCK__F16C)
static int have_f16c(void) { return dropblock__has_f16c(); }
#else
static int have_f16c(void) { return 0; }
#endif

/* Random thresholds, with the corners 1, 2^31, 2^32 - 1 among them. */
static uint64_t random_threshold(tu_prng *r, int k) {
    static const uint64_t corners[] = {1, UINT64_C(1) << 31, (UINT64_C(1) << 32) - 1, 0x12345678u};
    return k < 4 ? corners[k] : (tu_prng_next(r) >> 32) & ((UINT64_C(1) << (1 + tu_prng_below(r, 32))) - 1);
}

/* U of draw L of the group whose words start at counter c (THE GENERATOR). */
static uint64_t draw_u(uint64_t key, uint64_t c, unsigned L) {
    uint64_t u = 0;
    unsigned b;
    for (b = 0; b < 32; ++b) u |= ((dropblock__word(key, c + b) >> L) & 1u) << (31 - b);
    return u;
}

/* The AVX-512 draw of runs of chunks of 32 groups equals the portable
   one, group by group, and writes nothing past its 32 nc words: runs of 1
   to 40 chunks (finished in place, or through a queue drained in 1 to 4
   vectors, and more than once), each of consecutive groups and of groups
   at random offsets and chunk strides (as the dense channel-major build
   lists them), at random thresholds, at thresholds with no bit past the
   eager levels (nothing to queue; down to a single level) or one bit just
   past them, and at a threshold equal to, or one above, the U of one draw
   of the run, which that draw's last level decides. */
static void test_draw_avx512(void **state) {
#ifdef DROPBLOCK__AVX512
    static const size_t runs[] = {1, 2, 3, 4, 5, 7, 9, 40};
    const unsigned past = 32 - DROPBLOCK__EAGER_V8; /* t's bits below the eager levels */
    const uint64_t eager[] = {0, UINT64_C(1) << (past - 1), UINT64_C(1) << past,
                              UINT64_C(0xAB800000) & ~dropblock__low_bits(past), UINT64_C(0xFF000000),
                              UINT64_C(0x80000000)}; /* keep_prob 0.5 at block 1: one level */
    tu_prng r;
    int k, i;
    (void)state;
    tu_prng_seed(&r, 11);
    for (k = 0; k < 6000; ++k) {
        const size_t nc = runs[k % 8];
        const int spread = (k / 8) % 2, kind = (k / 16) % 3;
        const uint64_t key = tu_prng_next(&r), g = tu_prng_next(&r) >> 8;
        const uint64_t gs = spread ? tu_prng_next(&r) >> 24 : DROPBLOCK__GROUPS;
        uint64_t off[DROPBLOCK__GROUPS], out[41 * DROPBLOCK__GROUPS], t;
        size_t j;
        for (i = 0; i < (int)DROPBLOCK__GROUPS; ++i) off[i] = spread ? tu_prng_next(&r) >> 20 : (uint64_t)i;
        if (kind == 0) {
            t = random_threshold(&r, k / 48);
        } else if (kind == 1) {
            t = eager[(k / 48) % 6];
        } else { /* draw L of lane i of chunk j */
            const uint64_t c = (g + tu_prng_below(&r, (unsigned)nc) * gs + off[tu_prng_below(&r, 32)]) * 32u;
            const uint64_t u = draw_u(key, c, (unsigned)tu_prng_below(&r, 64));
            t = u + (uint64_t)((k / 48) % 2);
            if (t >> 32) t = u;
        }
        for (j = 0; j < (size_t)41 * DROPBLOCK__GROUPS; ++j) out[j] = UINT64_C(0xA5A5A5A5A5A5A5A5);
        dropblock__draw_avx512(key, t, g, gs, nc, spread ? off : dropblock__lanes, out);
        for (j = 0; j < nc; ++j)
            for (i = 0; i < (int)DROPBLOCK__GROUPS; ++i)
                assert_int_equal(out[32 * j + (size_t)i],
                                 dropblock__draw_group(key, (g + j * gs + off[i]) * 32u, t, ~UINT64_C(0)));
        for (j = 32 * nc; j < (size_t)41 * DROPBLOCK__GROUPS; ++j) assert_int_equal(out[j], UINT64_C(0xA5A5A5A5A5A5A5A5));
    }
#else
    (void)state;
#endif
}

/* The AVX-512 64x64 bit transpose against bit-by-bit transposition, on
   random matrices and on one bit at each of the 4096 places. */
static void test_transpose64(void **state) {
#ifdef DROPBLOCK__AVX512
    tu_prng r;
    int k;
    unsigned p, c;
    (void)state;
    tu_prng_seed(&r, 12);
    for (k = 0; k < 4096 + 200; ++k) {
        uint64_t a[64], b[64];
        for (p = 0; p < 64; ++p) a[p] = k < 4096 ? (p == (unsigned)k / 64 ? UINT64_C(1) << (k % 64) : 0) : tu_prng_next(&r);
        memcpy(b, a, sizeof b);
        dropblock__transpose64(b);
        for (p = 0; p < 64; ++p)
            for (c = 0; c < 64; ++c) assert_int_equal((a[p] >> c) & 1u, (b[c] >> p) & 1u);
    }
#else
    (void)state;
#endif
}

/* One kind's vector apply against the plain kernels on random words and
   lengths 1..64; x holds random bit patterns (NaN and Inf included). */
static void compare_apply(int kind, int vector_flag) {
    unsigned char x[64 * 8], y1[64 * 8], y2[64 * 8];
    tu_prng r;
    int k;
    size_t i;
    tu_prng_seed(&r, 100u + (unsigned)kind);
    for (k = 0; k < 20000; ++k) {
        dropblock__op op;
        const float scales[] = {1.0f, 1.1428572f, 3.0f, 1.0000001f, 7.9e3f, 1e30f};
        uint64_t w = tu_prng_next(&r);
        size_t len = k % 3 ? 64 : 1 + tu_prng_below(&r, 64);
        memset(&op, 0, sizeof op);
        op.kind = kind;
        op.es = dropblock__dtype_size(kind);
        op.s = scales[k % 6];
        op.s64 = k % 12 < 6 ? (double)op.s : 1.0 + tu_prng_unit(&r);
        op.copy = dropblock__copy_flag(&op);
        op.stream = k % 5 == 0;
        for (i = 0; i < sizeof x; ++i) x[i] = (unsigned char)tu_prng_next(&r);
        memset(y1, 0x5A, sizeof y1);
        memset(y2, 0x5A, sizeof y2);
        if (vector_flag == 1) op.avx512 = 1;
        if (vector_flag == 2) op.f16c = 1;
        dropblock__run64(&op, x, y1, w, len);
        op.avx512 = 0;
        op.f16c = 0;
        dropblock__run64(&op, x, y2, w, len);
        assert_memory_equal(y1, y2, sizeof y1); /* the elements, and nothing past len */
    }
#ifdef DROPBLOCK__AVX512
    _mm_sfence();
#endif
}

static void test_apply_avx512(void **state) {
    (void)state;
    compare_apply(DROPBLOCK_F32, 1);
    compare_apply(DROPBLOCK_F64, 1);
    compare_apply(DROPBLOCK_F16, 1);
    compare_apply(DROPBLOCK_BF16, 1);
}

static void test_apply_f16c(void **state) {
    (void)state;
    compare_apply(DROPBLOCK_F16, 2);
}

int main(void) {
    const struct CMUnitTest avx512[] = {
        cmocka_unit_test(test_draw_avx512),
        cmocka_unit_test(test_transpose64),
        cmocka_unit_test(test_apply_avx512),
    };
    const struct CMUnitTest f16c[] = {
        cmocka_unit_test(test_apply_f16c),
    };
    int failed = 0, skipped = 0;
    if (have_avx512()) {
        failed += cmocka_run_group_tests_name("avx512", avx512, NULL, NULL);
    } else {
        printf("SKIPPED: no AVX-512 here (the CPU lacks it, or DROPBLOCK_NO_SIMD / DROPBLOCK_NO_AVX512): the "
               "AVX-512 draw, transpose and apply were NOT compared with the portable paths\n");
        ++skipped;
    }
    if (have_f16c()) {
        failed += cmocka_run_group_tests_name("f16c", f16c, NULL, NULL);
    } else {
        printf("SKIPPED: no F16C here (the CPU lacks it, or DROPBLOCK_NO_SIMD): the F16C apply was NOT compared "
               "with the portable path\n");
        ++skipped;
    }
    if (failed) return 1;
    return skipped ? 77 : 0;
}
