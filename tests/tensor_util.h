/* Helpers for the tests of the 2.0 tensor API: descriptors built by hand
   (so the constructors can be tested against them), strided element access
   in logical NDHWC order, guarded buffers that catch writes outside the
   described elements, and a reference conversion between the element types
   written from THE MATH with integer arithmetic only (no hardware
   conversion, no libm). */
#ifndef DROPBLOCK_TESTS_TENSOR_UTIL_H
#define DROPBLOCK_TESTS_TENSOR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dropblock.h"
#include "test_util.h"

static inline size_t tt_dtype_size(dropblock_dtype dt) {
    return dt == DROPBLOCK_F64 ? 8 : dt == DROPBLOCK_F32 ? 4 : 2;
}

/* ---- descriptors ------------------------------------------------------------ */

/* A contiguous NDHWC descriptor with every field written out here. */
static inline dropblock_tensor tt_ndhwc(void *data, dropblock_dtype dt, int n, int d, int h, int w, int c) {
    dropblock_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.dtype = dt;
    t.n = n; t.d = d; t.h = h; t.w = w; t.c = c;
    t.stride_c = 1;
    t.stride_w = c;
    t.stride_h = (ptrdiff_t)w * c;
    t.stride_d = (ptrdiff_t)h * w * c;
    t.stride_n = (ptrdiff_t)d * h * w * c;
    return t;
}

/* A contiguous NCDHW descriptor. */
static inline dropblock_tensor tt_ncdhw(void *data, dropblock_dtype dt, int n, int d, int h, int w, int c) {
    dropblock_tensor t = tt_ndhwc(data, dt, n, d, h, w, c);
    t.stride_w = 1;
    t.stride_h = w;
    t.stride_d = (ptrdiff_t)h * w;
    t.stride_c = (ptrdiff_t)d * h * w;
    t.stride_n = (ptrdiff_t)c * d * h * w;
    return t;
}

static inline size_t tt_count(const dropblock_tensor *t) {
    return (size_t)t->n * (size_t)t->d * (size_t)t->h * (size_t)t->w * (size_t)t->c;
}

/* Element offset (in elements) of the element with logical NDHWC index e. */
static inline ptrdiff_t tt_offset(const dropblock_tensor *t, size_t e) {
    size_t c = e % (size_t)t->c, r = e / (size_t)t->c;
    size_t j = r % (size_t)t->w, i, z;
    r /= (size_t)t->w;
    i = r % (size_t)t->h;
    r /= (size_t)t->h;
    z = r % (size_t)t->d;
    r /= (size_t)t->d;
    return (ptrdiff_t)r * t->stride_n + (ptrdiff_t)z * t->stride_d + (ptrdiff_t)i * t->stride_h +
           (ptrdiff_t)j * t->stride_w + (ptrdiff_t)c * t->stride_c;
}

/* Bytes from data to the end of the last element. */
static inline size_t tt_extent(const dropblock_tensor *t) {
    ptrdiff_t last = (ptrdiff_t)(t->n - 1) * t->stride_n + (ptrdiff_t)(t->d - 1) * t->stride_d +
                     (ptrdiff_t)(t->h - 1) * t->stride_h + (ptrdiff_t)(t->w - 1) * t->stride_w +
                     (ptrdiff_t)(t->c - 1) * t->stride_c;
    return ((size_t)last + 1) * tt_dtype_size(t->dtype);
}

static inline unsigned char *tt_at(const dropblock_tensor *t, size_t e) {
    return (unsigned char *)t->data + tt_offset(t, e) * (ptrdiff_t)tt_dtype_size(t->dtype);
}

/* Copies every element into / out of a dense array in logical NDHWC order. */
static inline void tt_gather(const dropblock_tensor *t, void *dense) {
    size_t e, es = tt_dtype_size(t->dtype), count = tt_count(t);
    for (e = 0; e < count; ++e) memcpy((unsigned char *)dense + e * es, tt_at(t, e), es);
}

static inline void tt_scatter(const dropblock_tensor *t, const void *dense) {
    size_t e, es = tt_dtype_size(t->dtype), count = tt_count(t);
    for (e = 0; e < count; ++e) memcpy(tt_at(t, e), (const unsigned char *)dense + e * es, es);
}

/* ---- strided arrangements ---------------------------------------------------------- */

/* Axis numbers of an arrangement's order (innermost first). */
enum { TT_AX_N, TT_AX_D, TT_AX_H, TT_AX_W, TT_AX_C };

/* A strided view: axes in `order` innermost first, the innermost stride
   `inner`, each next stride the previous span times the size plus pad[k]
   (so it never aliases), data `offset` elements into its buffer. */
typedef struct tt_arrangement {
    int order[5];
    ptrdiff_t inner, pad[5], offset;
} tt_arrangement;

static inline dropblock_tensor tt_arrange(const tt_arrangement *a, dropblock_dtype dt, const int size[5], void *buffer) {
    dropblock_tensor t;
    ptrdiff_t s = a->inner, *stride[5];
    int k;
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    t.n = size[TT_AX_N]; t.d = size[TT_AX_D]; t.h = size[TT_AX_H]; t.w = size[TT_AX_W]; t.c = size[TT_AX_C];
    stride[TT_AX_N] = &t.stride_n; stride[TT_AX_D] = &t.stride_d; stride[TT_AX_H] = &t.stride_h;
    stride[TT_AX_W] = &t.stride_w; stride[TT_AX_C] = &t.stride_c;
    for (k = 0; k < 5; ++k) {
        *stride[a->order[k]] = s;
        s = s * size[a->order[k]] + a->pad[k];
    }
    t.data = buffer ? (unsigned char *)buffer + a->offset * (ptrdiff_t)tt_dtype_size(dt) : NULL;
    return t;
}

static inline size_t tt_arrangement_bytes(const tt_arrangement *a, dropblock_dtype dt, const int size[5]) {
    dropblock_tensor t = tt_arrange(a, dt, size, NULL);
    return (size_t)a->offset * tt_dtype_size(dt) + tt_extent(&t);
}

/* order[0 .. count) = 0 .. count-1 in a random order (Fisher-Yates). */
static inline void tt_shuffle(tu_prng *r, int *order, int count) {
    int k;
    for (k = 0; k < count; ++k) order[k] = k;
    for (k = count - 1; k > 0; --k) {
        int j = (int)tu_prng_below(r, (unsigned)k + 1), t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
}

static inline tt_arrangement tt_random_arrangement(tu_prng *r) {
    tt_arrangement a;
    int k;
    tt_shuffle(r, a.order, 5);
    a.inner = 1 + (ptrdiff_t)tu_prng_below(r, 3);
    for (k = 0; k < 5; ++k) a.pad[k] = tu_prng_below(r, 3) ? 0 : (ptrdiff_t)tu_prng_below(r, 6);
    a.offset = (ptrdiff_t)tu_prng_below(r, 9);
    return a;
}

/* ---- guarded buffers ----------------------------------------------------------- */

#define TT_GUARD ((size_t)64)

/* A buffer of `bytes` usable bytes with TT_GUARD bytes on each side, all of
   it filled with a position-dependent pattern (so a shifted write shows). */
typedef struct tt_buf { unsigned char *mem, *shot; size_t bytes; } tt_buf;

static inline tt_buf tt_buf_make(size_t bytes, unsigned salt) {
    tt_buf b;
    size_t k, all = bytes + 2 * TT_GUARD;
    b.bytes = bytes;
    b.mem = (unsigned char *)tu_xmalloc(all);
    b.shot = (unsigned char *)tu_xmalloc(all);
    for (k = 0; k < all; ++k) b.mem[k] = (unsigned char)(k * 37u + (size_t)salt * 101u + 11u);
    return b;
}

static inline void *tt_buf_data(const tt_buf *b) { return b->mem + TT_GUARD; }

static inline void tt_buf_snapshot(tt_buf *b) { memcpy(b->shot, b->mem, b->bytes + 2 * TT_GUARD); }

static inline int tt_buf_unchanged(const tt_buf *b) { return memcmp(b->shot, b->mem, b->bytes + 2 * TT_GUARD) == 0; }

/* 1 if every byte of the buffer that is not part of an element of t (whose
   data lies in this buffer) equals its snapshot. */
static inline int tt_buf_outside_unchanged(const tt_buf *b, const dropblock_tensor *t) {
    size_t all = b->bytes + 2 * TT_GUARD, e, k, es = tt_dtype_size(t->dtype), count = tt_count(t);
    unsigned char *inside = (unsigned char *)calloc(all, 1);
    int ok = 1;
    if (!inside) abort();
    for (e = 0; e < count; ++e) memset(inside + (tt_at(t, e) - b->mem), 1, es);
    for (k = 0; k < all; ++k)
        if (!inside[k] && b->mem[k] != b->shot[k]) ok = 0;
    free(inside);
    return ok;
}

static inline void tt_buf_free(tt_buf *b) {
    free(b->mem);
    free(b->shot);
    b->mem = b->shot = NULL;
}

/* ---- element values ------------------------------------------------------------ */

static inline uint64_t tt_f64_bits(double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

/* Rounds sig * 2^exp (sig >= 1) to the binary format with ebits exponent
   and mbits fraction bits, to nearest, ties to even, with subnormals;
   overflow gives Inf. Returns the encoding without the sign bit. */
static inline uint64_t tt_round(uint64_t sig, int exp, int ebits, int mbits) {
    int bias = (1 << (ebits - 1)) - 1, top = 63, e, q, shift;
    uint64_t r, inf = ((UINT64_C(1) << ebits) - 1) << mbits;
    while (!(sig >> top)) --top;
    e = top + exp;                                 /* value in [2^e, 2^(e+1)) */
    q = (e < 1 - bias ? 1 - bias : e) - mbits;     /* its ulp in the target   */
    shift = q - exp;
    if (shift <= 0) {
        r = sig << -shift;
    } else if (shift > 64) {
        r = 0;
    } else {
        uint64_t rem = shift == 64 ? sig : sig & ((UINT64_C(1) << shift) - 1);
        uint64_t half = UINT64_C(1) << (shift - 1);
        r = shift == 64 ? 0 : sig >> shift;
        if (rem > half || (rem == half && (r & 1u))) ++r;
    }
    /* r ulps: a subnormal's encoding is r itself; a normal's adds the
       exponent, and a round-up to 2^(mbits+1) carries into it */
    if (e >= 1 - bias) r += (uint64_t)(e + bias - 1) << mbits;
    return r >= inf ? inf : r;
}

/* Converts between binary formats (ie/im to oe/om bits). Narrowing rounds
   to nearest even; a NaN keeps its sign and top payload bits and gets the
   quiet bit (F16C's vcvtps2ph, and BF16's upper half | 0x0040); widening is
   exact and keeps NaN bits as they are. */
static inline uint64_t tt_convert(uint64_t bits, int ie, int im, int oe, int om) {
    uint64_t sign = (bits >> (ie + im)) & 1u, emax = (UINT64_C(1) << ie) - 1;
    uint64_t ef = (bits >> im) & emax, m = bits & ((UINT64_C(1) << im) - 1), out;
    uint64_t oinf = ((UINT64_C(1) << oe) - 1) << om;
    if (ef == emax) {
        if (m == 0) out = oinf;
        else if (im >= om) out = oinf | (UINT64_C(1) << (om - 1)) | (m >> (im - om));
        else out = oinf | (m << (om - im));
    } else if (ef == 0 && m == 0) {
        out = 0;
    } else {
        int bias = (1 << (ie - 1)) - 1;
        uint64_t sig = ef ? m | (UINT64_C(1) << im) : m;
        int exp = (ef ? (int)ef : 1) - bias - im;
        out = tt_round(sig, exp, oe, om);
    }
    return (sign << (oe + om)) | out;
}

static inline float tt_f16_to_f32(uint16_t h) { return tu_float((uint32_t)tt_convert(h, 5, 10, 8, 23)); }
static inline float tt_bf16_to_f32(uint16_t b) { return tu_float((uint32_t)b << 16); }
static inline uint16_t tt_f32_to_f16(float f) { return (uint16_t)tt_convert(tu_bits(f), 8, 23, 5, 10); }
static inline uint16_t tt_f32_to_bf16(float f) { return (uint16_t)tt_convert(tu_bits(f), 8, 23, 8, 7); }
static inline uint16_t tt_f64_to_f16(double v) { return (uint16_t)tt_convert(tt_f64_bits(v), 11, 52, 5, 10); }
static inline uint16_t tt_f64_to_bf16(double v) { return (uint16_t)tt_convert(tt_f64_bits(v), 11, 52, 8, 7); }

/* count finite values of dtype dt in [-4, 4] (F16/BF16 the rounded floats). */
static inline void tt_fill_values(tu_prng *r, dropblock_dtype dt, void *buf, size_t count) {
    size_t k;
    for (k = 0; k < count; ++k) {
        double v = 8.0 * tu_prng_unit(r) - 4.0;
        if (dt == DROPBLOCK_F64) ((double *)buf)[k] = v;
        else if (dt == DROPBLOCK_F32) ((float *)buf)[k] = (float)v;
        else if (dt == DROPBLOCK_F16) ((uint16_t *)buf)[k] = tt_f64_to_f16(v);
        else ((uint16_t *)buf)[k] = tt_f64_to_bf16(v);
    }
}

/* ---- mask helpers ----------------------------------------------------------------- */

/* Status of init + one-part build of m over `like`, the workspace allocated
   into *ws (freed by the caller, whatever the status). */
static inline dropblock_status tt_mask_make(dropblock_mask *m, const dropblock_config *cfg, uint64_t step,
                                            const dropblock_tensor *like, void **ws) {
    size_t bytes = 0;
    dropblock_status st = dropblock_mask_workspace_size(like, &bytes);
    memset(m, 0, sizeof *m);        /* an empty mask if init fails: the analyzer reads on */
    *ws = tu_xmalloc(bytes);        /* never NULL, even when the query failed */
    memset(*ws, TU_PATTERN, bytes); /* defined bytes: a copy of it compares under valgrind */
    if (st != DROPBLOCK_OK) return st;
    st = dropblock_mask_init(m, cfg, step, like, *ws, bytes);
    return st != DROPBLOCK_OK ? st : dropblock_mask_build(m, 0, 1);
}

/* keep[e] = 1 where the built mask m keeps the element with logical NDHWC
   index e of a tensor of `like`'s sizes, found by applying m to ones in F32
   (kept elements become the nonzero scale). Only for masks without
   FILL_NOISE, whose dropped elements are 0. */
static inline dropblock_status tt_mask_keep(const dropblock_mask *m, const dropblock_tensor *like, uint8_t *keep) {
    size_t e, count = tt_count(like);
    float *ones = (float *)tu_xmalloc(count * sizeof(float)), *out = (float *)tu_xmalloc(count * sizeof(float));
    dropblock_tensor tx = tt_ndhwc(ones, DROPBLOCK_F32, like->n, like->d, like->h, like->w, like->c), ty;
    dropblock_status st;
    tx.n_offset = like->n_offset;
    ty = tx;
    ty.data = out;
    for (e = 0; e < count; ++e) ones[e] = 1.0f;
    st = dropblock_mask_forward(m, &tx, &ty, 0, 1);
    for (e = 0; e < count; ++e) keep[e] = out[e] != 0.0f;
    free(ones);
    free(out);
    return st;
}

#endif /* DROPBLOCK_TESTS_TENSOR_UTIL_H */
