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

   The PNG writer is self-contained (libc only): one deflate block with the
   fixed Huffman code and run-length matches, which keeps the file small. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- canvas and the 5x7 font -------------------------------------------- */

typedef struct { int w, h; unsigned char *rgb; } canvas;

static void fill(canvas *cv, int x, int y, int w, int h, const unsigned char col[3]) {
    int i, j;
    for (i = y; i < y + h && i < cv->h; ++i)
        for (j = x; j < x + w && j < cv->w; ++j) memcpy(cv->rgb + 3 * ((size_t)i * cv->w + j), col, 3);
}

/* Rows of each glyph, 5 bits each, most significant bit leftmost. */
static const char glyph_chars[] = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-.=():/,_+";
static const unsigned char glyph_rows[][7] = {
    {0, 0, 0, 0, 0, 0, 0},
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
    {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}, {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},
    {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}, {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}, {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},
    {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}, {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
    {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}, {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},
    {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}, {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
    {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},
    {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}, {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},
    {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}, {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}, {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},
    {0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},
    {0, 0, 0, 0x1F, 0, 0, 0},                   {0, 0, 0, 0, 0, 0x0C, 0x0C},
    {0, 0, 0x1F, 0, 0x1F, 0, 0},                {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}, {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0},
    {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10}, {0, 0, 0, 0, 0x04, 0x04, 0x08},
    {0, 0, 0, 0, 0, 0, 0x1F},                   {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0}};

/* Upper-case text at (x, y), 6 x 9 cells magnified FONT times. */
static void text(canvas *cv, int x, int y, const char *s, const unsigned char col[3]) {
    for (; *s; ++s, x += 6 * FONT) {
        const char *at = strchr(glyph_chars, (*s >= 'a' && *s <= 'z') ? *s - 'a' + 'A' : *s);
        int r, b;
        if (!at) continue;
        for (r = 0; r < 7; ++r)
            for (b = 0; b < 5; ++b)
                if (glyph_rows[at - glyph_chars][r] & (0x10 >> b)) fill(cv, x + b * FONT, y + r * FONT, FONT, FONT, col);
    }
}

/* A MAP x MAP RGB image, magnified ZOOM times. */
static void panel(canvas *cv, int x, int y, const unsigned char *img) {
    int i, j;
    for (i = 0; i < MAP; ++i)
        for (j = 0; j < MAP; ++j) fill(cv, x + j * ZOOM, y + i * ZOOM, ZOOM, ZOOM, img + 3 * (i * MAP + j));
}

/* ---- PNG ----------------------------------------------------------------- */

typedef struct { unsigned char *p; size_t n; uint32_t acc; int bits; } bitbuf;

/* Deflate writes fields least significant bit first. */
static void put_bits(bitbuf *b, uint32_t v, int n) {
    b->acc |= v << b->bits;
    for (b->bits += n; b->bits >= 8; b->bits -= 8, b->acc >>= 8) b->p[b->n++] = (unsigned char)b->acc;
}

/* Huffman codes go most significant bit first, so reverse them. */
static void put_code(bitbuf *b, uint32_t code, int n) {
    uint32_t r = 0;
    int k;
    for (k = 0; k < n; ++k) r |= ((code >> k) & 1u) << (n - 1 - k);
    put_bits(b, r, n);
}

/* A literal/length symbol in the fixed code of RFC 1951 3.2.6. */
static void put_symbol(bitbuf *b, int s) {
    if (s < 144) put_code(b, 0x30u + (uint32_t)s, 8);
    else if (s < 256) put_code(b, 0x190u + (uint32_t)(s - 144), 9);
    else if (s < 280) put_code(b, (uint32_t)(s - 256), 7);
    else put_code(b, 0xC0u + (uint32_t)(s - 280), 8);
}

/* One fixed-Huffman block: literals, and runs of the previous byte as
   matches at distance 1 (PNG's Sub/Up filters turn flat areas into runs). */
static void deflate_fixed(bitbuf *b, const unsigned char *d, size_t n) {
    static const int base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    size_t i = 0;
    put_bits(b, 1, 1); /* BFINAL */
    put_bits(b, 1, 2); /* BTYPE 01: fixed codes */
    while (i < n) {
        size_t run = 0;
        while (i > 0 && i + run < n && run < 258 && d[i + run] == d[i - 1]) ++run;
        if (run >= 3) {
            int c = 28;
            while (base[c] > (int)run) --c;
            put_symbol(b, 257 + c);
            if (c >= 8 && c < 28) put_bits(b, (uint32_t)run - (uint32_t)base[c], (c - 4) / 4);
            put_code(b, 0, 5); /* distance code 0: distance 1 */
            i += run;
        } else {
            put_symbol(b, d[i++]);
        }
    }
    put_symbol(b, 256);
    if (b->bits) put_bits(b, 0, 8 - b->bits);
}

static uint32_t crc32(uint32_t crc, const unsigned char *p, size_t n) {
    int k;
    crc = ~crc;
    while (n--)
        for (crc ^= *p++, k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    return ~crc;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);  p[3] = (unsigned char)v;
}

/* Length, type, data, CRC over type and data. */
static int write_chunk(FILE *f, const char *type, const unsigned char *data, size_t n) {
    unsigned char head[8], tail[4];
    put_be32(head, (uint32_t)n);
    memcpy(head + 4, type, 4);
    put_be32(tail, crc32(crc32(0, head + 4, 4), data, n));
    return fwrite(head, 1, 8, f) == 8 && fwrite(data, 1, n, f) == n && fwrite(tail, 1, 4, f) == 4;
}

static int write_png(const char *path, const canvas *cv) {
    static const unsigned char signature[8] = {137, 'P', 'N', 'G', 13, 10, 26, 10}, none[1] = {0};
    size_t stride = 3 * (size_t)cv->w, raw_n = (stride + 1) * (size_t)cv->h, i, y;
    unsigned char ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0}; /* 8-bit RGB */
    unsigned char *raw = malloc(raw_n);
    bitbuf z = {0};
    uint32_t a = 1, b = 0;
    FILE *f;
    int ok;
    z.p = malloc(raw_n + raw_n / 8 + 64); /* worst case: 9 bits per byte */
    if (!raw || !z.p) { free(raw); free(z.p); return 0; }
    /* Filter each row: Up (2) if it repeats the row above, else Sub (1). */
    for (y = 0; y < (size_t)cv->h; ++y) {
        const unsigned char *row = cv->rgb + y * stride, *above = row - stride;
        unsigned char *out = raw + y * (stride + 1);
        int up = y > 0 && memcmp(row, above, stride) == 0;
        out[0] = (unsigned char)(up ? 2 : 1);
        for (i = 0; i < stride; ++i)
            out[1 + i] = (unsigned char)(row[i] - (up ? above[i] : (i >= 3 ? row[i - 3] : 0)));
    }
    z.p[z.n++] = 0x78; z.p[z.n++] = 0x01; /* zlib header: deflate, 32K window */
    deflate_fixed(&z, raw, raw_n);
    for (i = 0; i < raw_n; ++i) { a = (a + raw[i]) % 65521u; b = (b + a) % 65521u; } /* Adler-32 */
    put_be32(z.p + z.n, (b << 16) | a);
    z.n += 4;
    put_be32(ihdr, (uint32_t)cv->w);
    put_be32(ihdr + 4, (uint32_t)cv->h);
    f = fopen(path, "wb");
    ok = f && fwrite(signature, 1, 8, f) == 8 && write_chunk(f, "IHDR", ihdr, 13) &&
         write_chunk(f, "IDAT", z.p, z.n) && write_chunk(f, "IEND", none, 0);
    if (f && fclose(f) != 0) ok = 0;
    free(raw);
    free(z.p);
    return ok;
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
    text(cv, MARGIN, top, spec->label, ink);
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
    text(&cv, MARGIN, top, "DROPBLOCK 32X32X3 (NHWC), KEEP_PROB 0.9", ink);
    top += LINE + 8;
    for (col = 0; col < N_COLS; ++col) text(&cv, MARGIN + col * (PANEL + GAP), top, titles[col], grey);
    top += LINE + 8;
    for (r = 0; r < N_ROWS; ++r, top += ROW_H) failed |= draw_row(&cv, top, &rows[r], x);
    text(&cv, MARGIN, top, "COLOUR = CHANNEL R, G, B", grey);
    text(&cv, MARGIN, top + LINE, "WHITE = ALL CHANNELS", grey);
    text(&cv, MARGIN, top + 2 * LINE, "LIGHT SQUARE = WHERE SEEDS MAY FALL", grey);

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
