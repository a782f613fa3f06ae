/* visualize.c - pictures of what DropBlock does to a feature map.

   Writes one PNG (argv[1], default "dropblock_grid.png") holding a labelled
   grid: one row per configuration (block 1 = dropout, 3, 5, 7 with a mask
   per channel; block 7 with one mask shared by all channels; the same with
   seeds allowed anywhere), and four columns:

     INPUT   a 32x32 map with 3 channels, shown as RGB. It is grey (all
             channels equal), so a block dropped in one channel only shows
             as a coloured hole and a block dropped in all as a black one.
     SEEDS   the seed positions drawn from the generator, coloured by the
             channel whose map they belong to (white: shared by all). The
             lighter square is where seeds may fall.
     BLOCKS  the expanded blocks, coloured the same way.
     OUTPUT  dropblock_forward's result (rescaled kept values).

   The seeds are not an output of the library: this program draws them
   itself as THE GENERATOR section of dropblock.h documents (seed position P
   is draw P of the stream (cfg.seed, step)), expands them with
   dropblock_expand_mask, and checks that this equals the keep_mask of
   dropblock_forward. It exits 1 on any difference, so it doubles as a test.

   The canvas, font and PNG writer are examples/png.h (libc only). */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png.h"

enum {
    MAP = 32,          /* the map is MAP x MAP                     */
    CH = 3,            /* channels, drawn as R, G, B               */
    ZOOM = 4,          /* screen pixels per map cell               */
    PANEL = MAP * ZOOM,
    GAP = 12,
    MARGIN = 12,
    FONT = 2,          /* font magnification: 5x7 glyphs -> 10x14 */
    LINE = 9 * FONT,   /* text line height                         */
    N_ROWS = 6,
    N_COLS = 4,
    ROW_H = LINE + 4 + PANEL + GAP
};

#define KEEP_PROB 0.9f
#define SEED 7u
#define STEP 1u

/* A MAP x MAP RGB image, magnified ZOOM times. */
static void panel(canvas *cv, int x, int y, const unsigned char *img) {
    int i, j;
    for (i = 0; i < MAP; ++i)
        for (j = 0; j < MAP; ++j) fill(cv, x + j * ZOOM, y + i * ZOOM, ZOOM, ZOOM, img + 3 * (i * MAP + j));
}

/* ---- DropBlock ------------------------------------------------------------ */

typedef struct { int block; unsigned flags; const char *label; } row_spec;

/* The keep mask rebuilt from the documented generator: seeds drawn as one
   Bernoulli stream, draw P = (i*grid + j)*maps + m for seed (i, j) of map m
   (one sample; THE GENERATOR in dropblock.h), placed on the map, expanded
   per map.
   seeds_out receives each channel's seeds (NHWC bytes). Returns 0 if it
   equals keep_mask bit for bit. */
static int rebuild_mask(const dropblock_config *cfg, const uint8_t *keep_mask, uint8_t *seeds_out) {
    int shared = (cfg->flags & DROPBLOCK_SHARE_CHANNELS) != 0;
    int anywhere = (cfg->flags & DROPBLOCK_SEED_ANYWHERE) != 0;
    int b = cfg->block_h < MAP ? cfg->block_h : MAP;
    int grid = anywhere ? MAP : MAP - b + 1;     /* seed positions per axis        */
    int off = anywhere ? 0 : (b - 1) / 2;        /* seed (0,0) sits at (off, off)  */
    int maps = shared ? 1 : CH, m, i, j, c;
    uint8_t draws[CH * MAP * MAP], seeds[MAP * MAP], keep[MAP * MAP];
    dropblock_rng rng;
    dropblock_rng_init(&rng, cfg->seed, STEP);
    dropblock_bernoulli(&rng, dropblock_gamma(cfg->keep_prob, b, b, MAP, MAP), draws, (size_t)(maps * grid * grid));
    for (m = 0; m < maps; ++m) {
        memset(seeds, 0, sizeof seeds);
        for (i = 0; i < grid; ++i)
            for (j = 0; j < grid; ++j) seeds[(i + off) * MAP + j + off] = draws[(i * grid + j) * maps + m];
        if (dropblock_expand_mask(seeds, MAP, MAP, b, b, keep) != DROPBLOCK_OK) return 1;
        for (c = 0; c < CH; ++c) {
            if (!shared && c != m) continue;
            for (i = 0; i < MAP * MAP; ++i) {
                seeds_out[i * CH + c] = seeds[i];
                if (keep[i] != keep_mask[i * CH + c]) return 1;
            }
        }
    }
    return 0;
}

/* The grey input: a smooth blob pattern, equal in every channel. */
static void make_input(float *x) {
    int i, j, c;
    for (i = 0; i < MAP; ++i)
        for (j = 0; j < MAP; ++j)
            for (c = 0; c < CH; ++c)
                x[(i * MAP + j) * CH + c] = 0.45f + 0.35f * sinf(0.35f * (float)i) * cosf(0.28f * (float)j);
}

static unsigned char to_byte(float v) {
    return (unsigned char)(v <= 0.0f ? 0 : v >= 1.0f ? 255 : (int)(v * 255.0f + 0.5f));
}

/* Draws one row of the grid; returns nonzero if the rebuilt mask differs. */
static int draw_row(canvas *cv, int top, const row_spec *spec, const float *x) {
    static const unsigned char ink[3] = {20, 20, 20}, dark[3] = {28, 28, 36}, allowed[3] = {70, 70, 84};
    unsigned char img[N_COLS][MAP * MAP * 3];
    float y[MAP * MAP * CH];
    uint8_t mask[MAP * MAP * CH], seeds[MAP * MAP * CH];
    dropblock_config cfg = {0};
    dropblock_shape shape = {1, MAP, MAP, CH};
    dropblock_status st;
    int i, c, col, lo, hi;
    cfg.keep_prob = KEEP_PROB;
    cfg.block_h = spec->block;
    cfg.flags = spec->flags;
    cfg.seed = SEED;
    st = dropblock_forward(&cfg, shape, STEP, x, y, mask);
    if (st != DROPBLOCK_OK) {
        fprintf(stderr, "dropblock_forward: %s\n", dropblock_status_string(st));
        return 1;
    }
    if (rebuild_mask(&cfg, mask, seeds)) {
        fprintf(stderr, "%s: seeds expanded by hand differ from dropblock_forward's keep_mask\n", spec->label);
        return 1;
    }
    /* Where seeds may fall: the whole map, or the cells whose block fits. */
    lo = (spec->flags & DROPBLOCK_SEED_ANYWHERE) ? 0 : (spec->block - 1) / 2;
    hi = (spec->flags & DROPBLOCK_SEED_ANYWHERE) ? MAP : MAP - spec->block / 2;
    for (i = 0; i < MAP * MAP; ++i) {
        int r = i / MAP, q = i % MAP, inside = r >= lo && r < hi && q >= lo && q < hi;
        for (c = 0; c < CH; ++c) {
            img[0][3 * i + c] = to_byte(x[i * CH + c]);
            img[1][3 * i + c] = seeds[i * CH + c] ? 255 : (inside ? allowed : dark)[c];
            img[2][3 * i + c] = mask[i * CH + c] ? dark[c] : 255;
            img[3][3 * i + c] = to_byte(y[i * CH + c]);
        }
    }
    text(cv, MARGIN, top, spec->label, ink, FONT);
    for (col = 0; col < N_COLS; ++col) panel(cv, MARGIN + col * (PANEL + GAP), top + LINE + 4, img[col]);
    return 0;
}

int main(int argc, char **argv) {
    static const row_spec rows[N_ROWS] = {
        {1, 0, "BLOCK 1 (= DROPOUT), PER CHANNEL"},
        {3, 0, "BLOCK 3, PER CHANNEL"},
        {5, 0, "BLOCK 5, PER CHANNEL"},
        {7, 0, "BLOCK 7, PER CHANNEL"},
        {7, DROPBLOCK_SHARE_CHANNELS, "BLOCK 7, SHARE_CHANNELS"},
        {7, DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SEED_ANYWHERE, "BLOCK 7, SHARE_CHANNELS + SEED_ANYWHERE"}};
    static const char *titles[N_COLS] = {"INPUT", "SEEDS", "BLOCKS", "OUTPUT"};
    static const unsigned char paper[3] = {250, 250, 247}, ink[3] = {20, 20, 20}, grey[3] = {90, 90, 90};
    static float x[MAP * MAP * CH];
    const char *path = argc > 1 ? argv[1] : "dropblock_grid.png";
    canvas cv;
    int r, col, top, failed = 0;

    cv.w = 2 * MARGIN + N_COLS * PANEL + (N_COLS - 1) * GAP;
    cv.h = 2 * MARGIN + 2 * LINE + 16 + N_ROWS * ROW_H + 3 * LINE;
    cv.rgb = malloc((size_t)cv.w * (size_t)cv.h * 3);
    if (!cv.rgb) return 1;
    fill(&cv, 0, 0, cv.w, cv.h, paper);
    make_input(x);

    top = MARGIN;
    text(&cv, MARGIN, top, "DROPBLOCK 32X32X3 (NHWC), KEEP_PROB 0.9", ink, FONT);
    top += LINE + 8;
    for (col = 0; col < N_COLS; ++col) text(&cv, MARGIN + col * (PANEL + GAP), top, titles[col], grey, FONT);
    top += LINE + 8;
    for (r = 0; r < N_ROWS; ++r, top += ROW_H) failed |= draw_row(&cv, top, &rows[r], x);
    text(&cv, MARGIN, top, "COLOUR = CHANNEL R, G, B", grey, FONT);
    text(&cv, MARGIN, top + LINE, "WHITE = ALL CHANNELS", grey, FONT);
    text(&cv, MARGIN, top + 2 * LINE, "LIGHT SQUARE = WHERE SEEDS MAY FALL", grey, FONT);

    if (!failed && !write_png(path, &cv)) {
        fprintf(stderr, "cannot write %s\n", path);
        failed = 1;
    }
    free(cv.rgb);
    if (failed) return 1;
    printf("wrote %s (%dx%d): %d configurations, keep masks rebuilt from the seeds match dropblock_forward\n",
           path, cv.w, cv.h, N_ROWS);
    return 0;
}
