/* png.h - the examples' picture writer: an RGB canvas, a 5x7 font, and a
   PNG encoder that needs libc only (one deflate block with the fixed
   Huffman code and run-length matches, which keeps flat pictures small).

   Included by visualize.c and fashion_mnist.c; every function is static, so
   each program carries its own copy of this one source. */
#ifndef DROPBLOCK_EXAMPLES_PNG_H
#define DROPBLOCK_EXAMPLES_PNG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Upper-case text at (x, y), 6 x 9 cells magnified `scale` times. */
static void text(canvas *cv, int x, int y, const char *s, const unsigned char col[3], int scale) {
    for (; *s; ++s, x += 6 * scale) {
        const char *at = strchr(glyph_chars, (*s >= 'a' && *s <= 'z') ? *s - 'a' + 'A' : *s);
        int r, b;
        if (!at) continue;
        for (r = 0; r < 7; ++r)
            for (b = 0; b < 5; ++b)
                if (glyph_rows[at - glyph_chars][r] & (0x10 >> b)) fill(cv, x + b * scale, y + r * scale, scale, scale, col);
    }
}

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

static uint32_t png_crc32(uint32_t crc, const unsigned char *p, size_t n) {
    int k;
    crc = ~crc;
    while (n--)
        for (crc ^= *p++, k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    return ~crc;
}

static void png_put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);  p[3] = (unsigned char)v;
}

/* Length, type, data, CRC over type and data. */
static int png_write_chunk(FILE *f, const char *type, const unsigned char *data, size_t n) {
    unsigned char head[8], tail[4];
    png_put_be32(head, (uint32_t)n);
    memcpy(head + 4, type, 4);
    png_put_be32(tail, png_crc32(png_crc32(0, head + 4, 4), data, n));
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
    png_put_be32(z.p + z.n, (b << 16) | a);
    z.n += 4;
    png_put_be32(ihdr, (uint32_t)cv->w);
    png_put_be32(ihdr + 4, (uint32_t)cv->h);
    f = fopen(path, "wb");
    ok = f && fwrite(signature, 1, 8, f) == 8 && png_write_chunk(f, "IHDR", ihdr, 13) &&
         png_write_chunk(f, "IDAT", z.p, z.n) && png_write_chunk(f, "IEND", none, 0);
    if (f && fclose(f) != 0) ok = 0;
    free(raw);
    free(z.p);
    return ok;
}

#endif /* DROPBLOCK_EXAMPLES_PNG_H */
