/* Prints checksums of DropBlock masks and outputs for fixed configs. run.sh
   builds this with different compilers and optimisation levels (including
   an FMA-contracting one) and requires identical output: the mask and
   scale must not depend on how the program was compiled. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct golden_case {
    const char *name;
    int n, d, h, w, c; /* d > 1: the 3-D entry point */
    float keep_prob;
    int block_h, block_w, block_d;
    unsigned flags;
    dropblock_scale scale;
    dropblock_layout layout;
    uint64_t seed, step;
} golden_case;

static const golden_case cases[] = {
    {"nhwc_block7_paper", 2, 1, 14, 14, 8, 0.9f, 7, 0, 0, 0u, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 1u, 0u},
    {"nchw_block3_share_channels_sample", 3, 1, 9, 11, 5, 0.8f, 3, 0, 0, DROPBLOCK_SHARE_CHANNELS,
     DROPBLOCK_SCALE_SAMPLE, DROPBLOCK_NCHW, 2u, 7u},
    {"nhwc_block1_share_batch_none", 2, 1, 8, 8, 3, 0.5f, 1, 0, 0, DROPBLOCK_SHARE_BATCH,
     DROPBLOCK_SCALE_NONE, DROPBLOCK_NHWC, 3u, 1u},
    {"nchw_block4x2_anywhere_expected", 1, 1, 16, 12, 4, 0.85f, 4, 2, 0, DROPBLOCK_SEED_ANYWHERE,
     DROPBLOCK_SCALE_EXPECTED, DROPBLOCK_NCHW, 4u, 123456789u},
    {"nhwc_block_ge_map_spatial", 4, 1, 7, 7, 2, 0.6f, 9, 0, 0,
     DROPBLOCK_SHARE_CHANNELS, DROPBLOCK_SCALE_BATCH,
     DROPBLOCK_NHWC, 5u, 1u},
    {"nhwc_block6_expected", 2, 1, 10, 13, 3, 0.75f, 6, 0, 0, 0u, DROPBLOCK_SCALE_EXPECTED,
     DROPBLOCK_NHWC, 0xFFFFFFFFFFFFFFFFu, 3u},
    {"ncdhw_block3x3x2_expected", 2, 5, 6, 7, 2, 0.8f, 3, 3, 2, 0u, DROPBLOCK_SCALE_EXPECTED,
     DROPBLOCK_NCHW, 6u, 4u},
    /* gamma * 2^32 is an exact integer here; a double computation of gamma
       lands one below it on x86-64 and not on x87, and a draw of this step
       sits right on it (found by review; the threshold is now exact) */
    {"nhwc_block4x3_threshold_integer", 1, 1, 19, 9, 64, 0.022f, 4, 3, 0, 0u, DROPBLOCK_SCALE_BATCH,
     DROPBLOCK_NHWC, 1u, 505229u},
    {"nhwc_block2_keep_tiny", 1, 1, 3, 3, 64, 1e-18f, 2, 0, 0, 0u, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 1u,
     12002606u},
};

/* FNV-1a, 64 bit, over bytes. */
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t bytes) {
    size_t i;
    for (i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001B3u;
    return h;
}

static const uint64_t fnv1a_basis = 0xCBF29CE484222325u;

/* FNV-1a of each float's bits serialised little-endian: the same checksum on
   every byte order (on little-endian machines it is the hash of the raw
   bytes). */
static uint64_t fnv1a_floats(const float *v, size_t count) {
    uint64_t h = fnv1a_basis;
    size_t i;
    for (i = 0; i < count; ++i) {
        uint32_t bits;
        unsigned char le[4];
        memcpy(&bits, &v[i], sizeof bits);
        le[0] = (unsigned char)bits;
        le[1] = (unsigned char)(bits >> 8);
        le[2] = (unsigned char)(bits >> 16);
        le[3] = (unsigned char)(bits >> 24);
        h = fnv1a(h, le, sizeof le);
    }
    return h;
}

static dropblock_status run(const golden_case *gc, const float *x, float *y, uint8_t *mask) {
    dropblock_config cfg;
    size_t ws_bytes = 0;
    void *ws;
    dropblock_status st;

    memset(&cfg, 0, sizeof cfg);
    cfg.keep_prob = gc->keep_prob;
    cfg.block_h = gc->block_h;
    cfg.block_w = gc->block_w;
    cfg.block_d = gc->block_d;
    cfg.flags = gc->flags;
    cfg.scale = gc->scale;
    cfg.layout = gc->layout;
    cfg.seed = gc->seed;
    if (gc->d == 1) {
        dropblock_shape s;
        s.n = gc->n; s.h = gc->h; s.w = gc->w; s.c = gc->c;
        return dropblock_forward(&cfg, s, gc->step, x, y, mask);
    } else {
        dropblock_shape3d s;
        s.n = gc->n; s.d = gc->d; s.h = gc->h; s.w = gc->w; s.c = gc->c;
        if (dropblock_workspace_size3d(s, &ws_bytes) != DROPBLOCK_OK) return DROPBLOCK_ERR_SHAPE;
        ws = malloc(ws_bytes);
        if (!ws) return DROPBLOCK_ERR_OUT_OF_MEMORY;
        st = dropblock_forward3d(&cfg, s, gc->step, x, y, mask, ws, ws_bytes);
        free(ws);
        return st;
    }
}

/* Prints one line for one case; x, y and mask hold `count` elements. */
static int report(const golden_case *gc, size_t count, float *x, float *y, uint8_t *mask) {
    size_t i, kept = 0;
    uint32_t scale_bits = 0;

    /* Exact inputs: integer / power of two, nothing a compiler can fuse. */
    for (i = 0; i < count; ++i) x[i] = (float)((long)((i * 7919u) % 2001u) - 1000) / 64.0f;
    if (run(gc, x, y, mask) != DROPBLOCK_OK) return 1;
    for (i = 0; i < count; ++i) kept += mask[i];
    printf("%-36s kept=%zu/%zu mask=%016llx y=%016llx", gc->name, kept, count,
           (unsigned long long)fnv1a(fnv1a_basis, mask, count), (unsigned long long)fnv1a_floats(y, count));

    /* The scale factor itself: with x = 1 a kept element holds s. */
    for (i = 0; i < count; ++i) x[i] = 1.0f;
    if (run(gc, x, y, mask) != DROPBLOCK_OK) return 1;
    for (i = 0; i < count; ++i) {
        if (mask[i]) {
            memcpy(&scale_bits, &y[i], sizeof scale_bits);
            break;
        }
    }
    printf(" scale=%08lx\n", (unsigned long)scale_bits);
    return 0;
}

int main(void) {
    enum { NCASES = sizeof cases / sizeof cases[0] };
    size_t k, count[NCASES], max_count = 0;
    float *x, *y;
    uint8_t *mask;
    int failed = 0;

    for (k = 0; k < NCASES; ++k) {
        const golden_case *gc = &cases[k];
        count[k] = (size_t)gc->n * gc->d * gc->h * gc->w * gc->c;
        if (count[k] > max_count) max_count = count[k];
    }
    x = (float *)malloc(max_count * sizeof *x);
    y = (float *)malloc(max_count * sizeof *y);
    mask = (uint8_t *)malloc(max_count);
    failed = !x || !y || !mask;
    for (k = 0; k < NCASES && !failed; ++k) failed = report(&cases[k], count[k], x, y, mask);
    free(x);
    free(y);
    free(mask);
    return failed;
}
