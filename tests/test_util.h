/* Small helpers shared by the tests: byte patterns, a checksum, shapes and
   float bits, a test-only PRNG for inputs, allocation, and an independent
   SplitMix64
   written from the header's "THE GENERATOR" comment (not from its code), so
   the tests (and reference.h) can check the library's stream instead of
   trusting it. */
#ifndef DROPBLOCK_TEST_UTIL_H
#define DROPBLOCK_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropblock.h"

/* ---- patterns and checksums ------------------------------------------- */

#define TU_PATTERN 0xA5u

static inline void tu_fill(void *p, size_t bytes, unsigned char byte) {
    memset(p, byte, bytes);
}

/* 1 if every byte of p equals byte. */
static inline int tu_all_bytes(const void *p, size_t bytes, unsigned char byte) {
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < bytes; ++i)
        if (b[i] != byte) return 0;
    return 1;
}

/* FNV-1a 64 over bytes: golden values of masks and streams. */
static inline uint64_t tu_fnv1a(const void *p, size_t bytes) {
    const unsigned char *b = (const unsigned char *)p;
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    size_t i;
    for (i = 0; i < bytes; ++i) {
        h ^= b[i];
        h *= UINT64_C(0x100000001B3);
    }
    return h;
}

/* ---- shapes, float bits, allocation ----------------------------------- */

static inline dropblock_shape3d tu_shape3(int n, int d, int h, int w, int c) {
    dropblock_shape3d s;
    s.n = n; s.d = d; s.h = h; s.w = w; s.c = c;
    return s;
}

/* The 2-D shape of a 3-D one (its depth dropped; callers keep d == 1). */
static inline dropblock_shape tu_flat(dropblock_shape3d s) {
    dropblock_shape r;
    r.n = s.n; r.h = s.h; r.w = s.w; r.c = s.c;
    return r;
}

/* Element counts. */
static inline size_t tu_count(dropblock_shape s) { return (size_t)s.n * (size_t)s.h * (size_t)s.w * (size_t)s.c; }

static inline size_t tu_count3d(dropblock_shape3d s) {
    return (size_t)s.n * (size_t)s.d * (size_t)s.h * (size_t)s.w * (size_t)s.c;
}

static inline uint32_t tu_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float tu_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* malloc that never returns NULL (a test cannot go on without its buffer;
   aborting also keeps the static analyzer from following a NULL), filled
   with TU_PATTERN: deterministic contents that are not a plausible output,
   and never uninitialised memory on a path the analyzer invents. */
static inline void *tu_xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        abort();
    }
    return memset(p, TU_PATTERN, bytes ? bytes : 1);
}

/* ---- configs ------------------------------------------------------------------ */

/* A config with every field given (block_d or block_w 0: block_h). */
static inline dropblock_config tu_config(float keep_prob, int bd, int bh, int bw, unsigned flags,
                                         dropblock_scale scale, dropblock_layout layout, uint64_t seed) {
    dropblock_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.keep_prob = keep_prob;
    cfg.block_d = bd;
    cfg.block_h = bh;
    cfg.block_w = bw;
    cfg.flags = flags;
    cfg.scale = scale;
    cfg.layout = layout;
    cfg.seed = seed;
    return cfg;
}

/* ---- workspaces ------------------------------------------------------------- */

/* A workspace of *bytes = dropblock_workspace_size3d(s) bytes, or NULL if
   that query fails (callers assert non-NULL). The status is checked here
   with an if because cmocka's asserts are not declared noreturn: after one,
   the static analyzer would still follow a failed query into malloc(0). */
static inline void *tu_workspace3d(dropblock_shape3d s, size_t *bytes) {
    *bytes = 0;
    if (dropblock_workspace_size3d(s, bytes) != DROPBLOCK_OK || *bytes == 0) return NULL;
    return malloc(*bytes);
}

static inline void *tu_workspace(dropblock_shape s, size_t *bytes) {
    *bytes = 0;
    if (dropblock_workspace_size(s, bytes) != DROPBLOCK_OK || *bytes == 0) return NULL;
    return malloc(*bytes);
}

/* ---- test-only input generator (xorshift64*, not the library's) --------- */

typedef struct tu_prng { uint64_t s; } tu_prng;

static inline void tu_prng_seed(tu_prng *r, uint64_t seed) {
    r->s = seed ? seed : UINT64_C(0x2545F4914F6CDD1D);
}

static inline uint64_t tu_prng_next(tu_prng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(0x2545F4914F6CDD1D);
}

/* Uniform integer in [0, n), n >= 1 (modulo bias is irrelevant here). */
static inline unsigned tu_prng_below(tu_prng *r, unsigned n) {
    return (unsigned)((tu_prng_next(r) >> 11) % n);
}

/* Uniform double in [0, 1). */
static inline double tu_prng_unit(tu_prng *r) {
    return (double)(tu_prng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- the documented generator, written independently ------------------- */

#define TU_G UINT64_C(0x9E3779B97F4A7C15)

static inline uint64_t tu_mix(uint64_t z) {
    z ^= z >> 30;
    z *= UINT64_C(0xBF58476D1CE4E5B9);
    z ^= z >> 27;
    z *= UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* key = mix(mix(seed + G) ^ stream) */
static inline uint64_t tu_key(uint64_t seed, uint64_t stream) {
    return tu_mix(tu_mix(seed + TU_G) ^ stream);
}

/* word(k) = mix(key + (k + 1) * G), mod 2^64 */
static inline uint64_t tu_word(uint64_t key, uint64_t k) {
    return tu_mix(key + (k + 1) * TU_G);
}

/* u32 number i of a stream: low half of word i/2, then its high half. */
static inline uint32_t tu_u32(uint64_t key, uint64_t i) {
    uint64_t w = tu_word(key, i / 2);
    return (uint32_t)(i % 2 ? w >> 32 : w);
}

/* The documented Bernoulli draw, computed naively: draw `lane` of the group
   whose words start at counter c assembles its U from bit `lane` of words
   c .. c+31 (word c+k gives bit 31-k) and is one iff U < t, t in [0, 2^32]. */
static inline int tu_bernoulli_draw(uint64_t key, uint64_t c, unsigned lane, uint64_t t) {
    uint64_t u = 0;
    unsigned k;
    for (k = 0; k < 32; ++k) u |= ((tu_word(key, c + k) >> lane) & 1u) << (31 - k);
    return u < t;
}

/* Draw number P of a stream: lane P mod 64 of the group at word 32*(P/64). */
static inline int tu_draw(uint64_t key, uint64_t pos, uint64_t t) {
    return tu_bernoulli_draw(key, 32 * (pos / 64), (unsigned)(pos % 64), t);
}

#endif /* DROPBLOCK_TEST_UTIL_H */
