/* golden.h - every pinned value of the C tests, in one table per kind, so a
   change of the random stream, the seed threshold, the exact gamma, the
   noise or the 3-D numbering is never silent. Each forward row is checked
   bit for bit against the naive reference before its checksums are
   compared (tests/test_extras.c, test_golden); the stream rows against the
   independent SplitMix64 of test_util.h (tests/test_rng.c). Checksums are
   tu_fnv1a of the keep mask (one byte per element) and of the output
   floats, for the input test_extras.c's fill_logical draws with seed 11. tests/determinism/expected.txt
   is the cross-compiler counterpart, printed by a program of its own. */
#ifndef DROPBLOCK_TESTS_GOLDEN_H
#define DROPBLOCK_TESTS_GOLDEN_H

#include <stdint.h>

#include "dropblock.h"

typedef struct golden_forward {
    const char *name;
    float keep_prob;
    int block_d, block_h, block_w;
    unsigned flags;
    dropblock_scale scale;
    dropblock_layout layout;
    uint64_t seed, step;
    int n, d, h, w, c;
    int three_d; /* 1: the 3-D entry point, 0: the 2-D one (d == 1) */
    uint64_t mask_fnv, y_fnv;
} golden_forward;

static const golden_forward golden_forwards[] = {
    {"paper_nhwc", 0.9f, 0, 7, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 42, 0, 8, 1, 14, 14, 16, 0,
     UINT64_C(0x61B1E6AAD1E9D0EE), UINT64_C(0xCD9C398C92D7F369)},
    {"paper_nchw", 0.9f, 0, 7, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NCHW, 42, 1, 8, 1, 14, 14, 16, 0,
     UINT64_C(0xD43957093E043FAB), UINT64_C(0xFFD33FD12EA521E7)},
    {"anywhere_sample_3x5", 0.8f, 0, 3, 5, DROPBLOCK_SEED_ANYWHERE, DROPBLOCK_SCALE_SAMPLE, DROPBLOCK_NHWC, 7, 123,
     4, 1, 9, 13, 3, 0, UINT64_C(0xA638A62F9B2031CA), UINT64_C(0xD3EC8BB7440B2D20)},
    {"share_channels_expected", 0.75f, 0, 2, 0, DROPBLOCK_SHARE_CHANNELS, DROPBLOCK_SCALE_EXPECTED, DROPBLOCK_NCHW,
     1, 5000, 2, 1, 28, 28, 8, 0, UINT64_C(0x99742293E66E4595), UINT64_C(0xD09B0CC317B0E103)},
    {"share_batch_none_max_seed_step", 0.9f, 0, 1, 0, DROPBLOCK_SHARE_BATCH, DROPBLOCK_SCALE_NONE, DROPBLOCK_NHWC,
     UINT64_MAX, UINT64_MAX, 6, 1, 7, 7, 5, 0, UINT64_C(0x651DB4495C834A87), UINT64_C(0x8887ED5D0EC33363)},
    {"share_all_anywhere_4x4", 0.5f, 0, 4, 4,
     DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SHARE_BATCH | DROPBLOCK_SEED_ANYWHERE, DROPBLOCK_SCALE_BATCH,
     DROPBLOCK_NCHW, 99, 7, 3, 1, 10, 10, 4, 0, UINT64_C(0xF84BE28E6094FB5D), UINT64_C(0xDAD00D028BB80788)},
    {"block_over_map_sample", 0.3f, 0, 9, 0, 0, DROPBLOCK_SCALE_SAMPLE, DROPBLOCK_NHWC, 3, 3, 5, 1, 6, 6, 2, 0,
     UINT64_C(0x016B1B5A49C38195), UINT64_C(0xF2ED0FAF49BB0FC6)},
    {"odd_shape_expected_5x3", 0.95f, 0, 5, 3, 0, DROPBLOCK_SCALE_EXPECTED, DROPBLOCK_NHWC, 20181203, 999999,
     1, 1, 33, 17, 70, 0, UINT64_C(0x8F587BFBAF6620DF), UINT64_C(0xCBFE9ACD5BD5701C)},
    {"default_path_block7", 0.9f, 0, 7, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 2018, 7, 4, 1, 14, 14, 8, 0,
     UINT64_C(0x90571EA5917A8A60), UINT64_C(0x653BD6C68DA5A779)},
    {"exact_rate_block7", 0.9f, 0, 7, 0, DROPBLOCK_EXACT_RATE, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 2018, 7,
     4, 1, 14, 14, 8, 0, UINT64_C(0xD55F81C55119DA0F), UINT64_C(0x27AF0C084C528088)},
    {"noise_share_channels_nchw", 0.7f, 0, 3, 0, DROPBLOCK_FILL_NOISE | DROPBLOCK_SHARE_CHANNELS,
     DROPBLOCK_SCALE_BATCH, DROPBLOCK_NCHW, 2018, 3, 4, 1, 14, 14, 8, 0, UINT64_C(0x2C5DAD5A79BF5B25),
     UINT64_C(0xDD46CBC6AD191ED9)},
    {"3d_exact_anywhere_sample", 0.8f, 2, 3, 2, DROPBLOCK_EXACT_RATE | DROPBLOCK_SEED_ANYWHERE,
     DROPBLOCK_SCALE_SAMPLE, DROPBLOCK_NHWC, 2018, 5, 2, 5, 6, 7, 3, 1, UINT64_C(0x237B6C72D56912E1),
     UINT64_C(0x2967400CC369C8A2)},
};

/* dropblock_rng_next_u32 from dropblock_rng_init(seed, stream): the first 8. */
typedef struct golden_stream {
    uint64_t seed, stream;
    uint32_t u32[8];
} golden_stream;

static const golden_stream golden_streams[] = {
    {0, 0, {0x1A2C05ECu, 0x568A9B0Bu, 0x47EF718Bu, 0x44E5B8B1u, 0x55521133u, 0x458563ABu, 0x39B6C0F9u, 0x7AEC6445u}},
    {42, 7, {0x9568F550u, 0xB22D9C4Fu, 0xE6AD2519u, 0xFC7C6183u, 0x07E6E7C0u, 0x460845F7u, 0x5BFE1B1Au, 0x60F7A5FCu}},
};

#endif /* DROPBLOCK_TESTS_GOLDEN_H */
