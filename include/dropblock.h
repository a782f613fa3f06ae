/* dropblock.h - v2.0.6 - DropBlock structured dropout for F32, F16, BF16 and
   F64 tensors, C99.

   DropBlock (Ghiasi, Lin & Le, "DropBlock: A regularization method for
   convolutional networks", NeurIPS 2018) zeroes whole bh x bw blocks of a
   feature map instead of single activations, because neighbouring
   activations of a convolution are correlated and plain dropout barely
   regularises them. Block 1x1 is ordinary dropout; a block as large as the
   map is spatial (channel) dropout.

   DO THIS in exactly one C or C++ file:

       #define DROPBLOCK_IMPLEMENTATION
       #include "dropblock.h"

   and include "dropblock.h" without the define everywhere else.

   EXAMPLE, the engine API (an NCHW bf16 tensor of 8x256x14x14, on the
   engine's own thread pool; the layout is what the strides say):

       dropblock_config cfg = dropblock_config_default(); // keep 0.9, block 7
       dropblock_tensor t = dropblock_tensor_nchw(act, DROPBLOCK_BF16, 8, 256, 14, 14);
       dropblock_executor ex = {my_parallel_for, my_pool, 4}; // fn(task, k, 4), k < 4
       cfg.stream = layer_index;               // each layer its own masks
       cfg.seed   = 42;
       dropblock_forward_tensor(&cfg, step, &t, &t, NULL, 0, &ex, NULL); // in place
       ...
       dropblock_backward_tensor(&cfg, step, &grad_t, &grad_t, NULL, 0, &ex);

   To build the mask once per step and keep it between forward and
   backward, use the mask object: dropblock_mask_init() over a workspace of
   dropblock_mask_workspace_size() bytes, dropblock_mask_build() in parts,
   then dropblock_mask_forward() and dropblock_mask_backward() in parts.
   A window of a batch (threads, micro-batches, MPI ranks) sets n_offset
   and gives the whole batch's counts to dropblock_mask_set_batch().

   EXAMPLE, the 1.x API (float, contiguous, NHWC activations of 8x14x14x256):

       dropblock_config cfg = dropblock_config_default();
       dropblock_shape  shape = {8, 14, 14, 256};  // {n, h, w, c} in any layout
       cfg.keep_prob = dropblock_keep_prob_linear(0.9f, step, 5000);
       cfg.seed      = 42;
       dropblock_forward(&cfg, shape, step, act, act, NULL);      // in place
       ...
       dropblock_backward(&cfg, shape, step, grad, grad);         // same mask

   Nothing needs to be stored between forward and backward: the mask is a
   pure function of (seed, stream, step, map, position) and backward can
   regenerate it.

   OVERRIDES (define before the #include that has DROPBLOCK_IMPLEMENTATION)

       macro                          default
       DROPBLOCK_STATIC               functions are extern; define it to make
                                      them static (implementation in that TU)
       DROPBLOCK_ASSERT(x)            assert(x); internal invariants only
       DROPBLOCK_MALLOC(bytes)        malloc(bytes)   define both or neither
       DROPBLOCK_FREE(ptr)            free(ptr)
       DROPBLOCK_NO_SIMD              undefined: SSE2 where the compiler has it
                                      (x86-64 always), and with gcc >= 9 or
                                      clang >= 8 on x86-64 an AVX-512 seed
                                      draw, mask build and apply, an F16C
                                      binary16 apply and POPCNT, chosen at
                                      run time (__builtin_cpu_supports);
                                      define it for plain C. Every path
                                      gives the same bits.
       DROPBLOCK_NO_AVX512            undefined; define it to leave out the
                                      AVX-512 paths only
       DROPBLOCK_STREAM_BYTES         48 MiB: outputs at least this large
                                      (y != x) are written with non-temporal
                                      stores on the AVX-512 path
       DROPBLOCK_API                  extern (static under DROPBLOCK_STATIC);
                                      define it for other linkage

   Only the calls given no workspace allocate (dropblock_forward(),
   dropblock_backward(), and the _tensor calls given NULL): once per call,
   about one bit per element, and nothing when no seed can occur. The mask
   object, the _ws, 3-D and _range calls take the caller's workspace and
   never allocate. There is no global state and the library never creates
   a thread: every function is reentrant, and calls on different buffers
   may run on different threads at once. The F16/BF16 and float paths
   assume the default floating-point environment (no flush-to-zero).

   -------------------------------------------------------------------------
   THE MATH (the contract; the tests check every example given here)

   Tensors. The engine API takes a dropblock_tensor: sizes n, d, h, w, c
   (d = 1 in 2-D) and element strides, so any layout (NHWC, NCHW, a
   channels-last view, a channel slice, padded rows) is described without a
   copy, in F32, F16, BF16 or F64; n_offset makes it a window of a larger
   logical batch. The 1.x calls take float, contiguous tensors: NHWC
   (default) with element (n,i,j,c) at ((n*H + i)*W + j)*C + c, or NCHW at
   ((n*C + c)*H + i)*W + j (cfg->layout), NDHWC / NCDHW in 3-D. Every
   dimension is an int >= 1 and the element count (and its size in bytes)
   must fit in size_t.

   Block. bh = min(block_h, H), bw = min(block_w ? block_w : block_h, W),
   bd = min(block_d ? block_d : block_h, D) (D = 1 in 2-D, so bd = 1 there).
   A block larger than the map is legal and never produces NaN.

   Seeds. A seed at (i, j) drops rows i - floor((bh-1)/2) .. i + floor(bh/2)
   and the same for columns (and depth), intersected with the map: odd
   sizes are centred, even sizes put the extra row/column down and right.
   Valid placement (default, the paper): seeds only where the whole block
   fits, Hv = H - bh + 1 by Wv = W - bw + 1 positions. DROPBLOCK_SEED_ANYWHERE:
   every position of the map may seed; edge blocks are clipped.

   Gamma. Each allowed position seeds independently with probability

       gamma = (1 - keep_prob) / (bh*bw) * (H*W) / ((H-bh+1) * (W-bw+1))

   with the clipped block, clamped to [0, 1] (3-D: multiply in bd, D and
   D-bd+1 the same way). Seeds compare with t = floor(gamma * 2^32) (see THE
   GENERATOR), and t is computed exactly, in integers, as
       t = floor((2^32 - K) * (H*W) / (bh*bw*(H-bh+1)*(W-bw+1))), at most 2^32,
   with K = keep_prob * 2^32 rounded half up (exact for keep_prob >= 2^-8),
   so no rounding of any build can move a seed. keep_prob == 1 gives t = 0,
   and a block covering the map gives t = 2^32 - K: the map is dropped with
   probability exactly 1 - keep_prob. dropblock_gamma() returns gamma in
   double, computed as (1 - keep_prob) times that ratio.
   Because blocks overlap, the expected dropped fraction is a little below
   1 - keep_prob; that is the paper's formula. DROPBLOCK_EXACT_RATE instead
   uses the gamma at which the expected kept fraction, the mean over map
   positions of (1 - gamma)^(allowed seed positions whose block covers it),
   equals keep_prob (dropblock_gamma_exact; exact up to the 2^-32 steps of
   t). That solve, the expected scale below and the noise fill use double
   arithmetic with every product rounded on its own: the same bits wherever
   double is IEEE binary64 (x86-64, AArch64, SSE2 math); x87 builds
   (FLT_EVAL_METHOD 2) may differ in the last bit there, and only there.
   Worked values (to rounding): dropblock_gamma(0.9, 7, 7, 14, 14) =
   0.1/49 * 196/64 = 0.00625; dropblock_gamma(0.9, 3, 3, 5, 5) = 0.1/9 * 25/9.

   Maps. A map is one D x H x W plane of seeds. By default every (n, c) has
   its own (the paper's Algorithm 1). DROPBLOCK_SHARE_CHANNELS: one map per
   sample n (all channels drop together). DROPBLOCK_SHARE_BATCH: one map per
   channel c. Both: one map for the whole tensor. The keep mask K is 0 where
   any seed of the element's map drops it, 1 elsewhere.
   Worked example, seeds at (0,0) and (1,3) of a 5x5 map:
       block 2x2 keeps   00111 / 00100 / 11100 / 11111 / 11111
       block 3x3 keeps   00000 / 00000 / 11000 / 11111 / 11111

   Scale s. DROPBLOCK_SCALE_BATCH (default): T / Kept over the whole tensor
   (T = element count). DROPBLOCK_SCALE_SAMPLE: the same per sample n.
   DROPBLOCK_SCALE_EXPECTED: 1 / E[kept fraction], computed from the seed
   probability and the block geometry (the same for every draw).
   DROPBLOCK_SCALE_NONE: 1. If nothing is kept the output is all zeros.

   Output. y = s*x where K = 1 and y = +0.0f where K = 0 (even if x is NaN
   or Inf there); when s is exactly 1 the bits of x are copied. F32, F16
   and BF16 use s rounded to float, F64 s in double; a kept 16-bit element
   is s*x in float rounded to nearest-even (see dropblock_dtype). If no seed
   can occur (t = 0, e.g. keep_prob == 1) the mask is all ones, s = 1, and
   y is a bit-exact copy of x. y == x is allowed; any other overlap of the
   buffers is an error. Backward: dx = s*dy where K = 1, 0 elsewhere, with
   exactly forward's K and s.
   DROPBLOCK_FILL_NOISE (timm's with_noise): y = x where K = 1 and seeded
   noise where K = 0, with s = 1 whatever the scale mode; the backward pass
   then gives dx = dy where K = 1 and 0 elsewhere.

   -------------------------------------------------------------------------
   THE GENERATOR (part of the contract: changing it changes every mask)

   Counter-based SplitMix64 (Steele, Lea & Flood, "Fast splittable
   pseudorandom number generators", OOPSLA 2014). With
       mix(z) = z ^= z >> 30, z *= 0xBF58476D1CE4E5B9,
                z ^= z >> 27, z *= 0x94D049BB133111EB, z ^ (z >> 31)
       G      = 0x9E3779B97F4A7C15
   a stream (seed, stream) has key = mix(mix(seed + G) ^ stream) and its
   64-bit word number k is word(k) = mix(key + (k + 1) * G), mod 2^64.
   Every draw is a pure function of (seed, stream, k): order-free and cheap
   to skip ahead.

   Bernoulli(p) compares a 32-bit uniform U with t = floor(p * 2^32)
   (t = 2^32 for p >= 1): one is drawn iff U < t, an exact integer compare.
   Draws come in groups of 64 that use 32 words c .. c+31: bit L of word
   c+k is bit 31-k (most significant first) of U for draw L of the group.
   Bits are drawn only until every draw of the group is decided, which on
   average takes about 7 words per 64 draws; the result is the same as
   drawing all 32.

   The forward pass uses the stream key(cfg->seed, step) ^ mix(cfg->stream)
   (mix(0) = 0: stream 0 is the 1.x stream). A map is named by
   (nm, cm): nm = n (the sample's index in the logical batch, n_offset +
   its index in the window), or 0 under SHARE_BATCH; cm = c, or 0 under
   SHARE_CHANNELS; there are Nm x Cm maps. With Ds x Hs x Ws the grid of
   allowed seed positions (valid: D-bd+1 x H-bh+1 x W-bw+1, grid row i
   being map row i + floor((bh-1)/2); anywhere: the map itself), seed
   position (z, i, j) of map (nm, cm) is numbered

       P = (((nm*Ds + z)*Hs + i)*Ws + j)*Cm + cm

   (grid positions in NHWC order, whatever the tensor layout) and is draw P
   of that stream, compared with the exact t of THE MATH: group
   floor(P/64), words 32*floor(P/64) + k. So the mask depends on no
   floating-point rounding, no libm, no layout and no code path.

   Noise (DROPBLOCK_FILL_NOISE) comes from a second stream with key
   mix(K ^ 0x6A09E667F3BCC909), K the forward stream's key. The value for
   the element with NHWC-order logical index e (counted over the whole
   logical batch) is a standard normal by Box-Muller from words 2e and
   2e+1: z = sqrt(-2 ln u1) cos(2 pi u2), u1 = ((w_2e >> 11) + 1) 2^-53,
   u2 = (w_2e+1 >> 11) 2^-53 (so |z| <= 8.58), in double, rounded once to
   the element type (F16/BF16 directly, not through float). ln, sqrt and cos are the library's own (series and Newton steps on
   basic IEEE operations, each product rounded on its own, accurate to
   ~1e-12): no libm, the same bits wherever double is IEEE binary64, and
   within a float ulp of the libm value.

   -------------------------------------------------------------------------
   GLOSSARY
       map      the D x H x W plane of seeds that one group of activations
                shares; seed: a position that drops a block around it
       keep_prob target fraction of activations kept; gamma: seed probability
       step     the training step; picks a fresh, independent mask
       stream   a layer's own sequence of masks (cfg.stream)
       window   a tensor that is samples n_offset .. n_offset+n-1 of a
                larger logical batch (a thread's, a micro-batch's, a rank's)
       part     one of `parts` disjoint pieces of a build or an apply,
                cut over (sample, depth, row); any split, same bits

   LICENSE at the end of this file (MIT).
*/
#ifndef DROPBLOCK_H
#define DROPBLOCK_H

#include <stddef.h>
#include <stdint.h>

#define DROPBLOCK_VERSION_MAJOR 2
#define DROPBLOCK_VERSION_MINOR 0
#define DROPBLOCK_VERSION_PATCH 6
#define DROPBLOCK_VERSION_STRING "2.0.6"

#ifndef DROPBLOCK_API
#ifdef DROPBLOCK_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define DROPBLOCK_API static __attribute__((unused))
#else
#define DROPBLOCK_API static
#endif
#else
#define DROPBLOCK_API extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: 0 is success, every error is negative. One list feeds both
   the enum and dropblock_status_string(), so they cannot drift apart. */
#define DROPBLOCK__STATUS_LIST(X)                                              \
    X(DROPBLOCK_OK, 0, "success")                                              \
    X(DROPBLOCK_ERR_NULL, -1, "a required pointer is NULL")                    \
    X(DROPBLOCK_ERR_SHAPE, -2, "a dimension is less than 1, n_offset is negative, or a tensor does not match its mask") \
    X(DROPBLOCK_ERR_OVERFLOW, -3, "the element count or byte size overflows size_t") \
    X(DROPBLOCK_ERR_KEEP_PROB, -4, "keep_prob is NaN or outside [0, 1]")       \
    X(DROPBLOCK_ERR_BLOCK, -5, "a block size is out of range")                 \
    X(DROPBLOCK_ERR_FLAGS, -6, "unknown bit in flags")                         \
    X(DROPBLOCK_ERR_SCALE, -7, "unknown scale mode")                           \
    X(DROPBLOCK_ERR_LAYOUT, -8, "unknown layout")                              \
    X(DROPBLOCK_ERR_OVERLAP, -9, "buffers overlap (only y == x is allowed)")   \
    X(DROPBLOCK_ERR_OUT_OF_MEMORY, -10, "DROPBLOCK_MALLOC returned NULL")      \
    X(DROPBLOCK_ERR_WORKSPACE, -11, "workspace smaller than dropblock_workspace_size() / dropblock_mask_workspace_size()") \
    X(DROPBLOCK_ERR_RANGE, -12, "sample range is not within [0, n) or is empty")             \
    X(DROPBLOCK_ERR_KEPT, -13, "batch counts are inconsistent with this mask's or this range's kept count") \
    X(DROPBLOCK_ERR_DTYPE, -14, "unknown element type, or x and y of different types")   \
    X(DROPBLOCK_ERR_STRIDE, -15, "a stride is negative, makes two elements share memory, or data is misaligned") \
    X(DROPBLOCK_ERR_PART, -16, "part is outside [0, parts) or parts is less than 1")      \
    X(DROPBLOCK_ERR_DEVICE, -17, "the DLPack tensor is not in CPU memory")

#define DROPBLOCK__STATUS_ENUM(name, value, text) name = (value),
typedef enum dropblock_status {
    DROPBLOCK__STATUS_LIST(DROPBLOCK__STATUS_ENUM)
} dropblock_status;
#undef DROPBLOCK__STATUS_ENUM

/* A sentence for every status; "unknown status" for anything else. */
DROPBLOCK_API const char *dropblock_status_string(dropblock_status status);

typedef enum dropblock_layout {
    DROPBLOCK_NHWC = 0, /* default; NDHWC in 3-D */
    DROPBLOCK_NCHW      /* NCDHW in 3-D */
} dropblock_layout;

typedef enum dropblock_scale {
    DROPBLOCK_SCALE_BATCH = 0, /* T / Kept over the tensor (paper, TF, timm, torchvision) */
    DROPBLOCK_SCALE_SAMPLE,    /* the same counted per sample */
    DROPBLOCK_SCALE_EXPECTED,  /* 1 / E[kept fraction]: no count, same every draw */
    DROPBLOCK_SCALE_NONE       /* 1 */
} dropblock_scale;

enum {
    DROPBLOCK_SHARE_CHANNELS = 1u << 0, /* one map per sample (timm couple_channels) */
    DROPBLOCK_SHARE_BATCH = 1u << 1,    /* one map per channel (timm batchwise) */
    DROPBLOCK_SEED_ANYWHERE = 1u << 2,  /* seeds on the whole map, blocks clipped */
    DROPBLOCK_EXACT_RATE = 1u << 3,     /* gamma such that E[dropped] = 1 - keep_prob exactly */
    DROPBLOCK_FILL_NOISE = 1u << 4      /* dropped: seeded noise instead of 0; no rescaling (timm with_noise) */
};

/* Logical sizes; the layout is in the config. */
typedef struct dropblock_shape { int n, h, w, c; } dropblock_shape;
typedef struct dropblock_shape3d { int n, d, h, w, c; } dropblock_shape3d;

/* Start from dropblock_config_default() (keep_prob 0.9, block 7: the
   paper's ImageNet setting) or zero-initialise, then set fields. Zero means:
   keep_prob 0 (set it!), square block (block_w = block_h), per-(n,c) maps,
   valid placement, batch scale, NHWC, seed 0, block_d = block_h (3-D only),
   stream 0. */
typedef struct dropblock_config {
    float keep_prob;        /* in [0, 1]                                 */
    int block_h;            /* >= 1                                      */
    int block_w;            /* 0: same as block_h, else >= 1             */
    unsigned flags;         /* DROPBLOCK_SHARE_*, _SEED_ANYWHERE,
                               _EXACT_RATE, _FILL_NOISE                 */
    dropblock_scale scale;  /* default DROPBLOCK_SCALE_BATCH             */
    dropblock_layout layout;/* default DROPBLOCK_NHWC                    */
    uint64_t seed;          /* with the step, selects the random stream  */
    int block_d;            /* 3-D only: 0 = same as block_h, else >= 1  */
    uint64_t stream;        /* the layer's own stream; 0 gives the 1.x
                               masks. Give each DropBlock layer its own
                               (its index, say), or layers that share seed,
                               step and shape draw the same mask.        */
} dropblock_config;

/* keep_prob 0.9, block_h 7, every other field zero. */
DROPBLOCK_API dropblock_config dropblock_config_default(void);

/* ---- the engine API (2.0): any tensor an engine holds ---------------------

   Element types. F16 is IEEE binary16 and BF16 the upper half of a binary32,
   both in 16-bit units in the machine's byte order; F64 is binary64. A kept
   element is y = R(s * X): F32 one float multiply; F16/BF16: X is x widened
   exactly to float, one float multiply, R rounds to the 16-bit type to
   nearest, ties to even (overflow: +-Inf; a NaN x gives x with its quiet
   bit set); F64: s in double and one double multiply. Dropped: +0. Where s
   is exactly 1 the bits of x are copied. The mask never depends on the type. */
typedef enum dropblock_dtype {
    DROPBLOCK_F32 = 0,
    DROPBLOCK_F16,
    DROPBLOCK_BF16,
    DROPBLOCK_F64
} dropblock_dtype;

/* A tensor as an engine holds it. Element (n, z, i, j, c) is at
   (dtype *)data + n*stride_n + z*stride_d + i*stride_h + j*stride_w +
   c*stride_c; strides are in elements, >= 0, and may not make two elements
   share memory (ordering the dimensions of size > 1 by stride, each stride
   is at least the span 1 + sum (size - 1) * stride of those before it).
   data must be aligned to the element size. n_offset: the index of this
   tensor's sample 0 in the logical batch (a window of it); sample k gets
   the mask of sample n_offset + k of the whole batch. The layout is what
   the strides say: the tensor API ignores cfg->layout. */
typedef struct dropblock_tensor {
    void *data;                      /* address of element (0, 0, 0, 0, 0)   */
    dropblock_dtype dtype;
    int n, d, h, w, c;               /* sizes, each >= 1; d = 1 in 2-D       */
    ptrdiff_t stride_n, stride_d, stride_h, stride_w, stride_c;
    int64_t n_offset;                /* >= 0                                 */
} dropblock_tensor;

/* Contiguous descriptors, n_offset 0; the sizes come in the order of the
   name. Change strides, data or n_offset afterwards as needed. */
DROPBLOCK_API dropblock_tensor dropblock_tensor_nhwc(void *data, dropblock_dtype dtype, int n, int h, int w, int c);
DROPBLOCK_API dropblock_tensor dropblock_tensor_nchw(void *data, dropblock_dtype dtype, int n, int c, int h, int w);
DROPBLOCK_API dropblock_tensor dropblock_tensor_ndhwc(void *data, dropblock_dtype dtype, int n, int d, int h, int w,
                                                      int c);
DROPBLOCK_API dropblock_tensor dropblock_tensor_ncdhw(void *data, dropblock_dtype dtype, int n, int c, int d, int h,
                                                      int w);

/* The mask of one (config, step, window) as plain data over the caller's
   workspace: init validates and binds, build draws it (in parts, on any
   threads), then forward and backward apply it to any tensor of its sizes
   and n_offset, in any dtype and strides, as often as wanted. Fields are
   private. Copying the struct shares the workspace. */
typedef struct dropblock_mask {
    dropblock_config cfg_;              /* the validated config               */
    int n_, d_, h_, w_, c_;             /* the window's sizes                 */
    int f16c_, avx512_;                 /* the CPU has F16C; AVX-512F and BW  */
    int cmajor_;                        /* channel-major bits asked for       */
    int64_t n_offset_;
    uint64_t key_, t_;                  /* stream key; seed threshold         */
    uint64_t batch_kept_, batch_total_; /* dropblock_mask_set_batch; 0 0: none */
    double gamma_, expected_;           /* seed probability; E[kept fraction] */
    uint64_t *counts_;                  /* kept bits of each band             */
    uint64_t *rows_;                    /* the keep bits                      */
} dropblock_mask;

typedef struct dropblock_stats {
    uint64_t kept, total; /* kept and all elements of the mask (its window)   */
    double scale;         /* the s forward applies (F32 and the 16-bit types
                             use (float)scale); 0 under SCALE_SAMPLE         */
    double gamma;         /* the seed probability                             */
} dropblock_stats;

/* Workspace of a mask for tensors of like's sizes (only the sizes count):
   for E elements at most E/8 + E/256 + 88 bytes: one bit per element, plus
   1/32 of that for the counts and padding of its bands, plus 88. */
DROPBLOCK_API dropblock_status dropblock_mask_workspace_size(const dropblock_tensor *like, size_t *bytes);

/* Validates cfg and like (its sizes and n_offset; data and dtype are
   ignored, data may be NULL; its strides only pick the order in which the
   mask stores its bits, so that tensors strided alike read them fastest)
   and binds the workspace (any alignment; it may not overlap the tensors).
   Draws nothing. */
DROPBLOCK_API dropblock_status dropblock_mask_init(dropblock_mask *m, const dropblock_config *cfg, uint64_t step,
                                                   const dropblock_tensor *like, void *workspace,
                                                   size_t workspace_bytes);

/* Draws and paints part `part` of `parts` (0 <= part < parts): the mask's
   bands (runs of its rows (sample, depth, row), or of channel planes when
   it is stored for NCHW-like tensors) are cut into `parts` runs of nearly
   equal length, so one sample splits too. Parts may run concurrently; all
   must have returned before stats, set_batch, forward or backward. */
DROPBLOCK_API dropblock_status dropblock_mask_build(const dropblock_mask *m, int part, int parts);

/* kept and total are this mask's own counts; scale is what forward applies
   (after set_batch: the batch's total / kept). */
DROPBLOCK_API dropblock_status dropblock_mask_stats(const dropblock_mask *m, dropblock_stats *stats);

/* The whole batch's counts for SCALE_BATCH when the mask is one window of
   it (the sums of every window's stats.kept and stats.total). They must be
   consistent with this window's: kept <= total, total >= this total, kept
   >= this kept, total - kept >= this window's dropped count; else
   DROPBLOCK_ERR_KEPT. Other scale modes validate and ignore them. Where no
   seed can occur (e.g. keep_prob 1) s stays 1 whatever is set here. */
DROPBLOCK_API dropblock_status dropblock_mask_set_batch(dropblock_mask *m, uint64_t kept, uint64_t total);

/* y = DropBlock(x) (FILL_NOISE: noise where dropped) and dx = s*dy where
   kept, for part `part` of `parts` of the tensor rows (sample, depth, row).
   x and y: the mask's sizes and n_offset (DROPBLOCK_ERR_SHAPE otherwise),
   one dtype, any strides; y == x with the same strides is in place, any
   other overlap of the byte ranges they span is DROPBLOCK_ERR_OVERLAP (a
   conservative test), and so is an overlap with the bytes of the workspace
   that the mask uses (the mask does not keep the workspace's size, so its
   unused slack, up to 63 bytes before the rows, is not checked). Reads the
   workspace only: parts may run concurrently, and any split gives the same
   bits. */
DROPBLOCK_API dropblock_status dropblock_mask_forward(const dropblock_mask *m, const dropblock_tensor *x,
                                                      const dropblock_tensor *y, int part, int parts);
DROPBLOCK_API dropblock_status dropblock_mask_backward(const dropblock_mask *m, const dropblock_tensor *dy,
                                                       const dropblock_tensor *dx, int part, int parts);

/* An engine's thread pool: parallel_for runs fn(task, k, parts) for every k
   in [0, parts), on any threads, and returns when all have returned. The
   library never creates a thread. */
typedef void (*dropblock_task_fn)(void *task, int part, int parts);
typedef struct dropblock_executor {
    void (*parallel_for)(void *pool, dropblock_task_fn fn, void *task, int parts);
    void *pool;
    int parts; /* >= 1 */
} dropblock_executor;

/* One call: init, build and forward. workspace: at least
   dropblock_mask_workspace_size(x) bytes, or NULL with workspace_bytes 0
   to allocate with DROPBLOCK_MALLOC (not when no seed can occur). exec NULL
   runs on the calling thread; otherwise build and apply each go through
   exec->parallel_for with exec->parts parts. stats may be NULL. */
DROPBLOCK_API dropblock_status dropblock_forward_tensor(const dropblock_config *cfg, uint64_t step,
                                                        const dropblock_tensor *x, const dropblock_tensor *y,
                                                        void *workspace, size_t workspace_bytes,
                                                        const dropblock_executor *exec, dropblock_stats *stats);
DROPBLOCK_API dropblock_status dropblock_backward_tensor(const dropblock_config *cfg, uint64_t step,
                                                         const dropblock_tensor *dy, const dropblock_tensor *dx,
                                                         void *workspace, size_t workspace_bytes,
                                                         const dropblock_executor *exec);

/* ---- the 1.x API: float, contiguous, layout from cfg->layout --------------
   Each call is the tensor API on F32 contiguous tensors in cfg->layout. */

/* y = DropBlock(x). keep_mask: NULL, or N*H*W*C bytes in the tensor's
   layout that receive 1 (kept) / 0 (dropped). Allocates the mask's
   workspace (about one bit per element) with DROPBLOCK_MALLOC unless no
   seed can occur (e.g. keep_prob 1). On any error nothing is written. */
DROPBLOCK_API dropblock_status dropblock_forward(const dropblock_config *cfg, dropblock_shape shape,
                                                 uint64_t step, const float *x, float *y,
                                                 uint8_t *keep_mask);

/* dx = s * dy where forward kept, 0 where it dropped: the same mask and
   scale as dropblock_forward with the same config, shape and step. */
DROPBLOCK_API dropblock_status dropblock_backward(const dropblock_config *cfg, dropblock_shape shape,
                                                  uint64_t step, const float *dy, float *dx);

/* Zero-allocation variants. *bytes receives the workspace size for this
   shape: that of dropblock_mask_workspace_size() for a tensor of its sizes;
   any alignment of the workspace is accepted. The workspace may not overlap the tensors; its
   contents after a call are unspecified. */
DROPBLOCK_API dropblock_status dropblock_workspace_size(dropblock_shape shape, size_t *bytes);
DROPBLOCK_API dropblock_status dropblock_forward_ws(const dropblock_config *cfg, dropblock_shape shape,
                                                    uint64_t step, const float *x, float *y,
                                                    uint8_t *keep_mask, void *workspace,
                                                    size_t workspace_bytes);
DROPBLOCK_API dropblock_status dropblock_backward_ws(const dropblock_config *cfg, dropblock_shape shape,
                                                     uint64_t step, const float *dy, float *dx,
                                                     void *workspace, size_t workspace_bytes);

/* 3-D DropBlock (video, volumes) over NDHWC / NCDHW with block
   block_d x block_h x block_w. A 2-D call is exactly the 3-D call with d = 1. */
DROPBLOCK_API dropblock_status dropblock_workspace_size3d(dropblock_shape3d shape, size_t *bytes);
DROPBLOCK_API dropblock_status dropblock_forward3d(const dropblock_config *cfg, dropblock_shape3d shape,
                                                   uint64_t step, const float *x, float *y,
                                                   uint8_t *keep_mask, void *workspace,
                                                   size_t workspace_bytes);
DROPBLOCK_API dropblock_status dropblock_backward3d(const dropblock_config *cfg, dropblock_shape3d shape,
                                                    uint64_t step, const float *dy, float *dx,
                                                    void *workspace, size_t workspace_bytes);

/* Thread-split batches. Each thread handles samples [n_begin, n_end) of
   one logical call; x, y and keep_mask still point at the whole tensor and
   only that range of them is touched. The workspace must hold
   dropblock_workspace_size() of a shape with n = n_end - n_begin. Any split
   of [0, n) gives output bit-identical to one dropblock_forward() call.
   The batch scale needs the kept count of the whole tensor: with
   DROPBLOCK_SCALE_BATCH, first let every thread call dropblock_count_kept()
   on its range (it touches no tensor, only the workspace), sum the counts,
   and pass the sum as total_kept. Other scale modes ignore total_kept, so
   they need no counting phase. */
DROPBLOCK_API dropblock_status dropblock_count_kept(const dropblock_config *cfg, dropblock_shape shape,
                                                    uint64_t step, int n_begin, int n_end, void *workspace,
                                                    size_t workspace_bytes, uint64_t *kept);
DROPBLOCK_API dropblock_status dropblock_forward_range(const dropblock_config *cfg, dropblock_shape shape,
                                                       uint64_t step, int n_begin, int n_end,
                                                       uint64_t total_kept, const float *x, float *y,
                                                       uint8_t *keep_mask, void *workspace,
                                                       size_t workspace_bytes);
DROPBLOCK_API dropblock_status dropblock_backward_range(const dropblock_config *cfg, dropblock_shape shape,
                                                        uint64_t step, int n_begin, int n_end,
                                                        uint64_t total_kept, const float *dy, float *dx,
                                                        void *workspace, size_t workspace_bytes);

/* The paper's gamma for an h x w map (see THE MATH); NaN for invalid
   arguments (keep_prob NaN or outside [0,1], block_h < 1, block_w < 0,
   h or w < 1). block_w 0 means block_h. */
DROPBLOCK_API double dropblock_gamma(double keep_prob, int block_h, int block_w, int h, int w);
/* The same for a d x h x w volume and a block_d x block_h x block_w block
   (block_d 0: block_h). */
DROPBLOCK_API double dropblock_gamma3d(double keep_prob, int block_d, int block_h, int block_w, int d, int h,
                                       int w);

/* DROPBLOCK_EXACT_RATE. The paper's gamma ignores that blocks overlap, so
   the fraction it drops is below 1 - keep_prob (about 0.093 instead of 0.1
   for keep 0.9, block 7 on 14x14). dropblock_expected_keep() is the exact
   expected kept fraction for a seed probability gamma, the mean over map
   positions of (1 - gamma)^(number of allowed seed positions whose block
   covers it); dropblock_gamma_exact() is the gamma at which that equals
   keep_prob, to full double precision (bisection). A solution always
   exists: gamma = 1 covers every position. flags: only
   DROPBLOCK_SEED_ANYWHERE matters; unknown bits or invalid arguments give
   NaN. dropblock_forward() with DROPBLOCK_EXACT_RATE seeds with this gamma
   (on the forward's map, in 3-D too); without the flag nothing changes.
   Cost: about 60 evaluations of the expectation, each
   O(min(bh, H-bh+1, bw, W-bw+1) * log) (times the depth in 3-D): instant for
   usual blocks, seconds only when both block sides are near half of huge
   map sides. */
DROPBLOCK_API double dropblock_gamma_exact(double keep_prob, int block_h, int block_w, int h, int w,
                                           unsigned flags);
DROPBLOCK_API double dropblock_expected_keep(double gamma, int block_h, int block_w, int h, int w,
                                             unsigned flags);

/* The max-pool step on one h x w map of bytes: keep[i*w+j] = 0 if a seed
   (nonzero byte, any position) drops (i, j) under the block rule above,
   1 otherwise. O(h*w) whatever the block. keep == seeds is allowed. */
DROPBLOCK_API dropblock_status dropblock_expand_mask(const uint8_t *seeds, int h, int w, int block_h,
                                                     int block_w, uint8_t *keep);

/* The paper's schedule: 1 at step 0, falling linearly to final_keep_prob at
   ramp_steps, constant after (ramp_steps 0: final_keep_prob at once).
   final_keep_prob is not checked: the forward call that receives the result
   is what rejects a value outside [0, 1]. */
DROPBLOCK_API float dropblock_keep_prob_linear(float final_keep_prob, uint64_t step, uint64_t ramp_steps);

/* The generator of THE GENERATOR section as a stream object. Fields are
   private; the struct is plain data, so copying it forks the stream. */
typedef struct dropblock_rng {
    uint64_t key_;    /* from (seed, stream)                 */
    uint64_t next_;   /* counter of the next unused word     */
    uint64_t spare_;  /* high half of a word, for next_u32   */
    int has_spare_;
} dropblock_rng;

/* A NULL rng is ignored by every rng function (next_u32 then returns 0). */
DROPBLOCK_API void dropblock_rng_init(dropblock_rng *rng, uint64_t seed, uint64_t stream);
/* Low half of the next word, then its high half. */
DROPBLOCK_API uint32_t dropblock_rng_next_u32(dropblock_rng *rng);
/* (next_u32 >> 8) * 2^-24: 24 random bits, in [0, 1). */
DROPBLOCK_API float dropblock_rng_uniform(dropblock_rng *rng);
/* out[i] = 1 with probability p, else 0, drawn as in THE GENERATOR from the
   next word on (a pending high half is dropped), 32 words per group of 64;
   returns the number of ones. p <= 0 or NaN: all 0; p >= 1: all 1. NULL rng
   or out: nothing drawn, returns 0. */
DROPBLOCK_API size_t dropblock_bernoulli(dropblock_rng *rng, double p, uint8_t *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* DROPBLOCK_H */

/* DLPack (the tensor exchange struct of PyTorch, JAX, TensorFlow, CuPy,
   TVM): declared when dlpack.h was included before this header. Maps a CPU
   DLTensor (float 16/32/64 or bfloat16, one lane) of 4 dimensions (NHWC or
   NCHW, as layout says) or 5 (NDHWC / NCDHW), with its strides (NULL:
   compact) and byte_offset, to a descriptor with n_offset 0. Anything else
   is an error and leaves *out untouched. */
#if (defined(DLPACK_DLPACK_H_) || defined(DLPACK_VERSION) || defined(DLPACK_MAJOR_VERSION)) &&                   \
    !defined(DROPBLOCK__DLPACK_DECLARED)
#define DROPBLOCK__DLPACK_DECLARED
#ifdef __cplusplus
extern "C" {
#endif
DROPBLOCK_API dropblock_status dropblock_tensor_from_dlpack(const DLTensor *t, dropblock_layout layout,
                                                            dropblock_tensor *out);
#ifdef __cplusplus
}
#endif
#endif


/* ========================================================================
   IMPLEMENTATION
   ======================================================================== */
#if defined(DROPBLOCK_IMPLEMENTATION) && !defined(DROPBLOCK__IMPLEMENTED)
#define DROPBLOCK__IMPLEMENTED

#include <math.h>   /* NAN only: no libm function decides anything */
#include <string.h>

#if defined(DROPBLOCK_MALLOC) != defined(DROPBLOCK_FREE)
#error "define both DROPBLOCK_MALLOC and DROPBLOCK_FREE, or neither"
#endif
#ifndef DROPBLOCK_MALLOC
#include <stdlib.h>
#define DROPBLOCK_MALLOC(bytes) malloc(bytes)
#define DROPBLOCK_FREE(ptr) free(ptr)
#endif
#ifndef DROPBLOCK_ASSERT
#include <assert.h>
#define DROPBLOCK_ASSERT(x) assert(x)
#endif

#if !defined(DROPBLOCK_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64))
#define DROPBLOCK__SSE2 1
#include <emmintrin.h>
#endif
/* AVX-512, F16C and POPCNT are chosen at run time,
   so a baseline x86-64 build still uses them where the CPU has them. */
#if !defined(DROPBLOCK_NO_SIMD) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) &&  \
    ((defined(__clang__) && __clang_major__ >= 8) || (!defined(__clang__) && __GNUC__ >= 9))
#include <immintrin.h>
#define DROPBLOCK__F16C 1
#define DROPBLOCK__POPCNT 1
#ifndef DROPBLOCK_NO_AVX512
#define DROPBLOCK__AVX512 1
#endif
#endif

/* Outputs of at least this many bytes (y != x) are written with
   non-temporal stores on the AVX-512 path: they would only evict the
   caches. */
#ifndef DROPBLOCK_STREAM_BYTES
#define DROPBLOCK_STREAM_BYTES (48u << 20)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DROPBLOCK__INTERNAL static __attribute__((unused))
#else
#define DROPBLOCK__INTERNAL static
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- bits ---------------------------------------------------------------- */

DROPBLOCK__INTERNAL size_t dropblock__popcount64(uint64_t v) {
#if defined(__POPCNT__) /* the builtin is a libgcc call without the instruction */
    return (size_t)__builtin_popcountll(v);
#else
    v = v - ((v >> 1) & UINT64_C(0x5555555555555555));
    v = (v & UINT64_C(0x3333333333333333)) + ((v >> 2) & UINT64_C(0x3333333333333333));
    v = (v + (v >> 4)) & UINT64_C(0x0F0F0F0F0F0F0F0F);
    return (size_t)((v * UINT64_C(0x0101010101010101)) >> 56);
#endif
}

/* Low `len` bits set (len <= 64). */
DROPBLOCK__INTERNAL uint64_t dropblock__low_bits(size_t len) {
    return len >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << len) - 1;
}

/* Index of the lowest set bit; v != 0. */
DROPBLOCK__INTERNAL unsigned dropblock__ctz64(uint64_t v) {
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(v);
#else
    unsigned k = 0;
    while (!(v & 1u)) { v >>= 1; ++k; }
    return k;
#endif
}

/* ---- the generator (THE GENERATOR in the top comment) --------------------- */

#define DROPBLOCK__GOLDEN UINT64_C(0x9E3779B97F4A7C15)

DROPBLOCK__INTERNAL uint64_t dropblock__mix(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

DROPBLOCK__INTERNAL uint64_t dropblock__key(uint64_t seed, uint64_t stream) {
    return dropblock__mix(dropblock__mix(seed + DROPBLOCK__GOLDEN) ^ stream);
}

/* The input of word k: word(k) = mix(key + (k + 1) * G). Consecutive words'
   inputs differ by G. */
DROPBLOCK__INTERNAL uint64_t dropblock__word_input(uint64_t key, uint64_t k) {
    return key + (k + 1) * DROPBLOCK__GOLDEN;
}

DROPBLOCK__INTERNAL uint64_t dropblock__word(uint64_t key, uint64_t k) {
    return dropblock__mix(dropblock__word_input(key, k));
}

/* ---- geometry and validation ---------------------------------------------- */

/* a * b into *r unless it overflows size_t. */
DROPBLOCK__INTERNAL int dropblock__mul_ok(size_t a, size_t b, size_t *r) {
    if (b && a > (size_t)-1 / b) return 0;
    *r = a * b;
    return 1;
}

/* Everything a call derives from (config, sizes). The mask has one bit per
   (map sample, z, i, j, map channel) in NHWC order whatever the tensors'
   layout, in one of two orders (the same mask either way):
   - pixel-major: rows (map sample, z, i) of W*cm bits, the bit of (j, c)
     at j*cm + c, stored in bands of consecutive rows at least
     DROPBLOCK__BAND_BITS long (one row when a row is that long);
   - channel-major, chosen when the tensors are NCHW-like and a slice (map
     sample, z) has at least DROPBLOCK__BAND_BITS bits: each slice plane
     after plane, the bit of (c, i, j) at c*H*W + i*W + j of a slice of
     slice_words words, so that the rows of a channel plane are one run of
     bits, as they are one run of elements in the tensor. Its bands are
     runs of plane_k planes, the last band of a slice taking the planes
     left over.
   Each band starts on a 64-bit word, so that the parts of a build, which
   own whole bands, never share a word. The mask is broadcast over the
   shared axes when applied. */
typedef struct dropblock__geom {
    size_t n, d, h, w, c;          /* window sizes                             */
    size_t bd, bh, bw;             /* clipped block                            */
    size_t sd, sh, sw;             /* seed grid                                */
    size_t od, oh, ow;             /* seed index s drops s - o .. s - o + b - 1 */
    size_t nm, cm;                 /* maps along the window's batch, channels  */
    size_t sample, total;          /* elements per sample, in the window       */
    size_t rows, row_bits;         /* mask rows (nm * d * h), bits per row      */
    size_t band_rows, bands, band_words; /* pixel-major: rows and words per band;
                                      bands (of either order)              */
    size_t mask_words;             /* the bands' words                         */
    int cmajor;                    /* channel-major: slices of planes          */
    size_t plane_k, plane_bands, slice_words; /* channel-major: planes per band,
                                      bands and words per slice            */
} dropblock__geom;

#define DROPBLOCK__BAND_BITS 4096u

/* The bands of `rows` rows of row_bits bits each: rows per band, bands,
   words per band and in all (the last band holds only its own rows); 0 if
   their size overflows. */
DROPBLOCK__INTERNAL int dropblock__bands(size_t rows, size_t row_bits, size_t *band_rows, size_t *bands,
                                         size_t *band_words, size_t *words) {
    size_t br, bits, last;
    *band_rows = *bands = *band_words = *words = 0; /* defined even where it fails */
    if (rows == 0 || row_bits == 0) return 0; /* sizes are >= 1: never, but the analyzer cannot know */
    br = row_bits >= DROPBLOCK__BAND_BITS ? 1 : (DROPBLOCK__BAND_BITS - 1) / row_bits + 1;
    if (br > rows) br = rows;
    if (!dropblock__mul_ok(br, row_bits, &bits) || bits > (size_t)-1 - 63) return 0;
    *band_rows = br;
    *bands = rows / br + (rows % br != 0);
    *band_words = (bits + 63) / 64;
    last = (rows - (*bands - 1) * br) * row_bits; /* <= bits */
    if (!dropblock__mul_ok(*bands - 1, *band_words, words) || *words > (size_t)-1 - (last + 63) / 64) return 0;
    *words += (last + 63) / 64;
    return 1;
}

/* The bands of a channel-major mask of `slices` slices of cm planes of hw
   bits: plane_k is the least multiple of 64 / gcd(hw, 64) (so that every
   band starts on a word) whose planes make DROPBLOCK__BAND_BITS. 0 if a
   slice is shorter than that (pixel-major rows then) or a size overflows. */
DROPBLOCK__INTERNAL int dropblock__plane_bands(size_t slices, size_t cm, size_t hw, size_t *plane_k,
                                               size_t *plane_bands, size_t *slice_words, size_t *bands,
                                               size_t *words) {
    size_t bits, low = hw & (~hw + 1), m, k;
    *plane_k = *plane_bands = *slice_words = *bands = *words = 0;
    if (!dropblock__mul_ok(cm, hw, &bits) || bits < DROPBLOCK__BAND_BITS || bits > (size_t)-1 - 63) return 0;
    m = low >= 64 ? 1 : 64 / low;
    k = ((DROPBLOCK__BAND_BITS - 1) / hw + 1 + m - 1) / m * m;
    if (k > cm) k = cm;
    *plane_k = k;
    *plane_bands = cm / k;
    *slice_words = (bits + 63) / 64;
    return dropblock__mul_ok(slices, *plane_bands, bands) && dropblock__mul_ok(slices, *slice_words, words);
}

/* One axis: clipped block b, seed grid size, and o such that seed index s
   drops s - o .. s - o + b - 1. Valid placement: the grid starts where the
   first whole block fits, so o = 0. Anywhere: the seed sits
   floor((b-1)/2) into its block. */
DROPBLOCK__INTERNAL void dropblock__axis(size_t len, int block, int anywhere, size_t *b, size_t *grid,
                                         size_t *up) {
    *b = (size_t)block < len ? (size_t)block : len;
    *grid = anywhere ? len : len - *b + 1;
    *up = anywhere ? (*b - 1) / 2 : 0;
}

#define DROPBLOCK__KNOWN_FLAGS                                                                            \
    (DROPBLOCK_SHARE_CHANNELS | DROPBLOCK_SHARE_BATCH | DROPBLOCK_SEED_ANYWHERE | DROPBLOCK_EXACT_RATE |   \
     DROPBLOCK_FILL_NOISE)

/* keep_prob in [0, 1], tested on its bits: a NaN test on the value is
   optimised away under -ffast-math, and NaN must still be rejected there. */
DROPBLOCK__INTERNAL int dropblock__unit_float(float p) {
    uint32_t u;
    memcpy(&u, &p, sizeof u);
    return u <= UINT32_C(0x3F800000) || u == UINT32_C(0x80000000); /* +0 .. 1, or -0 */
}

DROPBLOCK__INTERNAL int dropblock__unit_double(double p) {
    uint64_t u;
    memcpy(&u, &p, sizeof u);
    return u <= UINT64_C(0x3FF0000000000000) || u == UINT64_C(0x8000000000000000);
}

/* A block_w or block_d argument: 0 means the same as block_h. */
DROPBLOCK__INTERNAL int dropblock__block_or_h(int block, int block_h) { return block ? block : block_h; }

/* The block arguments every entry point shares: block_h >= 1, block_w and
   block_d >= 0 (0: same as block_h). */
DROPBLOCK__INTERNAL int dropblock__blocks_ok(int block_d, int block_h, int block_w) {
    return block_h >= 1 && block_w >= 0 && block_d >= 0;
}

/* Checks a config; cfg->layout only for the 1.x calls (the tensor API
   takes the layout from the strides and ignores it, whatever its value). */
DROPBLOCK__INTERNAL dropblock_status dropblock__check_config(const dropblock_config *cfg, int with_layout) {
    if (!dropblock__unit_float(cfg->keep_prob)) return DROPBLOCK_ERR_KEEP_PROB;
    if (!dropblock__blocks_ok(cfg->block_d, cfg->block_h, cfg->block_w)) return DROPBLOCK_ERR_BLOCK;
    if (cfg->flags & ~(unsigned)DROPBLOCK__KNOWN_FLAGS) return DROPBLOCK_ERR_FLAGS;
    if ((unsigned)cfg->scale > (unsigned)DROPBLOCK_SCALE_NONE) return DROPBLOCK_ERR_SCALE;
    if (with_layout && (unsigned)cfg->layout > (unsigned)DROPBLOCK_NCHW) return DROPBLOCK_ERR_LAYOUT;
    return DROPBLOCK_OK;
}

/* Element count of sizes {n, d, h, w, c}, checked: each >= 1, and the count
   times elem_size fits size_t. */
DROPBLOCK__INTERNAL dropblock_status dropblock__count(const int dims[5], size_t elem_size, size_t *total) {
    size_t t = 1, bytes;
    int k;
    for (k = 0; k < 5; ++k)
        if (dims[k] < 1) return DROPBLOCK_ERR_SHAPE;
    for (k = 0; k < 5; ++k)
        if (!dropblock__mul_ok(t, (size_t)dims[k], &t)) return DROPBLOCK_ERR_OVERFLOW;
    if (!dropblock__mul_ok(t, elem_size, &bytes)) return DROPBLOCK_ERR_OVERFLOW;
    *total = t;
    return DROPBLOCK_OK;
}

/* The map part of a geometry: dims, clipped block, seed grid; arguments
   already checked. */
DROPBLOCK__INTERNAL void dropblock__map(dropblock__geom *g, int block_d, int block_h, int block_w, int d, int h,
                                        int w, unsigned flags) {
    int anywhere = (flags & DROPBLOCK_SEED_ANYWHERE) != 0;
    g->d = (size_t)d; g->h = (size_t)h; g->w = (size_t)w;
    dropblock__axis(g->d, dropblock__block_or_h(block_d, block_h), anywhere, &g->bd, &g->sd, &g->od);
    dropblock__axis(g->h, block_h, anywhere, &g->bh, &g->sh, &g->oh);
    dropblock__axis(g->w, dropblock__block_or_h(block_w, block_h), anywhere, &g->bw, &g->sw, &g->ow);
}

/* The geometry of a checked config over checked sizes. */
DROPBLOCK__INTERNAL void dropblock__geometry(const dropblock_config *cfg, const int dims[5], dropblock__geom *g) {
    dropblock__map(g, cfg->block_d, cfg->block_h, cfg->block_w, dims[1], dims[2], dims[3], cfg->flags);
    g->n = (size_t)dims[0]; g->c = (size_t)dims[4];
    g->sample = g->d * g->h * g->w * g->c;
    g->total = g->n * g->sample;
    g->nm = (cfg->flags & DROPBLOCK_SHARE_BATCH) ? 1 : g->n;
    g->cm = (cfg->flags & DROPBLOCK_SHARE_CHANNELS) ? 1 : g->c;
    g->rows = g->nm * g->d * g->h;
    g->row_bits = g->w * g->cm;
    (void)dropblock__bands(g->rows, g->row_bits, &g->band_rows, &g->bands, &g->band_words,
                           &g->mask_words); /* checked at setup */
    g->cmajor = 0;
    g->plane_k = g->plane_bands = g->slice_words = 0;
}

/* gamma of THE MATH for a geometry; the integer products are exact in
   double for any map that fits in memory, and no product feeds a sum. */
DROPBLOCK__INTERNAL double dropblock__gamma(double keep_prob, const dropblock__geom *g) {
    double area = (double)g->bd * (double)g->bh * (double)g->bw;
    double map = (double)g->d * (double)g->h * (double)g->w;
    double valid = (double)(g->d - g->bd + 1) * (double)(g->h - g->bh + 1) * (double)(g->w - g->bw + 1);
    double gamma = (1.0 - keep_prob) * (map / (area * valid)); /* block = map: the ratio is exactly 1 */
    return gamma < 0.0 ? 0.0 : (gamma > 1.0 ? 1.0 : gamma);
}

/* ---- validating tensors and parts ---------------------------------------- */

#define DROPBLOCK__KEEP 4 /* internal "type" of the 1.x keep-mask bytes: 1 kept, 0 dropped */

DROPBLOCK__INTERNAL size_t dropblock__dtype_size(int dtype) {
    switch (dtype) {
    case DROPBLOCK_F32: return 4;
    case DROPBLOCK_F16:
    case DROPBLOCK_BF16: return 2;
    case DROPBLOCK_F64: return 8;
    case DROPBLOCK__KEEP: return 1;
    default: return 0;
    }
}

DROPBLOCK__INTERNAL float dropblock__float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

DROPBLOCK__INTERNAL uint32_t dropblock__bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Address ranges [a, a+na) and [b, b+nb) intersect. */
DROPBLOCK__INTERNAL int dropblock__overlap(const void *a, size_t na, const void *b, size_t nb) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    if (!a || !b || na == 0 || nb == 0) return 0;
    return pb >= pa ? pb - pa < na : pa - pb < nb; /* differences: sums could wrap */
}

DROPBLOCK__INTERNAL void dropblock__dims(const dropblock_tensor *t, int dims[5]) {
    dims[0] = t->n; dims[1] = t->d; dims[2] = t->h; dims[3] = t->w; dims[4] = t->c;
}

/* The part's share [lo, hi) of count items: parts of nearly equal size. */
DROPBLOCK__INTERNAL void dropblock__cut(size_t count, int part, int parts, size_t *lo, size_t *hi) {
    size_t q = count / (size_t)parts, r = count % (size_t)parts, p = (size_t)part;
    *lo = p * q + (p < r ? p : r);
    *hi = *lo + q + (p < r ? 1 : 0);
}

DROPBLOCK__INTERNAL dropblock_status dropblock__check_part(int part, int parts) {
    return parts < 1 || part < 0 || part >= parts ? DROPBLOCK_ERR_PART : DROPBLOCK_OK;
}

/* Checks a tensor descriptor and gives the bytes its elements span. */
DROPBLOCK__INTERNAL dropblock_status dropblock__check_tensor(const dropblock_tensor *t, size_t *span) {
    const ptrdiff_t st[5] = {t->stride_n, t->stride_d, t->stride_h, t->stride_w, t->stride_c};
    int dims[5], order[5], k, j, used = 0;
    size_t es, total, last = 0, reach = 1;
    dropblock_status s;
    if (!t->data) return DROPBLOCK_ERR_NULL;
    if ((unsigned)t->dtype > (unsigned)DROPBLOCK_F64) return DROPBLOCK_ERR_DTYPE;
    es = dropblock__dtype_size(t->dtype);
    dropblock__dims(t, dims);
    s = dropblock__count(dims, es, &total);
    if (s != DROPBLOCK_OK) return s;
    if (t->n_offset < 0) return DROPBLOCK_ERR_SHAPE;
    for (k = 0; k < 5; ++k)
        if (st[k] < 0) return DROPBLOCK_ERR_STRIDE;
    for (k = 0; k < 5; ++k) { /* the last element's offset, in bytes too, fits ptrdiff_t */
        size_t term;
        if (!dropblock__mul_ok((size_t)(dims[k] - 1), (size_t)st[k], &term) || term > (size_t)PTRDIFF_MAX - last)
            return DROPBLOCK_ERR_OVERFLOW;
        last += term;
    }
    if (last >= (size_t)PTRDIFF_MAX / es) return DROPBLOCK_ERR_OVERFLOW;
    for (k = 0; k < 5; ++k) { /* the dimensions of size > 1, by stride */
        if (dims[k] == 1) continue;
        for (j = used++; j > 0 && st[order[j - 1]] > st[k]; --j) order[j] = order[j - 1];
        order[j] = k;
    }
    for (j = 0; j < used; ++j) {
        if ((size_t)st[order[j]] < reach) return DROPBLOCK_ERR_STRIDE;
        reach += (size_t)(dims[order[j]] - 1) * (size_t)st[order[j]];
    }
    if ((uintptr_t)t->data % es) return DROPBLOCK_ERR_STRIDE;
    *span = (last + 1) * es;
    return DROPBLOCK_OK;
}

DROPBLOCK__INTERNAL int dropblock__same_sizes(const dropblock_tensor *a, const dropblock_tensor *b) {
    return a->n == b->n && a->d == b->d && a->h == b->h && a->w == b->w && a->c == b->c && a->n_offset == b->n_offset;
}

/* x and y describe the same elements at the same addresses (in place). */
DROPBLOCK__INTERNAL int dropblock__same_view(const dropblock_tensor *x, const dropblock_tensor *y) {
    return x->data == y->data && (x->n == 1 || x->stride_n == y->stride_n) &&
           (x->d == 1 || x->stride_d == y->stride_d) && (x->h == 1 || x->stride_h == y->stride_h) &&
           (x->w == 1 || x->stride_w == y->stride_w) && (x->c == 1 || x->stride_c == y->stride_c);
}

/* Checks an input/output pair: each valid, one dtype, the same sizes and
   window, and in place or apart. span: the bytes y spans. */
DROPBLOCK__INTERNAL dropblock_status dropblock__check_pair(const dropblock_tensor *x, const dropblock_tensor *y,
                                                           size_t *xspan, size_t *yspan) {
    dropblock_status st = dropblock__check_tensor(x, xspan);
    if (st == DROPBLOCK_OK) st = dropblock__check_tensor(y, yspan);
    if (st != DROPBLOCK_OK) return st;
    if (x->dtype != y->dtype) return DROPBLOCK_ERR_DTYPE;
    if (!dropblock__same_sizes(x, y)) return DROPBLOCK_ERR_SHAPE;
    if (!dropblock__same_view(x, y) && dropblock__overlap(x->data, *xspan, y->data, *yspan))
        return DROPBLOCK_ERR_OVERLAP;
    return DROPBLOCK_OK;
}

/* ---- the exact seed threshold ----------------------------------------------
   t = floor(gamma * 2^32) decides every seed, so it is computed in integer
   arithmetic: no compiler, FMA contraction or x87 excess precision can move
   it by one. With K = keep_prob * 2^32 (rounded to an integer, exact for
   keep_prob >= 2^-8) it is t = floor((2^32 - K) * map / (area * valid)),
   capped at 2^32; the numerator fits in 97 bits and the denominator in 128. */

/* P(one) = t / 2^32; t = 2^32 means always. p * 2^32 is exact, so this is a
   plain truncation with no rounding a compiler could change. */
DROPBLOCK__INTERNAL uint64_t dropblock__threshold(double p) {
    uint64_t u;
    memcpy(&u, &p, sizeof u); /* NaN and negatives by their bits (see dropblock__unit_float) */
    if ((u >> 63) || u > UINT64_C(0x7FF0000000000000) || u == 0) return 0;
    if (p >= 1.0) return UINT64_C(1) << 32;
    return (uint64_t)(p * 4294967296.0);
}

typedef struct dropblock__u128 {
    uint64_t hi, lo;
} dropblock__u128;

DROPBLOCK__INTERNAL dropblock__u128 dropblock__mul64(uint64_t a, uint64_t b) {
    uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32, b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
    dropblock__u128 r;
    r.lo = (mid << 32) | (p00 & 0xFFFFFFFFu);
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

DROPBLOCK__INTERNAL int dropblock__le128(dropblock__u128 a, dropblock__u128 b) {
    return a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo);
}

DROPBLOCK__INTERNAL unsigned dropblock__bits128(dropblock__u128 a) {
    unsigned n = 0;
    uint64_t top = a.hi ? a.hi : a.lo;
    while (top) { top >>= 1; ++n; }
    return a.hi ? n + 64 : n;
}

DROPBLOCK__INTERNAL dropblock__u128 dropblock__shl128(dropblock__u128 a, unsigned k) { /* k < 64 */
    if (k) {
        a.hi = (a.hi << k) | (a.lo >> (64 - k));
        a.lo <<= k;
    }
    return a;
}

/* keep_prob * 2^32 rounded half up, from the float's bits. */
DROPBLOCK__INTERNAL uint64_t dropblock__keep_fixed32(float keep_prob) {
    uint32_t u, e;
    uint64_t m;
    memcpy(&u, &keep_prob, sizeof u);
    e = (u >> 23) & 0xFFu;
    m = (u & 0x7FFFFFu) | (e ? 0x800000u : 0u);
    if (e == 0) e = 1;                   /* subnormal: same scale as the smallest normal */
    if (e >= 118) return m << (e - 118); /* keep_prob * 2^32 = m * 2^(e - 118) */
    if (118 - e > 40) return 0;          /* below 2^-33: rounds to 0 */
    return (m + (UINT64_C(1) << (117 - e))) >> (118 - e);
}

/* The paper's seed threshold for a checked configuration. */
DROPBLOCK__INTERNAL uint64_t dropblock__paper_threshold(float keep_prob, const dropblock__geom *g) {
    uint64_t area = g->bd * g->bh * g->bw, map = g->d * g->h * g->w;
    uint64_t valid = (g->d - g->bd + 1) * (g->h - g->bh + 1) * (g->w - g->bw + 1);
    dropblock__u128 num = dropblock__mul64((UINT64_C(1) << 32) - dropblock__keep_fixed32(keep_prob), map);
    dropblock__u128 den = dropblock__mul64(area, valid);
    uint64_t q = 0;
    unsigned b, dbits = dropblock__bits128(den);
    for (b = 33; b-- > 0;) { /* long division, one quotient bit at a time */
        dropblock__u128 d;
        if (dbits + b > 128) continue; /* den * 2^b > num */
        d = dropblock__shl128(den, b);
        if (dropblock__le128(d, num)) {
            num.hi -= d.hi + (num.lo < d.lo);
            num.lo -= d.lo;
            q |= UINT64_C(1) << b;
        }
    }
    return q > (UINT64_C(1) << 32) ? UINT64_C(1) << 32 : q;
}

/* ---- expected kept fraction ------------------------------------------------ */

/* Product rounded to double on its own: a volatile store cannot be fused
   into a following add, so FMA-contracting builds round identically. */
DROPBLOCK__INTERNAL double dropblock__mul(double a, double b) {
    volatile double p = a * b;
    return p;
}

DROPBLOCK__INTERNAL double dropblock__powu(double q, uint64_t k) {
    double r = 1.0;
    while (k) {
        if (k & 1u) r = dropblock__mul(r, q);
        k >>= 1;
        if (k) q = dropblock__mul(q, q);
    }
    return r;
}

/* 1 + r + ... + r^(n-1) by doubling, G(2m) = G(m) (1 + r^m) and
   G(2m+1) = G(2m) + r^2m: O(log n) products and sums of positive terms. */
DROPBLOCK__INTERNAL double dropblock__geometric(double r, size_t n) {
    double g = 0.0, p = 1.0; /* G(m) and r^m for the bits of n read so far */
    int bit = (int)(sizeof(size_t) * 8) - 1;
    while (bit >= 0 && !((n >> bit) & 1u)) --bit;
    for (; bit >= 0; --bit) {
        g += dropblock__mul(p, g);
        p = dropblock__mul(p, p);
        if ((n >> bit) & 1u) {
            g += p;
            p = dropblock__mul(p, r);
        }
    }
    return g;
}

/* Along one axis, the number of allowed seed positions whose block covers
   coordinate x (seed s covers s - o .. s - o + b - 1, s in [0, grid)) is
   min(x + a, peak, c - x) with a = o + 1, peak = min(grid, b) and
   c = grid + b - o - 1: a run rising by one up to x = rise, a plateau at
   peak until fall, a run falling by one to the end. */
typedef struct dropblock__cover {
    size_t a, peak, c, len, rise, fall;
} dropblock__cover;

DROPBLOCK__INTERNAL void dropblock__cover_axis(dropblock__cover *cv, size_t len, size_t b, size_t grid, size_t o) {
    size_t half;
    cv->a = o + 1;
    cv->peak = grid < b ? grid : b;
    cv->c = grid + b - o - 1;
    cv->len = len;
    half = (cv->c - cv->a) / 2; /* x + a <= c - x */
    cv->rise = cv->peak - cv->a < half ? cv->peak - cv->a : half;
    if (cv->rise > len - 1) cv->rise = len - 1;
    cv->fall = cv->c - cv->peak;
    if (cv->fall < (cv->c - cv->a + 1) / 2) cv->fall = (cv->c - cv->a + 1) / 2;
    if (cv->fall < cv->rise + 1) cv->fall = cv->rise + 1;
    if (cv->fall > len) cv->fall = len;
}

/* The cover count at x, and how many coordinates from x on share it (the
   whole plateau at once). */
DROPBLOCK__INTERNAL size_t dropblock__cover_at(const dropblock__cover *cv, size_t x, size_t *count) {
    *count = 1;
    if (x <= cv->rise) return x + cv->a;
    if (x < cv->fall) {
        *count = cv->fall - x;
        return cv->peak;
    }
    return cv->c - x;
}

/* The sum over the axis of r^(cover count): two geometric runs and a
   plateau. */
DROPBLOCK__INTERNAL double dropblock__cover_sum(const dropblock__cover *cv, double r) {
    double s = dropblock__mul(dropblock__powu(r, cv->a), dropblock__geometric(r, cv->rise + 1));
    if (cv->fall > cv->rise + 1) s += dropblock__mul((double)(cv->fall - cv->rise - 1), dropblock__powu(r, cv->peak));
    if (cv->fall < cv->len)
        s += dropblock__mul(dropblock__powu(r, cv->c - cv->len + 1), dropblock__geometric(r, cv->len - cv->fall));
    return s;
}

/* How many distinct steps dropblock__cover_at takes over the axis. */
DROPBLOCK__INTERNAL size_t dropblock__cover_steps(const dropblock__cover *cv) {
    return cv->rise + 1 + (cv->fall > cv->rise + 1) + (cv->len - cv->fall);
}

/* E[kept fraction] = mean over map positions of q^(covering seeds), q the
   probability that a position does not seed. The cover count of (z, i, j)
   is the product of the three axes' counts, so the sum runs over the
   distinct counts of depth and of the shorter-stepping of rows and columns
   and sums the other axis in closed form: O(d * min(bh, H - bh + 1, bw,
   W - bw + 1)) terms at most, whatever the map size. */
DROPBLOCK__INTERNAL double dropblock__expected_keep(const dropblock__geom *g, double q) {
    dropblock__cover cz, ca, cb;
    double sum = 0.0;
    size_t z, i, nz, ni;
    dropblock__cover_axis(&cz, g->d, g->bd, g->sd, g->od);
    dropblock__cover_axis(&ca, g->h, g->bh, g->sh, g->oh);
    dropblock__cover_axis(&cb, g->w, g->bw, g->sw, g->ow);
    if (dropblock__cover_steps(&cb) < dropblock__cover_steps(&ca)) { /* the sum is symmetric in i and j */
        dropblock__cover t = ca;
        ca = cb;
        cb = t;
    }
    for (z = 0; z < cz.len; z += nz) {
        size_t vz = dropblock__cover_at(&cz, z, &nz);
        for (i = 0; i < ca.len; i += ni) {
            size_t vi = dropblock__cover_at(&ca, i, &ni);
            sum += dropblock__mul((double)(nz * ni), dropblock__cover_sum(&cb, dropblock__powu(q, (uint64_t)vz * vi)));
        }
    }
    return sum / ((double)g->d * (double)g->h * (double)g->w);
}

/* The gamma whose expected kept fraction is keep_prob (DROPBLOCK_EXACT_RATE):
   E is continuous and strictly decreasing from 1 at gamma 0 to 0 at gamma 1
   (every position is covered by some seed), so a solution always exists;
   bisection until the double interval cannot shrink is deterministic and
   lands on it to full double precision. */
DROPBLOCK__INTERNAL double dropblock__gamma_exact(double keep_prob, const dropblock__geom *g) {
    /* Bisect on the bit patterns of lo and hi (non-negative doubles order
       like their bits): at most 64 steps, and no floating-point loop test
       that excess precision (x87) could keep from ever failing. */
    double lo = 0.0, hi = 1.0, mid;
    uint64_t ulo, uhi, umid;
    if (keep_prob >= 1.0) return 0.0;
    if (keep_prob <= 0.0) return 1.0;
    memcpy(&ulo, &lo, sizeof ulo);
    memcpy(&uhi, &hi, sizeof uhi);
    while (uhi - ulo > 1) {
        umid = ulo + (uhi - ulo) / 2;
        memcpy(&mid, &umid, sizeof mid);
        if (dropblock__expected_keep(g, 1.0 - mid) > keep_prob)
            ulo = umid;
        else
            uhi = umid;
    }
    memcpy(&lo, &ulo, sizeof lo);
    memcpy(&hi, &uhi, sizeof hi);
    return dropblock__expected_keep(g, 1.0 - lo) - keep_prob <= keep_prob - dropblock__expected_keep(g, 1.0 - hi)
               ? lo
               : hi;
}

/* Probability that a position does not seed, for seed threshold t. */
DROPBLOCK__INTERNAL double dropblock__no_seed(uint64_t t) {
    return (double)((UINT64_C(1) << 32) - t) / 4294967296.0;
}

/* ---- drawing the seeds ------------------------------------------------------ */

/* Which lanes of `live` draw a one in the group whose words start at
   counter c: lane L is one iff its 32-bit U (bit 31-k = bit L of word c+k)
   is below t. Walks the bits of U and t from the top: at level k a lane
   still equal to t's prefix becomes a one if t has a 1 there and U a 0, and
   stays undecided only if its bit equals t's. Drawing more levels than
   needed never changes a decided lane, so the first DROPBLOCK__EAGER levels
   (almost always needed) are drawn without branches (DROPBLOCK__EAGER_V8
   levels, 32 groups at a time, where AVX-512 is available), then the walk
   stops as soon as no lane is undecided or t has no set bit left. A t
   whose last set bit comes before the end of those levels (keep_prob 0.5
   at block 1: t = 2^31) takes the walk from the start. */
#define DROPBLOCK__EAGER 8u

/* One level: bit k of t against word w (input x) for the open lanes.
   Always inlined: it is the inner step of every draw. A branch on t's bit
   (the same at every group, so predicted) costs less than masking with it:
   the portable draw is 19% faster so. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline void dropblock__level(uint64_t x, unsigned k, uint64_t t, uint64_t *ones, uint64_t *open) {
    const uint64_t w = dropblock__mix(x);
    if ((t >> (31 - k)) & 1u) { /* t has a 1 here: a 0 in U decides a one, a 1 keeps the lane open */
        *ones |= *open & ~w;
        *open &= w;
    } else { /* a 1 in U decides a zero */
        *open &= ~w;
    }
}

/* t's bits at levels k and after (level k compares bit 31-k): none left
   means every lane still open is decided, as a zero. */
static inline uint64_t dropblock__t_from(uint64_t t, unsigned k) {
    return t & dropblock__low_bits(32 - k);
}

/* Levels k .. 31 of a group; x = key + (c + k + 1) * G is word c+k's input. */
DROPBLOCK__INTERNAL uint64_t dropblock__draw_rest(uint64_t x, unsigned k, uint64_t t, uint64_t ones, uint64_t open) {
    for (; k < 32 && open && dropblock__t_from(t, k); ++k, x += DROPBLOCK__GOLDEN)
        dropblock__level(x, k, t, &ones, &open);
    return ones;
}

DROPBLOCK__INTERNAL uint64_t dropblock__draw_group(uint64_t key, uint64_t c, uint64_t t, uint64_t live) {
    uint64_t ones = 0, open = live, x = dropblock__word_input(key, c);
    unsigned k;
    if (t >> 32) return live;
    if (!dropblock__t_from(t, DROPBLOCK__EAGER)) /* t ends within the eager levels: stop at its last bit */
        return dropblock__draw_rest(x, 0, t, 0, open);
    for (k = 0; k < DROPBLOCK__EAGER; ++k, x += DROPBLOCK__GOLDEN) dropblock__level(x, k, t, &ones, &open);
    return dropblock__draw_rest(x, k, t, ones, open);
}

/* Groups are drawn DROPBLOCK__GROUPS at a time into a cache, so that
   consecutive words of a row (and consecutive rows) share their boundary
   groups instead of drawing them twice. */
#define DROPBLOCK__GROUPS 32u

#ifdef DROPBLOCK__AVX512
/* The AVX-512 draw: groups g + j*gs + o_i for chunks j < nc and i < 32
   (o_i = off[i]) into out[32j + i], eight groups to a 512-bit vector and
   four independent vectors at a time, so that the multiplies of one level
   overlap. Every chunk draws the first DROPBLOCK__EAGER_V8 levels in
   lockstep. Finishing each chunk on its own would run its 2048 draws to
   the last one's level (12.3 levels of 4 vectors on average, where a
   group alone needs 7.3), so a run of chunks instead queues the groups
   still undecided after those levels and draws them on 32 at a time.
   Measured with 8 eager levels (about 7 of 32 groups queued): 23% fewer
   vector levels in a run of 2 or more chunks, a run of 7 chunks in about
   0.83 of the time on Zen 4 (gcc and clang), the queue's bookkeeping
   included. At 9 (one more than the portable draw) about 4 of 32 are
   queued, and builds are 1-7% faster again: a queued group costs more
   than a lane drawn in lockstep. A run of one chunk (the cache's
   refill, a seed row of 32 to 63 words, a small dense plane) is finished
   in place, as before (dropblock__draw_one).
   The arithmetic (shifts, multiplies) is written with the compilers'
   vector extensions rather than intrinsics: gcc 12's AVX-512 shift
   intrinsics trip -Wuninitialized in C++ (GCC bug 105593). The loops over
   the vectors are unrolled so that gcc keeps them in registers (it kept
   them on the stack: 40% slower), and a level branches once on t's bit
   instead of masking with it (where t's bit is 0, most levels for a small
   gamma, the update is one ternary logic instruction: 8% faster under
   gcc, 14% under clang). */
typedef uint64_t dropblock__v8 __attribute__((vector_size(64)));
#define DROPBLOCK__EAGER_V8 9u
#define DROPBLOCK__V8(v) {(v), (v), (v), (v), (v), (v), (v), (v)}
#define DROPBLOCK__AVX512_INLINE __attribute__((target("avx512f,avx512dq"), always_inline)) static inline

/* Level k (t's bit tb) of nv vectors; x advances to level k+1's inputs. */
DROPBLOCK__AVX512_INLINE void dropblock__level_v8(unsigned nv, uint64_t tb, dropblock__v8 *x, dropblock__v8 *ones,
                                                  dropblock__v8 *open) {
    const dropblock__v8 m1 = DROPBLOCK__V8(UINT64_C(0xBF58476D1CE4E5B9)), m2 = DROPBLOCK__V8(UINT64_C(0x94D049BB133111EB));
    const dropblock__v8 gold = DROPBLOCK__V8(DROPBLOCK__GOLDEN);
    unsigned v;
#pragma GCC unroll 4
    for (v = 0; v < nv; ++v) {
        dropblock__v8 z = (x[v] ^ (x[v] >> 30)) * m1;
        z = (z ^ (z >> 27)) * m2;
        if (tb) { /* t has a 1 here: a 0 in U decides a one, a 1 keeps the lane open */
            const __m512i was = (__m512i)open[v]; /* open & (z ^ z >> 31), then ones | (was ^ open) */
            open[v] = (dropblock__v8)_mm512_ternarylogic_epi64(was, (__m512i)z, (__m512i)(z >> 31), 0x60);
            ones[v] = (dropblock__v8)_mm512_ternarylogic_epi64((__m512i)ones[v], was, (__m512i)open[v], 0xf6);
        } else { /* a 1 in U decides a zero: open & ~(z ^ z >> 31) */
            open[v] = (dropblock__v8)_mm512_ternarylogic_epi64((__m512i)open[v], (__m512i)z, (__m512i)(z >> 31), 0x90);
        }
        x[v] += gold;
    }
}

/* Levels k.. of nv vectors until every lane is decided or t has no bit
   left. */
DROPBLOCK__AVX512_INLINE void dropblock__finish_v8(unsigned nv, unsigned k, uint64_t t, dropblock__v8 *x,
                                                   dropblock__v8 *ones, dropblock__v8 *open) {
    for (; k < 32 && dropblock__t_from(t, k); ++k) {
        dropblock__v8 undecided;
        unsigned v;
        dropblock__level_v8(nv, (t >> (31 - k)) & 1u, x, ones, open);
        undecided = (dropblock__v8)_mm512_setzero_si512();
#pragma GCC unroll 4
        for (v = 0; v < nv; ++v) undecided |= open[v];
        if (!_mm512_test_epi64_mask((__m512i)undecided, (__m512i)undecided)) break;
    }
}

/* A chunk's lanes at group inputs first + ox (ox = o_i * 32 * G), through
   the eager levels, or to t's last set bit if that comes first (the levels
   after it decide nothing: keep_prob 0.5 at block 1 needs one). */
DROPBLOCK__AVX512_INLINE void dropblock__eager_v8(uint64_t t, uint64_t first, const dropblock__v8 *ox, dropblock__v8 *x,
                                                  dropblock__v8 *ones, dropblock__v8 *open) {
    unsigned k, v;
#pragma GCC unroll 4
    for (v = 0; v < 4; ++v) {
        x[v] = ox[v] + first;
        ones[v] = (dropblock__v8)_mm512_setzero_si512();
        open[v] = ~ones[v];
    }
    if (dropblock__t_from(t, DROPBLOCK__EAGER_V8)) /* a constant count: the loop unrolls (5% faster) */
        for (k = 0; k < DROPBLOCK__EAGER_V8; ++k) dropblock__level_v8(4, (t >> (31 - k)) & 1u, x, ones, open);
    else
        for (k = 0; dropblock__t_from(t, k); ++k) dropblock__level_v8(4, (t >> (31 - k)) & 1u, x, ones, open);
}

/* Lane offsets o_i as word-input distances o_i * 32 * G, in four vectors. */
DROPBLOCK__AVX512_INLINE void dropblock__offsets_v8(const uint64_t off[DROPBLOCK__GROUPS], dropblock__v8 *o,
                                                    dropblock__v8 *ox) {
    unsigned v;
#pragma GCC unroll 4
    for (v = 0; v < 4; ++v) {
        memcpy(&o[v], off + (size_t)8 * v, sizeof o[v]);
        ox[v] = o[v] * (32u * DROPBLOCK__GOLDEN);
    }
}

/* A run of one chunk, finished in place. Its own function: inlined into
   the run, it made clang keep the run's vectors on the stack. */
__attribute__((target("avx512f,avx512dq"), noinline)) static void
dropblock__draw_one(uint64_t key, uint64_t t, uint64_t g, const uint64_t off[DROPBLOCK__GROUPS], uint64_t *out) {
    dropblock__v8 o[4], ox[4], x[4], ones[4], open[4];
    unsigned v;
    dropblock__offsets_v8(off, o, ox);
    dropblock__eager_v8(t, dropblock__word_input(key, g * 32u), ox, x, ones, open);
    dropblock__finish_v8(4, DROPBLOCK__EAGER_V8, t, x, ones, open);
#pragma GCC unroll 4
    for (v = 0; v < 4; ++v) memcpy(out + (size_t)8 * v, &ones[v], sizeof ones[v]);
}

/* The undecided groups of a run: their open lanes and output slots
   32j + i. At most 31 wait between two chunks, and a chunk adds 32 with
   four 8-lane stores, the last at entry 55 at most: 64 entries hold them. */
typedef struct dropblock__queue {
    uint64_t open[64], slot[64];
} dropblock__queue;

/* Draws levels DROPBLOCK__EAGER_V8.. of the first m queued groups (m <= 8 nv)
   and ORs their ones into out. A group's word input at that level is base
   + (j*gs + o_i) * 32 * G, from its slot (o: the offsets in four vectors). */
DROPBLOCK__AVX512_INLINE void dropblock__queue_v8(unsigned nv, const dropblock__queue *q, unsigned m,
                                                  uint64_t base, uint64_t gs, const dropblock__v8 *o, uint64_t t,
                                                  uint64_t *out) {
    dropblock__v8 x[4], ones[4], open[4];
    uint64_t res[DROPBLOCK__GROUPS];
    unsigned v;
#pragma GCC unroll 4
    for (v = 0; v < nv; ++v) {
        const __mmask8 live = (__mmask8)(m >= 8 * v + 8 ? 0xffu : m > 8 * v ? (1u << (m - 8 * v)) - 1 : 0);
        const dropblock__v8 slot = (dropblock__v8)_mm512_maskz_loadu_epi64(live, q->slot + (size_t)8 * v);
        const __m512i lane = (__m512i)(slot & 31u); /* i of slot 32j + i, and o_i from its half of o */
        const __m512i lo = _mm512_permutex2var_epi64((__m512i)o[0], lane, (__m512i)o[1]);
        const __m512i hi = _mm512_permutex2var_epi64((__m512i)o[2], lane, (__m512i)o[3]);
        const __m512i oi = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(lane, _mm512_set1_epi64(16)), lo, hi);
        x[v] = ((slot >> 5) * gs + (dropblock__v8)oi) * (32u * DROPBLOCK__GOLDEN) + base;
        open[v] = (dropblock__v8)_mm512_maskz_loadu_epi64(live, q->open + (size_t)8 * v);
        ones[v] = (dropblock__v8)_mm512_setzero_si512();
    }
    dropblock__finish_v8(nv, DROPBLOCK__EAGER_V8, t, x, ones, open);
#pragma GCC unroll 4
    for (v = 0; v < nv; ++v) memcpy(res + (size_t)8 * v, &ones[v], sizeof ones[v]);
    for (v = 0; v < m; ++v) out[q->slot[v]] |= res[v];
}

/* The first m queued groups (1 <= m <= 32), in as many vectors as they fill. */
__attribute__((target("avx512f,avx512dq"), noinline)) static void
dropblock__drain(const dropblock__queue *q, unsigned m, uint64_t base, uint64_t gs, const dropblock__v8 *o, uint64_t t,
                 uint64_t *out) {
    switch ((m + 7) / 8) {
    case 1: dropblock__queue_v8(1, q, m, base, gs, o, t, out); break;
    case 2: dropblock__queue_v8(2, q, m, base, gs, o, t, out); break;
    case 3: dropblock__queue_v8(3, q, m, base, gs, o, t, out); break;
    default: dropblock__queue_v8(4, q, m, base, gs, o, t, out); break;
    }
}

/* The run of the top comment: nc >= 1 chunks into out[0 .. 32 nc - 1], for
   a threshold t < 2^32 (dropblock__draw_init takes the portable draw for
   t = 2^32). */
__attribute__((target("avx512f,avx512dq"))) static void
dropblock__draw_avx512(uint64_t key, uint64_t t, uint64_t g, uint64_t gs, size_t nc,
                       const uint64_t off[DROPBLOCK__GROUPS], uint64_t *out) {
    const dropblock__v8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
    const uint64_t base = dropblock__word_input(key, g * 32u + DROPBLOCK__EAGER_V8);
    const int more = dropblock__t_from(t, DROPBLOCK__EAGER_V8) != 0; /* levels past the eager ones */
    dropblock__v8 o[4], ox[4];
    dropblock__queue q;
    unsigned v, n = 0; /* groups in the queue */
    size_t j;
    if (nc == 1) {
        dropblock__draw_one(key, t, g, off, out);
        return;
    }
    dropblock__offsets_v8(off, o, ox);
    for (j = 0; j < nc; ++j) {
        dropblock__v8 x[4], ones[4], open[4];
        dropblock__eager_v8(t, dropblock__word_input(key, (g + j * gs) * 32u), ox, x, ones, open);
#pragma GCC unroll 4
        for (v = 0; v < 4; ++v) memcpy(out + 32 * j + (size_t)8 * v, &ones[v], sizeof ones[v]); /* its ones so far */
        if (!more) continue; /* t has no bit left: every lane is decided */
#pragma GCC unroll 4
        for (v = 0; v < 4; ++v) { /* its undecided groups to the queue */
            const __mmask8 undecided = _mm512_test_epi64_mask((__m512i)open[v], (__m512i)open[v]);
            const dropblock__v8 slot = lane + (32 * j + (size_t)8 * v);
            _mm512_storeu_si512(q.open + n, _mm512_maskz_compress_epi64(undecided, (__m512i)open[v]));
            _mm512_storeu_si512(q.slot + n, _mm512_maskz_compress_epi64(undecided, (__m512i)slot));
            n += (unsigned)__builtin_popcount(undecided);
        }
        if (n >= DROPBLOCK__GROUPS) {
            dropblock__drain(&q, DROPBLOCK__GROUPS, base, gs, o, t, out);
            n -= DROPBLOCK__GROUPS;
            memmove(q.open, q.open + DROPBLOCK__GROUPS, n * sizeof *q.open);
            memmove(q.slot, q.slot + DROPBLOCK__GROUPS, n * sizeof *q.slot);
        }
    }
    if (n) dropblock__drain(&q, n, base, gs, o, t, out);
}

/* The offsets of 32 consecutive groups. */
static const uint64_t dropblock__lanes[DROPBLOCK__GROUPS] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                                             11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                                             22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
#endif

/* The cache: groups first .. first + DROPBLOCK__GROUPS - 1 are in word[]. */
typedef struct dropblock__draw {
    uint64_t key, t;
    uint64_t first;
    uint64_t word[DROPBLOCK__GROUPS];
    int valid, avx512;
} dropblock__draw;

DROPBLOCK__INTERNAL void dropblock__draw_init(dropblock__draw *dr, uint64_t key, uint64_t t) {
    dr->key = key;
    dr->t = t;
    dr->first = 0;
    dr->valid = 0;
#ifdef DROPBLOCK__AVX512
    dr->avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && t < (UINT64_C(1) << 32);
#else
    dr->avx512 = 0;
#endif
}

/* Draws groups g .. g + DROPBLOCK__GROUPS - 1 into the cache. */
DROPBLOCK__INTERNAL void dropblock__refill(dropblock__draw *dr, uint64_t g) {
    unsigned i;
    dr->first = g;
    dr->valid = 1;
#ifdef DROPBLOCK__AVX512
    if (dr->avx512) {
        dropblock__draw_avx512(dr->key, dr->t, g, DROPBLOCK__GROUPS, 1, dropblock__lanes, dr->word);
        return;
    }
#endif
    for (i = 0; i < DROPBLOCK__GROUPS; ++i)
        dr->word[i] = dropblock__draw_group(dr->key, (g + i) * 32u, dr->t, ~UINT64_C(0));
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline)) /* the hot path is one compare; keep it in the caller's loop */
#endif
static inline uint64_t dropblock__group(dropblock__draw *dr, uint64_t g) {
    /* g < first wraps to a huge difference */
    if (!dr->valid || g - dr->first >= DROPBLOCK__GROUPS) dropblock__refill(dr, g);
    return dr->word[g - dr->first];
}

/* The 64 mask bits from bit pos of a built mask; a NULL row (no seed can
   occur) keeps everything. The mask is followed by a zero word, so the
   read past its last word stays in the workspace; those bits are ignored. */
DROPBLOCK__INTERNAL uint64_t dropblock__bits64(const uint64_t *row, size_t pos) {
    unsigned r = (unsigned)(pos & 63);
    const uint64_t *p;
    if (!row) return ~UINT64_C(0);
    p = row + (pos >> 6);
    return r ? (p[0] >> r) | (p[1] << (64 - r)) : p[0];
}

DROPBLOCK__INTERNAL uint64_t dropblock__bit(const uint64_t *row, size_t pos) {
    return row ? (row[pos >> 6] >> (pos & 63)) & 1u : 1u;
}

/* The len bits (1 <= len <= 64) from bit pos, reading only the words that
   hold them: a part of a build may not even read another part's words. */
DROPBLOCK__INTERNAL uint64_t dropblock__get_bits(const uint64_t *base, size_t pos, size_t len) {
    unsigned r = (unsigned)(pos & 63);
    const uint64_t *p = base + (pos >> 6);
    uint64_t v = p[0] >> r;
    if (r && len > 64 - r) v |= p[1] << (64 - r);
    return v & dropblock__low_bits(len);
}

/* Words k .. k+n-1 of a seed row that starts on a group (p0 a multiple of
   64), cut at the row's length len: whole runs of DROPBLOCK__GROUPS groups
   drawn straight into out, the rest through the cache. */
DROPBLOCK__INTERNAL void dropblock__seed_words(dropblock__draw *dr, uint64_t p0, size_t k, size_t n, size_t len,
                                               uint64_t *out) {
    const uint64_t g = (p0 >> 6) + k;
    size_t i = 0;
#ifdef DROPBLOCK__AVX512
    if (dr->avx512 && n >= DROPBLOCK__GROUPS) {
        i = n / DROPBLOCK__GROUPS * DROPBLOCK__GROUPS;
        dropblock__draw_avx512(dr->key, dr->t, g, DROPBLOCK__GROUPS, i / DROPBLOCK__GROUPS, dropblock__lanes, out);
    }
#endif
    for (; i < n; ++i) out[i] = dropblock__group(dr, g + i);
    if (64 * (k + n) > len) out[n - 1] &= dropblock__low_bits(len - 64 * (k + n - 1));
}

/* Word k of a seed row: draws p0 + 64k .. p0 + 64k + 63, cut at the row's
   length len. Positions are 64-bit on every platform, so a window far into
   a huge batch draws the same bits everywhere. */
DROPBLOCK__INTERNAL uint64_t dropblock__seed_word(dropblock__draw *dr, uint64_t p0, size_t k, size_t len) {
    uint64_t pos = p0 + 64u * (uint64_t)k, g = pos >> 6;
    unsigned r = (unsigned)(pos & 63);
    uint64_t w = dropblock__group(dr, g) >> r;
    if (r) w |= dropblock__group(dr, g + 1) << (64 - r);
    return w & dropblock__low_bits(len - 64 * k);
}

/* ---- painting the blocks -----------------------------------------------------
   A mask row (map sample, z, i) is the OR of the seed rows whose blocks
   cover it, each widened to its blocks' columns. Widening is an OR of
   shifts, so it commutes with that OR: a build first ORs every covering
   seed row into the row as drawn (seed column j at bit j*cm + c), then
   widens the row once, in place, and inverts it into keep bits. */

/* First and one-past-last index dropped along an axis by seed index s. */
DROPBLOCK__INTERNAL void dropblock__span(size_t s, size_t o, size_t b, size_t len, size_t *lo, size_t *hi) {
    *lo = s > o ? s - o : 0;
    *hi = s + b - o; /* s - o may be "negative", but s + b - o >= 1 */
    if (*hi > len) *hi = len;
}

/* The seed indices whose blocks reach into coordinates [lo, hi] (inclusive):
   seed s covers x iff x + o - b + 1 <= s <= x + o. */
DROPBLOCK__INTERNAL void dropblock__seeds_over(size_t lo, size_t hi, size_t o, size_t b, size_t grid, size_t *s0,
                                               size_t *s1) {
    *s0 = lo + o >= b - 1 ? lo + o - (b - 1) : 0;
    *s1 = hi + o + 1 < grid ? hi + o + 1 : grid;
}

/* The row passes work in blocks of DROPBLOCK__BLOCK words, which compilers
   vectorise. DROPBLOCK__BLOCKWISE goes before a loop over such blocks whose
   trip count is not bounded small (seed chunks): clang would vectorise the
   loop over the blocks too, with gathers and scatters (a build 1.5-1.8x
   slower on Zen 4). */
#define DROPBLOCK__BLOCK 8u
#if defined(__clang__)
#define DROPBLOCK__BLOCKWISE _Pragma("clang loop vectorize(disable)")
#else
#define DROPBLOCK__BLOCKWISE
#endif

/* row |= row shifted by `bits` towards higher (up) or lower bit positions,
   in place over rw words. Each block of DROPBLOCK__BLOCK words reads its
   sources whole before it writes them, and every source is a word that no
   earlier block has written, so the word passes vectorise. v >> 1 >> nb is
   v >> (64 - b), and 0 when b = 0. (Shifts by whole words, pixels of whole
   words, take dropblock__or_window.) */
DROPBLOCK__INTERNAL void dropblock__or_shift(uint64_t *row, size_t rw, size_t bits, int up) {
    const size_t q = bits >> 6;
    const unsigned b = (unsigned)(bits & 63), nb = 63 - b;
    uint64_t v[DROPBLOCK__BLOCK];
    size_t k, i;
    if (q >= rw) return;
    if (up) { /* row[k] |= row[k-q] << b | row[k-q-1] >> (64-b), from the top down */
        for (k = rw; k >= q + 1 + DROPBLOCK__BLOCK; k -= DROPBLOCK__BLOCK) {
            uint64_t *dst = row + k - DROPBLOCK__BLOCK;
            const uint64_t *src = dst - q, *below = src - 1;
            for (i = 0; i < DROPBLOCK__BLOCK; ++i) v[i] = (src[i] << b) | (below[i] >> 1 >> nb);
            for (i = 0; i < DROPBLOCK__BLOCK; ++i) dst[i] |= v[i];
        }
        while (k-- > q) row[k] |= (row[k - q] << b) | (k > q ? row[k - q - 1] >> 1 >> nb : 0);
    } else { /* row[k] |= row[k+q] >> b | row[k+q+1] << (64-b), from the bottom up */
        for (k = 0; k + q + DROPBLOCK__BLOCK < rw; k += DROPBLOCK__BLOCK) {
            uint64_t *dst = row + k;
            const uint64_t *src = dst + q;
            for (i = 0; i < DROPBLOCK__BLOCK; ++i) v[i] = (src[i] >> b) | (src[i + 1] << 1 << nb);
            for (i = 0; i < DROPBLOCK__BLOCK; ++i) dst[i] |= v[i];
        }
        for (; k + q < rw; ++k) row[k] |= (row[k + q] >> b) | (k + q + 1 < rw ? row[k + q + 1] << 1 << nb : 0);
    }
}

/* row[k] |= row[k - s*q] (up) or row[k + s*q] (down) for s = 1 .. n, in
   place over rw words, in one pass: each block reads all its sources
   before it writes, and no source has been written yet (up: from the top
   down; down: from the bottom up). */
DROPBLOCK__INTERNAL void dropblock__or_window(uint64_t *row, size_t rw, size_t q, size_t n, int up) {
    uint64_t v[DROPBLOCK__BLOCK];
    size_t k, i, t;
    if (up) {
        for (k = rw; k >= n * q + DROPBLOCK__BLOCK; k -= DROPBLOCK__BLOCK) {
            uint64_t *dst = row + k - DROPBLOCK__BLOCK;
            for (i = 0; i < DROPBLOCK__BLOCK; ++i) v[i] = dst[i] | (dst - q)[i];
            for (t = 2; t <= n; ++t) {
                const uint64_t *src = dst - t * q;
                for (i = 0; i < DROPBLOCK__BLOCK; ++i) v[i] |= src[i];
            }
            memcpy(dst, v, sizeof v);
        }
        while (k-- > q)
            for (t = 1; t <= n && t * q <= k; ++t) row[k] |= row[k - t * q];
    } else {
        for (k = 0; k + n * q + DROPBLOCK__BLOCK <= rw; k += DROPBLOCK__BLOCK) {
            uint64_t *dst = row + k;
            for (i = 0; i < DROPBLOCK__BLOCK; ++i) v[i] = dst[i] | dst[q + i];
            for (t = 2; t <= n; ++t) {
                const uint64_t *src = dst + t * q;
                for (i = 0; i < DROPBLOCK__BLOCK; ++i) v[i] |= src[i];
            }
            memcpy(dst, v, sizeof v);
        }
        for (; k + q < rw; ++k)
            for (t = 1; t <= n && k + t * q < rw; ++t) row[k] |= row[k + t * q];
    }
}

/* Dilates a row of pixels of pw bits by `reach` pixels in one direction:
   doubling steps, so a block of width bw costs about log2(bw) passes.
   Pixels of whole words shift by whole words, and at reach 2 or 3 take one
   windowed pass instead of two (block-3 builds 4-8% faster on Zen 4; at
   reach 6 its 7 loads a word cost more than three passes). */
DROPBLOCK__INTERNAL void dropblock__dilate_row(uint64_t *row, size_t rw, size_t pw, size_t reach, int up) {
    const int words = pw % 64 == 0;
    size_t cover = 1; /* pixels each seed covers so far, itself included */
    if (words && reach >= 2 && reach <= 3) {
        dropblock__or_window(row, rw, pw / 64, reach, up);
        return;
    }
    while (cover <= reach) {
        size_t s = cover < reach + 1 - cover ? cover : reach + 1 - cover;
        if (words)
            dropblock__or_window(row, rw, s * pw / 64, 1, up);
        else
            dropblock__or_shift(row, rw, s * pw, up);
        cover += s;
    }
}

/* The first word of band b (b = bands: the end of the mask) and, for a
   channel-major mask, the planes [c0, c1) of its slice that it holds. */
DROPBLOCK__INTERNAL size_t dropblock__band_word(const dropblock__geom *g, size_t b) {
    if (!g->cmajor) return b == g->bands ? g->mask_words : b * g->band_words;
    return (b / g->plane_bands) * g->slice_words + (b % g->plane_bands) * g->plane_k * g->h * g->w / 64;
}

DROPBLOCK__INTERNAL void dropblock__band_planes(const dropblock__geom *g, size_t b, size_t *c0, size_t *c1) {
    const size_t q = b % g->plane_bands;
    *c0 = q * g->plane_k;
    *c1 = q + 1 == g->plane_bands ? g->cm : *c0 + g->plane_k;
}

/* The location of mask row r: the first word of its band (channel-major:
   its slice), and the bit offset of the row (of its channel 0) in it. */
DROPBLOCK__INTERNAL const uint64_t *dropblock__row(const dropblock__geom *g, const uint64_t *rows, size_t r,
                                                   size_t *off) {
    if (g->cmajor) { /* its slice, and channel 0's row in it */
        *off = (r % g->h) * g->w;
        return rows + (r / g->h) * g->slice_words;
    }
    *off = (r % g->band_rows) * g->row_bits;
    return rows + (r / g->band_rows) * g->band_words;
}

/* base bits [pos, pos + 64) |= w; the next word is written only if some
   bit of w lands there (it may belong to another part of the build). */
DROPBLOCK__INTERNAL void dropblock__or64(uint64_t *base, size_t pos, uint64_t w) {
    unsigned r = (unsigned)(pos & 63);
    base[pos >> 6] |= w << r;
    if (r && (w >> (64 - r))) base[(pos >> 6) + 1] |= w >> (64 - r);
}

/* dst[k] |= src[k] for k < n (the two do not overlap), in blocks that
   compilers vectorise. */
DROPBLOCK__INTERNAL void dropblock__or_words(uint64_t *dst, const uint64_t *src, size_t n) {
    uint64_t v[DROPBLOCK__BLOCK];
    size_t k = 0, i;
    DROPBLOCK__BLOCKWISE
    for (; k + DROPBLOCK__BLOCK <= n; k += DROPBLOCK__BLOCK) {
        for (i = 0; i < DROPBLOCK__BLOCK; ++i) v[i] = dst[k + i] | src[k + i];
        memcpy(dst + k, v, sizeof v);
    }
    for (; k < n; ++k) dst[k] |= src[k];
}

/* Sets base bits [pos, pos + len), writing only the words that hold them.
   Always inlined: it is the inner step of every channel-major paint. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline void dropblock__set_run(uint64_t *base, size_t pos, size_t len) {
    size_t w = pos >> 6, end = pos + len;
    unsigned head = (unsigned)(pos & 63);
    if (head + len <= 64) {
        base[w] |= dropblock__low_bits(len) << head;
        return;
    }
    base[w++] |= ~UINT64_C(0) << head;
    for (; w < (end >> 6); ++w) base[w] = ~UINT64_C(0);
    if (end & 63) base[w] |= dropblock__low_bits(end & 63);
}

/* Set bits among base bits [pos, pos + len). */
DROPBLOCK__INTERNAL size_t dropblock__count_bits(const uint64_t *base, size_t pos, size_t len) {
    size_t k, n = 0;
    for (k = 0; 64 * k < len; ++k)
        n += dropblock__popcount64(dropblock__get_bits(base, pos + 64 * k, len - 64 * k < 64 ? len - 64 * k : 64));
    return n;
}

/* Inverts a painted row of rw words into keep bits, clears the bits past
   its `bits`, and returns the kept count. Inlined into a copy compiled for
   the POPCNT instruction, chosen at run time on x86-64: the portable count
   costs a dozen instructions a word. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline size_t dropblock__invert_count_with(uint64_t *row, size_t rw, size_t bits, int hw) {
    size_t k, n = 0;
    row[rw - 1] |= ~dropblock__low_bits(bits - 64 * (rw - 1)); /* the padding inverts to 0 */
    for (k = 0; k < rw; ++k) {
        const uint64_t v = ~row[k];
        row[k] = v;
#ifdef DROPBLOCK__POPCNT
        n += hw ? (size_t)__builtin_popcountll(v) : dropblock__popcount64(v);
#else
        n += dropblock__popcount64(v);
#endif
    }
    (void)hw;
    return n;
}

#ifdef DROPBLOCK__POPCNT
__attribute__((target("popcnt"))) static size_t dropblock__invert_count_popcnt(uint64_t *row, size_t rw, size_t bits) {
    return dropblock__invert_count_with(row, rw, bits, 1);
}
#endif

#ifdef DROPBLOCK__AVX512
/* The same, eight words to a vector with AVX-512 VPOPCNTDQ (one POPCNT a
   word was a fifth of a mask build); the last rw % 8 words as above. */
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) static size_t
dropblock__invert_count_vpopcnt(uint64_t *row, size_t rw, size_t bits) {
    __m512i sum = _mm512_setzero_si512();
    uint64_t lane[8];
    size_t k = 0, n = 0, i;
    row[rw - 1] |= ~dropblock__low_bits(bits - 64 * (rw - 1));
    for (; k + 8 <= rw; k += 8) {
        const __m512i v = _mm512_xor_si512(_mm512_loadu_si512(row + k), _mm512_set1_epi64(-1));
        _mm512_storeu_si512(row + k, v);
        sum = _mm512_add_epi64(sum, _mm512_popcnt_epi64(v));
    }
    _mm512_storeu_si512(lane, sum); /* not _mm512_reduce_add_epi64: GCC bug 105593 */
    for (i = 0; i < 8; ++i) n += (size_t)lane[i];
    return n + (k < rw ? dropblock__invert_count_with(row + k, rw - k, bits - 64 * k, 1) : 0);
}
#endif

/* How the kept count is taken: 2 AVX-512 VPOPCNTDQ, 1 POPCNT, 0 portable. */
DROPBLOCK__INTERNAL int dropblock__count_path(void) {
#ifdef DROPBLOCK__AVX512
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")) return 2;
#endif
#ifdef DROPBLOCK__POPCNT
    return __builtin_cpu_supports("popcnt");
#else
    return 0;
#endif
}

DROPBLOCK__INTERNAL size_t dropblock__invert_count(uint64_t *row, size_t rw, size_t bits, int popcnt) {
#ifdef DROPBLOCK__AVX512
    if (popcnt == 2) return dropblock__invert_count_vpopcnt(row, rw, bits);
#endif
#ifdef DROPBLOCK__POPCNT
    if (popcnt) return dropblock__invert_count_popcnt(row, rw, bits);
#endif
    (void)popcnt;
    return dropblock__invert_count_with(row, rw, bits, 0);
}

/* Whether any of words p[0 .. n-1] is nonzero: a block at a time, so that
   it vectorises (gcc -O2 leaves the plain loop scalar), stopping at the
   first block with a bit set (the usual case: a row or chunk with seeds). */
DROPBLOCK__INTERNAL int dropblock__any(const uint64_t *p, size_t n) {
    size_t k, i;
    uint64_t any = 0;
    DROPBLOCK__BLOCKWISE
    for (k = 0; k + DROPBLOCK__BLOCK <= n; k += DROPBLOCK__BLOCK) {
        for (i = 0; i < DROPBLOCK__BLOCK; ++i) any |= p[k + i];
        if (any) return 1;
    }
    for (; k < n; ++k) any |= p[k];
    return any != 0;
}

/* Turns a painted row, word-aligned in buf (rw words, zero past its bits),
   into keep bits and returns its kept count: widen a pixel-major row
   (towards lower columns first, while the padding is still zero), then
   invert and count. */
DROPBLOCK__INTERNAL size_t dropblock__finish_row(const dropblock__geom *g, uint64_t *buf, size_t rw, int popcnt) {
    if (dropblock__any(buf, rw)) {
        dropblock__dilate_row(buf, rw, g->cm, g->ow, 0);
        dropblock__dilate_row(buf, rw, g->cm, g->bw - 1 - g->ow, 1);
    }
    return dropblock__invert_count(buf, rw, g->row_bits, popcnt);
}

/* Finishes every row of band b and stores the band's kept count. A band of
   one row is finished in place; the rows of a longer band are shorter than
   DROPBLOCK__BAND_BITS and are finished in a copy on the stack. */
DROPBLOCK__INTERNAL void dropblock__finish_band(const dropblock__geom *g, uint64_t *rows, uint64_t *counts, size_t b,
                                                int popcnt) {
    uint64_t *band = rows + dropblock__band_word(g, b), buf[DROPBLOCK__BAND_BITS / 64 + 1];
    size_t r, r1, kept = 0, k, rw;
    if (g->cmajor) { /* planes painted whole: a run of bits to invert */
        size_t c0, c1, bits;
        dropblock__band_planes(g, b, &c0, &c1);
        bits = (c1 - c0) * g->h * g->w;
        counts[b] = dropblock__invert_count(band, (bits + 63) / 64, bits, popcnt);
        return;
    }
    r1 = (b + 1) * g->band_rows < g->rows ? (b + 1) * g->band_rows : g->rows;
    rw = (g->row_bits + 63) / 64;
    if (g->band_rows == 1) {
        counts[b] = dropblock__finish_row(g, band, g->band_words, popcnt);
        return;
    }
    for (r = b * g->band_rows; r < r1; ++r) {
        size_t off = (r % g->band_rows) * g->row_bits;
        for (k = 0; k < rw; ++k) buf[k] = dropblock__get_bits(band, off + 64 * k, g->row_bits - 64 * k < 64 ? g->row_bits - 64 * k : 64);
        kept += dropblock__finish_row(g, buf, rw, popcnt);
        for (k = 0; k < rw; ++k) { /* the row's bits of the band := buf */
            size_t pos = off + 64 * k;
            unsigned sh = (unsigned)(pos & 63);
            uint64_t m = dropblock__low_bits(g->row_bits - 64 * k), *p = band + (pos >> 6);
            p[0] = (p[0] & ~(m << sh)) | (buf[k] << sh);
            if (sh && (m >> (64 - sh))) p[1] = (p[1] & ~(m >> (64 - sh))) | (buf[k] >> (64 - sh));
        }
    }
    counts[b] = kept;
}

/* (j, c) += by positions of cm channels each; c < cm. A division only when
   the step crosses more than one pixel. */
DROPBLOCK__INTERNAL void dropblock__advance(size_t *j, size_t *c, size_t by, size_t cm) {
    *c += by;
    if (*c < cm) return;
    if (*c < 2 * cm) {
        *c -= cm;
        ++*j;
        return;
    }
    *j += *c / cm;
    *c %= cm;
}

/* Channel-major painting: the spans of a chunk's seed words (the first
   seed at pixel j, channel c), each seed's block as its run of columns in
   its channel's plane. They are found once per chunk, at most
   DROPBLOCK__SPANS at a time, and then set in every row the chunk covers. */
#define DROPBLOCK__SPANS 256u
typedef struct dropblock__spans {
    const uint64_t *seeds;
    size_t nk, k, j, c; /* word k-1 (its seeds left in w) starts at pixel j, channel c */
    uint64_t w;
    size_t pos[DROPBLOCK__SPANS], len[DROPBLOCK__SPANS], ch[DROPBLOCK__SPANS]; /* pos: c*H*W + j0 */
} dropblock__spans;

DROPBLOCK__INTERNAL void dropblock__spans_init(dropblock__spans *sp, const uint64_t *seeds, size_t nk, size_t jb,
                                               size_t cb) {
    sp->seeds = seeds;
    sp->nk = nk;
    sp->k = 0;
    sp->j = jb;
    sp->c = cb;
    sp->w = 0;
}

/* Buffers span n of sp: columns [j0, j1) of plane c. */
DROPBLOCK__INTERNAL void dropblock__push_span(dropblock__spans *sp, size_t n, size_t c, size_t hw, size_t j0, size_t j1) {
    sp->pos[n] = c * hw + j0;
    sp->len[n] = j1 - j0;
    sp->ch[n] = c;
}

/* The next spans into sp; returns how many (0: no more). With a slice,
   sets all the remaining spans of planes [c0, c1) in it at bit off instead
   (a chunk that covers one row only: buffering would only cost). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline)) /* its own registers: inlined into the build it spills (1.4x slower at block 1) */
#endif
static size_t dropblock__next_spans(const dropblock__geom *g, dropblock__spans *sp, uint64_t *slice, size_t off,
                                    size_t c0, size_t c1) {
    const size_t cm = g->cm, W = g->w, hw = g->h * g->w, ow = g->ow, bw = g->bw; /* locals: stores could alias */
    size_t n = 0, k = sp->k, jw = sp->j, cw = sp->c;
    uint64_t w = sp->w;
    for (;;) {
        if (w && cw + 64 <= cm) { /* the word's seeds share pixel jw: one span of columns for all */
            size_t j0, j1;
            dropblock__span(jw, ow, bw, W, &j0, &j1);
            if (slice) { /* only planes [c0, c1): bits c0 - cw .. c1 - cw - 1 of the word */
                const size_t base = off + cw * hw + j0;
                const size_t lo = c0 > cw ? c0 - cw : 0, hi = c1 > cw ? c1 - cw : 0;
                w &= dropblock__low_bits(hi < 64 ? hi : 64) & ~dropblock__low_bits(lo < 64 ? lo : 64);
                for (; w; w &= w - 1) dropblock__set_run(slice, base + dropblock__ctz64(w) * hw, j1 - j0);
            } else
                for (; w && n < DROPBLOCK__SPANS; w &= w - 1) dropblock__push_span(sp, n++, cw + dropblock__ctz64(w), hw, j0, j1);
        }
        for (; w && (slice || n < DROPBLOCK__SPANS); w &= w - 1) {
            size_t c = cw, j = jw, j0, j1;
            dropblock__advance(&j, &c, dropblock__ctz64(w), cm);
            dropblock__span(j, ow, bw, W, &j0, &j1);
            if (!slice)
                dropblock__push_span(sp, n++, c, hw, j0, j1);
            else if (c >= c0 && c < c1)
                dropblock__set_run(slice, off + c * hw + j0, j1 - j0);
        }
        if (w || k >= sp->nk) break; /* the buffer is full, or no word is left */
        if (k) dropblock__advance(&jw, &cw, 64, cm);
        w = sp->seeds[k++];
    }
    sp->k = k;
    sp->j = jw;
    sp->c = cw;
    sp->w = w;
    return n;
}

/* Sets the first n spans of sp in rows i0 .. i1-1 of the planes [c0, c1)
   of a channel-major slice. */
DROPBLOCK__INTERNAL void dropblock__paint_planes(const dropblock__geom *g, uint64_t *slice, const dropblock__spans *sp,
                                                 size_t n, size_t c0, size_t c1, size_t i0, size_t i1) {
    size_t q, i;
    for (q = 0; q < n; ++q)
        if (sp->ch[q] >= c0 && sp->ch[q] < c1)
            for (i = i0; i < i1; ++i) dropblock__set_run(slice, sp->pos[q] + i * g->w, sp->len[q]);
}

/* The planes [c0, c1) of channel-major slice s held by bands [b0, b1). */
DROPBLOCK__INTERNAL void dropblock__slice_planes(const dropblock__geom *g, size_t s, size_t b0, size_t b1, size_t *c0,
                                                 size_t *c1) {
    size_t e;
    *c0 = 0;
    *c1 = g->cm;
    if (s == b0 / g->plane_bands) dropblock__band_planes(g, b0, c0, &e);
    if (s == (b1 - 1) / g->plane_bands) dropblock__band_planes(g, b1 - 1, &e, c1);
}

/* Paints the seeds of a chunk (sp, freshly initialised) into rows i0 ..
   i1-1 of slices z0 .. z1-1 of map sample mn of a channel-major mask, in
   the planes that bands [b0, b1) hold. A chunk that covers one row sets
   its spans as it finds them. */
DROPBLOCK__INTERNAL void dropblock__paint_chunk_planes(const dropblock__geom *g, uint64_t *rows, dropblock__spans *sp,
                                                       size_t mn, size_t z0, size_t z1, size_t i0, size_t i1,
                                                       size_t b0, size_t b1) {
    size_t n, z, c0, c1;
    if (z1 - z0 == 1 && i1 - i0 == 1) {
        dropblock__slice_planes(g, mn * g->d + z0, b0, b1, &c0, &c1);
        (void)dropblock__next_spans(g, sp, rows + (mn * g->d + z0) * g->slice_words, i0 * g->w, c0, c1);
        return;
    }
    while ((n = dropblock__next_spans(g, sp, NULL, 0, 0, 0)) != 0)
        for (z = z0; z < z1; ++z) {
            dropblock__slice_planes(g, mn * g->d + z, b0, b1, &c0, &c1);
            dropblock__paint_planes(g, rows + (mn * g->d + z) * g->slice_words, sp, n, c0, c1, i0, i1);
        }
}

/* ORs a chunk's seed words kc .. kc+nk-1 into a pixel-major row at bit off. */
DROPBLOCK__INTERNAL void dropblock__paint_row(uint64_t *band, size_t off, const uint64_t *seeds, size_t kc, size_t nk) {
    size_t k;
    if (!(off & 63))
        dropblock__or_words(band + (off >> 6) + kc, seeds, nk);
    else
        for (k = 0; k < nk; ++k) dropblock__or64(band, off + 64 * (kc + k), seeds[k]);
}

/* ---- channel-major masks, painted densely -------------------------------------
   Painting seed by seed costs per seed and per row of its block: at small
   blocks (many seeds) a channel-major build took 3 to 7 times as long as a
   pixel-major one. Where AVX-512 is available, the map channels come in
   whole groups of 64 (a seed word is then 64 channels of one pixel), the
   blocks are 2-D and a plane has at most DROPBLOCK__DENSE pixels, a build
   may instead take the planes in groups of 64: it draws a group's seed
   words into a plane of words (word p = pixel p, bit c = channel c),
   dilates it as a pixel-major row is dilated (by word shifts), transposes
   it in 64x64 tiles and writes those of its planes that are the part's,
   whole, as one stream of bits. That costs per element whatever the
   seeds, so it is chosen only where it is expected to cost less than
   painting seed by seed (dropblock__dense). */
#define DROPBLOCK__DENSE 1024u

#ifdef DROPBLOCK__AVX512
/* One swap of a 64x64 bit transpose between the words of two vectors:
   the bits of a under m << j trade places with the bits of b under m. */
__attribute__((target("avx512f"), always_inline)) static inline void
dropblock__swap_wide(dropblock__v8 *a, dropblock__v8 *b, unsigned j, uint64_t m) {
    const dropblock__v8 x = ((*a >> j) ^ *b) & m;
    *a ^= x << j;
    *b ^= x;
}

/* The same between the lanes of one vector that `pair` brings together
   (keep: m in the lower lane of each pair). The permute is in its
   zero-masking form: the plain one trips GCC bug 105593 in C++. */
__attribute__((target("avx512f"), always_inline)) static inline dropblock__v8
dropblock__swap_narrow(dropblock__v8 v, dropblock__v8 pair, unsigned j, dropblock__v8 keep) {
    const __m512i y = _mm512_maskz_permutexvar_epi64((__mmask8)0xFF, (__m512i)pair, (__m512i)v);
    const dropblock__v8 x = ((v >> j) ^ (dropblock__v8)y) & keep;
    return v ^ (x << j) ^ (dropblock__v8)_mm512_maskz_permutexvar_epi64((__mmask8)0xFF, (__m512i)pair, (__m512i)x);
}

/* Transposes a 64x64 bit matrix in place: bit c of a[p] <-> bit p of a[c].
   Swaps the off-diagonal halves, then the quarters of each half, and so
   on: the swaps 32, 16 and 8 apart pair whole vectors of eight words, the
   swaps 4, 2 and 1 apart the lanes of each vector. */
__attribute__((target("avx512f"))) static void dropblock__transpose64(uint64_t a[64]) {
    const dropblock__v8 p4 = {4, 5, 6, 7, 0, 1, 2, 3}, p2 = {2, 3, 0, 1, 6, 7, 4, 5}, p1 = {1, 0, 3, 2, 5, 4, 7, 6};
    const uint64_t m4 = UINT64_C(0x0F0F0F0F0F0F0F0F), m2 = UINT64_C(0x3333333333333333), m1 = UINT64_C(0x5555555555555555);
    const dropblock__v8 k4 = {m4, m4, m4, m4, 0, 0, 0, 0}, k2 = {m2, m2, 0, 0, m2, m2, 0, 0};
    const dropblock__v8 k1 = {m1, 0, m1, 0, m1, 0, m1, 0};
    dropblock__v8 v[8];
    size_t r;
    memcpy(v, a, sizeof v);
#pragma GCC unroll 4
    for (r = 0; r < 4; ++r) dropblock__swap_wide(&v[r], &v[r + 4], 32, UINT64_C(0x00000000FFFFFFFF));
#pragma GCC unroll 4
    for (r = 0; r < 4; ++r) /* vectors 0-2, 1-3, 4-6, 5-7 */
        dropblock__swap_wide(&v[r + r / 2 * 2], &v[r + r / 2 * 2 + 2], 16, UINT64_C(0x0000FFFF0000FFFF));
#pragma GCC unroll 4
    for (r = 0; r < 4; ++r) dropblock__swap_wide(&v[2 * r], &v[2 * r + 1], 8, UINT64_C(0x00FF00FF00FF00FF));
#pragma GCC unroll 8
    for (r = 0; r < 8; ++r)
        v[r] = dropblock__swap_narrow(dropblock__swap_narrow(dropblock__swap_narrow(v[r], p4, 4, k4), p2, 2, k2), p1, 1, k1);
    memcpy(a, v, sizeof v);
}

/* A bit stream being written: acc holds its `used` pending bits, o is
   the next word. */
typedef struct dropblock__bitstream {
    uint64_t acc, *o;
    unsigned used;
} dropblock__bitstream;

/* Appends plane c of a dilated, transposed group plane p (tile t word c:
   pixels 64t .. 64t+63 of plane c) to bit stream b. The bits past pixel
   hw must be 0 (they are: the padding words of p are never written). */
__attribute__((always_inline)) static inline dropblock__bitstream dropblock__put_plane(const uint64_t *p, size_t c,
                                                                                        size_t hw, dropblock__bitstream b) {
    const size_t full = hw / 64;
    const unsigned rest = (unsigned)(hw % 64);
    size_t t;
    for (t = 0; t < full; ++t) { /* v >> 1 >> (63 - used) is v >> (64 - used), and 0 when used = 0 */
        const uint64_t v = p[64 * t + c];
        *b.o++ = b.acc | v << b.used;
        b.acc = v >> 1 >> (63 - b.used);
    }
    if (rest) {
        const uint64_t v = p[64 * full + c];
        b.acc |= v << b.used;
        if (b.used + rest < 64) {
            b.used += rest;
            return b;
        }
        *b.o++ = b.acc;
        b.acc = v >> 1 >> (63 - b.used);
        b.used = b.used + rest - 64;
    }
    return b;
}

/* Draws the seed words of groups a .. a+na-1 at the nq seed pixels from
   q0: p[ga*span + q] is group a+ga at seed pixel q. Lane i of a chunk of
   the draw takes seed pixel i / ng, group a + i % ng (na <= ng, and ng, a
   power of two, divides DROPBLOCK__GROUPS), which off says, and its chunks
   are DROPBLOCK__GROUPS / ng pixels apart, so seed pixel q of group a+ga
   comes out in word q*ng + ga; lanes past the last pixel or group are
   drawn and dropped. */
DROPBLOCK__INTERNAL void dropblock__draw_planes(const dropblock__draw *dr, const dropblock__geom *g,
                                                const uint64_t off[DROPBLOCK__GROUPS], uint64_t q0, size_t nq,
                                                size_t a, size_t na, size_t ng, size_t span, uint64_t *p) {
    const size_t per = g->cm / 64, nqc = DROPBLOCK__GROUPS / ng;
    /* the draw writes 32 ceil(nq ng / 32) words: nq ng <= span ng <= DROPBLOCK__DENSE, a multiple of 32 */
    uint64_t w[DROPBLOCK__DENSE];
    size_t q, ga;
    dropblock__draw_avx512(dr->key, dr->t, q0 * per + a, nqc * per, (nq + nqc - 1) / nqc, off, w);
    for (q = 0; q < nq; ++q)
        for (ga = 0; ga < na; ++ga) p[ga * span + q] = w[q * ng + ga];
}

/* Builds the planes of bands [b0, b1) of a dense channel-major mask,
   writing every word of them. Compiled for AVX-512 (and BMI2: the bit
   stream's shifts by a count in a register, 3-5% of a build) with its
   helpers inlined, and kept out of the build that calls it (its 8 KiB
   plane and the 8 KiB its draw writes into would sit on that build's
   stack, and its code would change how the build's own loops compile). */
__attribute__((target("avx512f,avx512dq,bmi2"), flatten, noinline)) static void
dropblock__build_dense(const dropblock__geom *g, const dropblock__draw *dr, uint64_t m_first, size_t b0, size_t b1,
                       uint64_t *rows) {
    const size_t W = g->w, sw = g->sw, hw = g->h * g->w, span = (hw + 63) / 64 * 64, nq = g->sh * g->sw;
    uint64_t plane[DROPBLOCK__DENSE], off[DROPBLOCK__GROUPS];
    size_t ng = DROPBLOCK__GROUPS, s, i; /* groups of 64 planes at a time: a power of two */
    while (ng * span > DROPBLOCK__DENSE) ng /= 2;
    for (i = 0; i < DROPBLOCK__GROUPS; ++i) /* lane i: seed pixel i / ng, group i % ng (dropblock__draw_planes) */
        off[i] = i / ng * (g->cm / 64) + i % ng;
    for (s = b0 / g->plane_bands; s <= (b1 - 1) / g->plane_bands; ++s) {
        /* bd = 1: slice z has seed slice z (the seed grid along depth is d long) */
        const uint64_t q0 = ((m_first + s / g->d) * g->sd + s % g->d) * (uint64_t)nq; /* its first seed pixel */
        size_t c0, c1, a;
        dropblock__slice_planes(g, s, b0, b1, &c0, &c1);
        for (a = c0 / 64; 64 * a < c1; a += ng) {
            const size_t left = (c1 + 63) / 64 - a, na = left < ng ? left : ng;
            size_t ga;
            memset(plane, 0, na * span * sizeof *plane);
            dropblock__draw_planes(dr, g, off, q0, nq, a, na, ng, span, plane);
            for (ga = 0; ga < na; ++ga) {
                uint64_t *p = plane + ga * span;
                const size_t first = 64 * (a + ga); /* the group's first plane */
                const size_t lo = c0 > first ? c0 - first : 0, hi = c1 - first < 64 ? c1 - first : 64;
                dropblock__bitstream bs;
                size_t si, t, c;
                if (sw < W) /* seed rows of sw pixels to rows of W: seed pixel (si, j) to word si*W + j */
                    for (si = g->sh; si-- > 0;) {
                        memmove(p + si * W, p + si * sw, sw * sizeof *p);
                        memset(p + si * W + sw, 0, (W - sw) * sizeof *p);
                    }
                /* widen the seed rows: all at once where every block ends in its row (seeds in the valid
                   region, or blocks one pixel wide), else each alone */
                if (g->ow == 0 && sw + g->bw - 1 <= W)
                    dropblock__dilate_row(p, g->sh * W, 64, g->bw - 1, 1);
                else
                    for (si = 0; si < g->sh; ++si) {
                        dropblock__dilate_row(p + si * W, W, 64, g->ow, 0);
                        dropblock__dilate_row(p + si * W, W, 64, g->bw - 1 - g->ow, 1);
                    }
                dropblock__dilate_row(p, hw, 64 * W, g->oh, 0); /* then the rows down the plane */
                dropblock__dilate_row(p, hw, 64 * W, g->bh - 1 - g->oh, 1);
                for (t = 0; t < span / 64; ++t) dropblock__transpose64(p + 64 * t);
                bs.acc = 0; /* planes lo .. hi-1 in a row from their first word; they end on a word */
                bs.o = rows + s * g->slice_words + (first + lo) * hw / 64;
                bs.used = 0;
                for (c = lo; c < hi; ++c) bs = dropblock__put_plane(p, c, hw, bs);
            }
        }
    }
}
#endif

/* Whether a build takes the dense path: where it can, and where it is
   expected to cost less than painting seed by seed. Per plane, painting
   costs about 40 + 6 bh cycles a seed, for t / 2^32 of the plane's nq
   seed positions; the dense path about (span + 4096 / span) / 10 cycles,
   span = hw rounded up to 64 (fitted to measurements of 7x7 to 28x28
   planes at blocks 1 to 21 on AMD Zen 4). Both give the same bits. */
DROPBLOCK__INTERNAL int dropblock__dense(const dropblock__geom *g, const dropblock__draw *dr) {
    const size_t hw = g->h * g->w, span = (hw + 63) / 64 * 64;
    if (!dr->avx512 || !g->cmajor || g->cm % 64 || g->bd != 1 || hw > DROPBLOCK__DENSE) return 0;
#ifdef DROPBLOCK__AVX512
    if (!__builtin_cpu_supports("bmi2")) return 0; /* dropblock__build_dense is compiled for it */
#endif
    /* t < 2^32 (the AVX-512 draw's bound), nq <= hw <= 1024, bh <= 1024: under 2^55 */
    return dr->t * (g->sh * g->sw) * (40 + 6 * (uint64_t)g->bh) > (span + 4096 / span) * (UINT64_C(1) << 32) / 10;
}

/* Seed words drawn at a time before they are ORed into the rows they
   cover: one chunk is 16384 seeds (2 KiB, on the stack), so that the
   whole groups of a seed row that starts on a group (128 to 224 words in
   the usual shapes, 7x7 to 112x112) are one run of the AVX-512 draw. */
#define DROPBLOCK__CHUNK 256u

/* A build works through its bands in pieces of about this many words
   (256 KiB): small enough to stay in a core's L2 cache. */
#define DROPBLOCK__PIECE_WORDS 32768u

/* Builds bands [b0, b1) of a mask whose window starts at map sample m_first
   of the logical batch. Every seed row that covers one of their rows is
   drawn and painted into those of its rows that are in the bands (for a
   channel-major mask: into the planes of its slices that are in the
   bands), so the parts of a build never write each other's words. */
DROPBLOCK__INTERNAL void dropblock__build_bands_c(const dropblock__geom *g, uint64_t key, uint64_t t, uint64_t m_first,
                                                  size_t b0, size_t b1, uint64_t *rows, uint64_t *counts) {
    const size_t plane = g->d * g->h, len = g->sw * g->cm, words = (len + 63) / 64, pb = g->plane_bands;
    /* the rows of the bands: channel-major bands hold every row of their slices */
    const size_t r0 = g->cmajor ? b0 / pb * g->h : b0 * g->band_rows;
    const size_t r1 = g->cmajor ? (b1 - 1) / pb * g->h + g->h
                                : (b1 * g->band_rows < g->rows ? b1 * g->band_rows : g->rows);
    const int popcnt = dropblock__count_path();
    int dense;
    size_t mn, b;
    dropblock__draw dr;
    dropblock__spans sp;
    dropblock__spans_init(&sp, NULL, 0, 0, 0); /* set again for each chunk; defined for the analyzers */
    if (b0 >= b1) return;
    dropblock__draw_init(&dr, key, t);
    dense = dropblock__dense(g, &dr);
#ifdef DROPBLOCK__AVX512
    if (dense) dropblock__build_dense(g, &dr, m_first, b0, b1, rows);
#endif
    if (!dense)
        memset(rows + dropblock__band_word(g, b0), 0,
               (dropblock__band_word(g, b1) - dropblock__band_word(g, b0)) * sizeof(uint64_t));
    for (mn = r0 / plane; !dense && mn * plane < r1; ++mn) { /* seed rows painted one by one */
        /* the part's rows of map sample mn: q0 .. q1-1 as z*H + i */
        size_t q0 = (r0 > mn * plane ? r0 - mn * plane : 0), q1 = (r1 - mn * plane < plane ? r1 - mn * plane : plane);
        size_t za = q0 / g->h, ia = q0 % g->h, zb = (q1 - 1) / g->h, ib = (q1 - 1) % g->h;
        size_t sz, sz0, sz1, si, si0, si1, z, i;
        dropblock__seeds_over(za, zb, g->od, g->bd, g->sd, &sz0, &sz1);
        for (sz = sz0; sz < sz1; ++sz) {
            size_t z0, z1, ilo, ihi;
            dropblock__span(sz, g->od, g->bd, g->d, &z0, &z1);
            if (z0 < za) z0 = za;
            if (z1 > zb + 1) z1 = zb + 1;
            /* rows of the part in slices z0 .. z1-1 lie in ilo .. ihi */
            ilo = z1 - 1 > za ? 0 : ia;
            ihi = z0 < zb ? g->h - 1 : ib;
            dropblock__seeds_over(ilo, ihi, g->oh, g->bh, g->sh, &si0, &si1);
            for (si = si0; si < si1; ++si) {
                uint64_t p0 = (((m_first + mn) * g->sd + sz) * g->sh + si) * (uint64_t)len;
                size_t i0, i1, kc, jb = 0, cb = 0; /* the pixel and channel of chunk kc's first seed */
                dropblock__span(si, g->oh, g->bh, g->h, &i0, &i1);
                for (kc = 0; kc < words; kc += DROPBLOCK__CHUNK) {
                    uint64_t seeds[DROPBLOCK__CHUNK];
                    const size_t nk = words - kc < DROPBLOCK__CHUNK ? words - kc : DROPBLOCK__CHUNK;
                    size_t k;
                    int any;
                    if (p0 & 63)
                        for (k = 0; k < nk; ++k) seeds[k] = dropblock__seed_word(&dr, p0, kc + k, len);
                    else
                        dropblock__seed_words(&dr, p0, kc, nk, len, seeds);
                    any = dropblock__any(seeds, nk);
                    if (g->cmajor) {
                        if (any) {
                            dropblock__spans_init(&sp, seeds, nk, jb, cb);
                            dropblock__paint_chunk_planes(g, rows, &sp, mn, z0, z1, i0, i1, b0, b1);
                        }
                        dropblock__advance(&jb, &cb, 64 * nk, g->cm);
                        continue;
                    }
                    if (any)
                        for (z = z0; z < z1; ++z) {
                            size_t a = z * g->h + i0, e = z * g->h + i1; /* clipped to q0 .. q1-1 */
                            if (a < q0) a = q0;
                            if (e > q1) e = q1;
                            for (i = a; i < e; ++i) {
                                size_t off;
                                uint64_t *band = (uint64_t *)(uintptr_t)dropblock__row(g, rows, mn * plane + i, &off);
                                dropblock__paint_row(band, off, seeds, kc, nk);
                            }
                        }
                }
            }
        }
    }
    for (b = b0; b < b1; ++b) dropblock__finish_band(g, rows, counts, b, popcnt);
}

#ifdef DROPBLOCK__AVX512
/* The same build compiled for AVX-512, with every helper inlined into it
   (flatten), chosen at run time: its row passes then run eight words to a
   vector, and its variable shifts take BMI2's. Integer code only, so both
   give the same bits. */
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,popcnt,bmi2"), flatten)) static void
dropblock__build_bands_avx512(const dropblock__geom *g, uint64_t key, uint64_t t, uint64_t m_first, size_t b0,
                              size_t b1, uint64_t *rows, uint64_t *counts) {
    dropblock__build_bands_c(g, key, t, m_first, b0, b1, rows, counts);
}
#endif

DROPBLOCK__INTERNAL void dropblock__build_bands(const dropblock__geom *g, uint64_t key, uint64_t t, uint64_t m_first,
                                                size_t b0, size_t b1, uint64_t *rows, uint64_t *counts) {
#ifdef DROPBLOCK__AVX512
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt")) {
        dropblock__build_bands_avx512(g, key, t, m_first, b0, b1, rows, counts);
        return;
    }
#endif
    dropblock__build_bands_c(g, key, t, m_first, b0, b1, rows, counts);
}

/* ---- element types -----------------------------------------------------------
   The 16-bit conversions are integer code, identical on every platform; the
   x86 F16C path below computes the same bits (tests compare all 65536). */

/* binary16 to float, exactly. */
DROPBLOCK__INTERNAL float dropblock__half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    if (e == 0x1F) return dropblock__float_of(sign | 0x7F800000u | (m << 13));
    if (e == 0) {
        unsigned p = 0; /* subnormal m * 2^-24: normalise on the leading bit */
        if (m == 0) return dropblock__float_of(sign);
        while (!(m >> (p + 1) == 0)) ++p;
        return dropblock__float_of(sign | ((p + 103u) << 23) | ((m << (23 - p)) & 0x7FFFFFu));
    }
    return dropblock__float_of(sign | ((e + 112u) << 23) | (m << 13));
}

/* A double rounded to a 16-bit float with ebits exponent bits (5: binary16,
   8: bfloat16) and 15 - ebits mantissa bits, to nearest, ties to even;
   overflow gives Inf, a NaN keeps its sign and top payload bits and is made
   quiet. Integer arithmetic on the bits: the same result everywhere. */
DROPBLOCK__INTERNAL uint16_t dropblock__round16(double v, unsigned ebits) {
    const unsigned mbits = 15 - ebits;
    const int bias = (1 << (ebits - 1)) - 1;
    const uint32_t inf = ((1u << ebits) - 1) << mbits;
    uint64_t u, m, r, rem, half;
    uint32_t sign, out;
    int de, et, q;
    unsigned shift;
    memcpy(&u, &v, sizeof u);
    sign = (uint32_t)(u >> 63) << 15;
    de = (int)((u >> 52) & 0x7FF);
    m = u & dropblock__low_bits(52);
    if (de == 0x7FF)
        return (uint16_t)(sign | inf | (m ? (1u << (mbits - 1)) | (uint32_t)(m >> (52 - mbits)) : 0));
    if (de == 0) return (uint16_t)sign; /* binary64 subnormals are far below half a 16-bit ulp */
    et = de - 1023;
    if (et > bias) return (uint16_t)(sign | inf);
    m |= UINT64_C(1) << 52;                                   /* v = m * 2^(de - 1075) */
    q = (et > 1 - bias ? et : 1 - bias) - (int)mbits;         /* the target ulp is 2^q */
    shift = (unsigned)(q - (de - 1075));                      /* >= 52 - mbits */
    if (shift > 63) return (uint16_t)sign;                    /* below half an ulp */
    r = m >> shift;
    rem = m & dropblock__low_bits(shift);
    half = UINT64_C(1) << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    /* r ulps of 2^q: the exponent field of the smaller of et and the
       subnormal range, plus r (whose bit mbits is the implicit one; a carry
       out of the mantissa moves to the next exponent, as it should) */
    out = ((uint32_t)((et > 1 - bias ? et : 1 - bias) + bias - 1) << mbits) + (uint32_t)r;
    return (uint16_t)(sign | (out >= inf ? inf : out));
}

/* float to bfloat16, to nearest, ties to even; NaN made quiet. */
DROPBLOCK__INTERNAL uint16_t dropblock__float_to_bf16(float f) {
    uint32_t u = dropblock__bits_of(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/* R(s * X) of a kept 16-bit element (s != 1): a NaN is only made quiet,
   without a float multiply, whose NaN result differs between CPUs. */
DROPBLOCK__INTERNAL uint16_t dropblock__half_scaled(uint16_t h, float s) {
    if ((h & 0x7FFFu) > 0x7C00u) return (uint16_t)(h | 0x200u);
    return dropblock__round16((double)(dropblock__half_to_float(h) * s), 5);
}

DROPBLOCK__INTERNAL uint16_t dropblock__bf16_scaled(uint16_t b, float s) {
    if ((b & 0x7FFFu) > 0x7F80u) return (uint16_t)(b | 0x40u);
    return dropblock__float_to_bf16(dropblock__float_of((uint32_t)b << 16) * s);
}

/* ---- applying the mask -------------------------------------------------------
   The kernels take runs of up to 64 elements that are contiguous in x and
   y, with one mask bit each in a word w (bit k: element k kept). */

typedef struct dropblock__op {
    int kind;      /* a dropblock_dtype or DROPBLOCK__KEEP */
    size_t es;     /* element size in bytes */
    float s;       /* the scale (F32, F16, BF16) */
    double s64;    /* the scale (F64) */
    int copy;      /* s is exactly 1: kept elements are bit copies */
    int f16c;      /* the CPU has F16C */
    int avx512;    /* the CPU has AVX-512F and BW */
    int stream;    /* non-temporal stores (AVX-512 F32 and F64) */
} dropblock__op;

/* Whether kept elements are bit copies (the scale is exactly 1), read back
   through a volatile: a compiler that sees copy == (s == 1) may turn the
   kernels' copy ? x : x*s into x * (copy ? 1 : s) (clang -O2 did, once
   run64 was inlined into a caller), and that multiply quiets a signalling
   NaN. */
DROPBLOCK__INTERNAL int dropblock__copy_flag(const dropblock__op *op) {
    volatile int copy = op->kind == DROPBLOCK_F64 ? op->s64 == 1.0 : op->s == 1.0f;
    return copy;
}

/* y[k] = s*x[k] where bit k of w is set, +0.0f elsewhere, for k < len <= 64.
   The product is cleared with a bit mask, and s == 1 copies the bits of x
   (a multiply would quiet a signalling NaN). */
DROPBLOCK__INTERNAL void dropblock__f32_tail(const float *x, float *y, uint64_t w, float s, int copy, size_t len) {
    size_t k;
    for (k = 0; k < len; ++k) {
        uint32_t u;
        if (copy) /* the bits, not copy ? x : x*s, which clang folds into x * (copy ? 1 : s) */
            memcpy(&u, &x[k], sizeof u);
        else
            u = dropblock__bits_of(x[k] * s);
        u &= 0u - (uint32_t)((w >> k) & 1u);
        memcpy(&y[k], &u, sizeof u);
    }
}

/* The same for 64 elements; the SSE2 path computes the same IEEE products
   and masks, so both paths give the same bits. It is inlined twice, with
   copy a constant: a copy then moves integer lanes and has no multiply
   for a compiler to fold a select into (clang turns copy ? x : x*s into
   x * (copy ? 1 : s), which quiets signalling NaNs). */
#ifdef DROPBLOCK__SSE2
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline void dropblock__f32_64_sse2(const float *x, float *y, uint64_t w, __m128 vs, int copy) {
    size_t h, q;
    for (h = 0; h < 2; ++h) {
        const __m128i v = _mm_set1_epi32((int)(uint32_t)(w >> (32 * h)));
        __m128i sel = _mm_setr_epi32(1, 2, 4, 8);
        for (q = 0; q < 8; ++q) {
            const float *xq = x + 32 * h + 4 * q;
            const __m128i m = _mm_cmpeq_epi32(_mm_and_si128(v, sel), sel);
            const __m128i r = copy ? _mm_loadu_si128((const __m128i *)(const void *)xq)
                                   : _mm_castps_si128(_mm_mul_ps(_mm_loadu_ps(xq), vs));
            _mm_storeu_si128((__m128i *)(void *)(y + 32 * h + 4 * q), _mm_and_si128(r, m));
            sel = _mm_slli_epi32(sel, 4);
        }
    }
}
#endif

DROPBLOCK__INTERNAL void dropblock__f32_64(const float *x, float *y, uint64_t w, float s, int copy) {
#ifdef DROPBLOCK__SSE2
    if (copy)
        dropblock__f32_64_sse2(x, y, w, _mm_set1_ps(s), 1);
    else
        dropblock__f32_64_sse2(x, y, w, _mm_set1_ps(s), 0);
#else
    dropblock__f32_tail(x, y, w, s, copy, 64);
#endif
}

#ifdef DROPBLOCK__AVX512
/* Up to 64 F32 or F64 elements with AVX-512: the mask bits are the lanes'
   write masks, zeroing the dropped ones; the same IEEE products.
   stream: non-temporal stores where y is 64-byte aligned (outputs far
   larger than the caches, see DROPBLOCK_STREAM_BYTES). */
__attribute__((target("avx512f"))) static void dropblock__f32_avx512(const float *x, float *y, uint64_t w, float s,
                                                                    int copy, int stream, size_t len) {
    const __m512 vs = _mm512_set1_ps(s);
    const uint64_t live = dropblock__low_bits(len); /* a short run: masked loads and stores */
    size_t q;
    for (q = 0; q < 4 && 16 * q < len; ++q) {
        const __mmask16 m = (__mmask16)(w >> (16 * q)), l = (__mmask16)(live >> (16 * q));
        /* a copy moves integer lanes: copy ? v : v*s in float lanes is what
           clang folds into v * (copy ? 1 : s), which quiets signalling NaNs */
        const __m512i r = copy ? _mm512_maskz_mov_epi32(m, _mm512_maskz_loadu_epi32(l, x + 16 * q))
                               : _mm512_castps_si512(_mm512_maskz_mul_ps(m, _mm512_maskz_loadu_ps(l, x + 16 * q), vs));
        if (l != 0xFFFF) /* only the short run's lanes: a masked store (slow on AMD, so only here) */
            _mm512_mask_storeu_epi32(y + 16 * q, l, r);
        else if (stream && !((uintptr_t)(y + 16 * q) & 63))
            _mm512_stream_si512((__m512i *)(void *)(y + 16 * q), r);
        else
            _mm512_storeu_si512(y + 16 * q, r);
    }
}

__attribute__((target("avx512f"))) static void dropblock__f64_avx512(const double *x, double *y, uint64_t w,
                                                                    double s, int copy, int stream, size_t len) {
    const __m512d vs = _mm512_set1_pd(s);
    const uint64_t live = dropblock__low_bits(len);
    size_t q;
    for (q = 0; q < 8 && 8 * q < len; ++q) {
        const __mmask8 m = (__mmask8)(w >> (8 * q)), l = (__mmask8)(live >> (8 * q));
        const __m512i r = copy ? _mm512_maskz_mov_epi64(m, _mm512_maskz_loadu_epi64(l, x + 8 * q))
                               : _mm512_castpd_si512(_mm512_maskz_mul_pd(m, _mm512_maskz_loadu_pd(l, x + 8 * q), vs));
        if (l != 0xFF)
            _mm512_mask_storeu_epi64(y + 8 * q, l, r);
        else if (stream && !((uintptr_t)(y + 8 * q) & 63))
            _mm512_stream_si512((__m512i *)(void *)(y + 8 * q), r);
        else
            _mm512_storeu_si512(y + 8 * q, r);
    }
}

/* 64 binary16 elements: F16C's widening, multiply and narrowing (see
   dropblock__f16_64_f16c), 16 to a 512-bit vector, the mask bits applied to
   the narrowed halves by AVX-512BW's zeroing move. On AMD Zen 4 any masked
   float operation in this loop costs a third more than the move (256-bit
   conversions with a masked multiply ran at 1.56 F16C streams, this at
   1.25). */
__attribute__((target("avx512f,avx512bw,avx512vl,f16c"))) static inline void
dropblock__f16_64_avx512(const uint16_t *x, uint16_t *y, uint64_t w, float s) {
    const __m512 vs = _mm512_set1_ps(s);
    const __mmask16 all = 0xFFFF; /* the masked conversions: the plain ones trip GCC bug 105593 */
    size_t q;
    for (q = 0; q < 4; ++q) {
        const __m512 f = _mm512_maskz_cvtph_ps(all, _mm256_loadu_si256((const __m256i *)(const void *)(x + 16 * q)));
        const __m256i h = _mm512_maskz_cvtps_ph(all, _mm512_mul_ps(f, vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256((__m256i *)(void *)(y + 16 * q), _mm256_maskz_mov_epi16((__mmask16)(w >> (16 * q)), h));
    }
}

/* 64 bfloat16 elements, 32 to a vector: each widened to float by
   interleaving it with a zero below, multiplied, rounded to nearest even
   in integer lanes (as dropblock__bf16_scaled) and packed back (the pack
   undoes the interleave's order); a NaN is only made quiet, and the mask
   bits are the final move's zeroing write mask. The masked shifts, because
   the unmasked ones trip GCC bug 105593 (see the draw). */
__attribute__((target("avx512f,avx512bw"))) static inline void
dropblock__bf16_64_avx512(const uint16_t *x, uint16_t *y, uint64_t w, float s) {
    const __m512 vs = _mm512_set1_ps(s);
    const __m512i zero = _mm512_setzero_si512(), half = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1);
    const __m512i abs = _mm512_set1_epi16(0x7FFF), inf = _mm512_set1_epi16(0x7F80), quiet = _mm512_set1_epi16(0x40);
    const __mmask16 all = 0xFFFF;
    __m512i p[2], r[2];
    size_t q, k;
    for (q = 0; q < 2; ++q) {
        const __m512i b = _mm512_loadu_si512(x + 32 * q);
        p[0] = _mm512_unpacklo_epi16(zero, b);
        p[1] = _mm512_unpackhi_epi16(zero, b);
        for (k = 0; k < 2; ++k) {
            const __m512i v = _mm512_castps_si512(_mm512_mul_ps(_mm512_castsi512_ps(p[k]), vs));
            const __m512i lsb = _mm512_and_si512(_mm512_maskz_srli_epi32(all, v, 16), one);
            r[k] = _mm512_maskz_srli_epi32(all, _mm512_add_epi32(_mm512_add_epi32(v, half), lsb), 16);
        }
        _mm512_storeu_si512(y + 32 * q,
                            _mm512_maskz_mov_epi16((__mmask32)(w >> (32 * q)),
                                                   _mm512_mask_mov_epi16(_mm512_packus_epi32(r[0], r[1]),
                                                                         _mm512_cmpgt_epu16_mask(_mm512_and_si512(b, abs), inf),
                                                                         _mm512_or_si512(b, quiet))));
    }
}

/* A row's runs of 64 elements from bit pos of row (see dropblock__run_bits)
   in one vector function, the kernels inlined into it (flatten) with the
   run length a constant, so that their loads and stores are plain: one
   call a run cost a fifth of the pass, and masked stores are slow on AMD
   Zen 4. Returns the elements done (whole runs; none for a 16-bit copy,
   which has no vector kernel); the rest goes through dropblock__run64. */
__attribute__((target("avx512f,avx512bw,avx512vl,f16c"), flatten)) static size_t
dropblock__runs_avx512(const dropblock__op *op, const uint64_t *row, size_t pos, size_t len, const char *x, char *y) {
    /* locals: the stores to y could alias op, which the compiler would reload */
    const int kind = op->kind, copy = op->copy, stream = op->stream;
    const float s = op->s;
    const double s64 = op->s64;
    const size_t es = op->es;
    const size_t runs = len / 64;
    size_t k;
#define DROPBLOCK__RUNS(call) /* (call) on each run k: xk, yk and its mask word w */                          \
    for (k = 0; k < runs; ++k) {                                                                         \
        const uint64_t w = dropblock__bits64(row, pos + 64 * k);                                         \
        const void *xk = x + 64 * k * es;                                                                \
        void *yk = y + 64 * k * es;                                                                      \
        (call);                                                                                          \
    }
/* copy and stream as constants, each of their four cases its own
   straight-line loop: as variables, gcc and clang kept their branches in
   the loop over the 16 lanes, which in place ran at 1.6-2x the stream */
#define DROPBLOCK__RUNS_WIDE(kernel, type, scale)                                                        \
    if (copy && stream)                                                                                  \
        DROPBLOCK__RUNS(kernel((const type *)xk, (type *)yk, w, scale, 1, 1, 64))                        \
    else if (copy)                                                                                       \
        DROPBLOCK__RUNS(kernel((const type *)xk, (type *)yk, w, scale, 1, 0, 64))                        \
    else if (stream)                                                                                     \
        DROPBLOCK__RUNS(kernel((const type *)xk, (type *)yk, w, scale, 0, 1, 64))                        \
    else                                                                                                 \
        DROPBLOCK__RUNS(kernel((const type *)xk, (type *)yk, w, scale, 0, 0, 64))
    switch (kind) { /* outside the loop: a switch per run cost 8% of the 16-bit passes */
    case DROPBLOCK_F32:
        DROPBLOCK__RUNS_WIDE(dropblock__f32_avx512, float, s)
        break;
    case DROPBLOCK_F64:
        DROPBLOCK__RUNS_WIDE(dropblock__f64_avx512, double, s64)
        break;
    case DROPBLOCK_F16:
        if (copy) return 0; /* no 16-bit vector copy kernel */
        DROPBLOCK__RUNS(dropblock__f16_64_avx512((const uint16_t *)xk, (uint16_t *)yk, w, s))
        break;
    default:
        if (copy) return 0;
        DROPBLOCK__RUNS(dropblock__bf16_64_avx512((const uint16_t *)xk, (uint16_t *)yk, w, s))
        break;
    }
#undef DROPBLOCK__RUNS_WIDE
#undef DROPBLOCK__RUNS
    return 64 * runs;
}
#endif

#ifdef DROPBLOCK__F16C
/* 64 binary16 elements with F16C: the same exact widening, float multiply
   and round-to-nearest-even narrowing (a NaN comes out quiet with its top
   payload bits, as in dropblock__half_scaled), then the mask. */
__attribute__((target("avx,f16c"))) static void dropblock__f16_64_f16c(const uint16_t *x, uint16_t *y, uint64_t w,
                                                                       float s) {
    const __m256 vs = _mm256_set1_ps(s);
    const __m128i sel = _mm_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128);
    size_t q;
    for (q = 0; q < 8; ++q) {
        __m256 f = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(x + 8 * q)));
        __m128i r = _mm256_cvtps_ph(_mm256_mul_ps(f, vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m128i b = _mm_set1_epi16((short)((w >> (8 * q)) & 0xFFu));
        __m128i m = _mm_cmpeq_epi16(_mm_and_si128(b, sel), sel);
        _mm_storeu_si128((__m128i *)(void *)(y + 8 * q), _mm_and_si128(r, m));
    }
}
#endif

/* Elements x[0 .. len) to y under w, len <= 64, for any kind. */
DROPBLOCK__INTERNAL void dropblock__run64(const dropblock__op *op, const void *x, void *y, uint64_t w, size_t len) {
    size_t k;
    switch (op->kind) {
    case DROPBLOCK_F32:
#ifdef DROPBLOCK__AVX512
        if (op->avx512) {
            dropblock__f32_avx512((const float *)x, (float *)y, w, op->s, op->copy, op->stream, len);
            return;
        }
#endif
        if (len == 64)
            dropblock__f32_64((const float *)x, (float *)y, w, op->s, op->copy);
        else
            dropblock__f32_tail((const float *)x, (float *)y, w, op->s, op->copy, len);
        return;
    case DROPBLOCK_F64:
#ifdef DROPBLOCK__AVX512
        if (op->avx512) {
            dropblock__f64_avx512((const double *)x, (double *)y, w, op->s64, op->copy, op->stream, len);
            return;
        }
#endif
        for (k = 0; k < len; ++k) {
            const double *xd = (const double *)x;
            uint64_t u;
            if (op->copy) { /* the bits (see dropblock__f32_tail) */
                memcpy(&u, xd + k, sizeof u);
            } else {
                double v = xd[k] * op->s64;
                memcpy(&u, &v, sizeof u);
            }
            u &= UINT64_C(0) - ((w >> k) & 1u);
            memcpy((double *)y + k, &u, sizeof u);
        }
        return;
    case DROPBLOCK_F16:
    case DROPBLOCK_BF16: {
        const uint16_t *xh = (const uint16_t *)x;
        uint16_t *yh = (uint16_t *)y;
#ifdef DROPBLOCK__AVX512
        if (op->kind == DROPBLOCK_F16 && op->avx512 && len == 64 && !op->copy) {
            dropblock__f16_64_avx512(xh, yh, w, op->s);
            return;
        }
#endif
#ifdef DROPBLOCK__F16C
        if (op->kind == DROPBLOCK_F16 && op->f16c && len == 64 && !op->copy) {
            dropblock__f16_64_f16c(xh, yh, w, op->s);
            return;
        }
#endif
#ifdef DROPBLOCK__AVX512
        if (op->kind == DROPBLOCK_BF16 && op->avx512 && len == 64 && !op->copy) {
            dropblock__bf16_64_avx512(xh, yh, w, op->s);
            return;
        }
#endif
        if (op->copy) { /* a branch-free loop the compiler vectorises */
            for (k = 0; k < len; ++k) yh[k] = (uint16_t)(xh[k] & (0u - (unsigned)((w >> k) & 1u)));
            return;
        }
        for (k = 0; k < len; ++k) {
            uint16_t v = op->kind == DROPBLOCK_F16 ? dropblock__half_scaled(xh[k], op->s)
                                                   : dropblock__bf16_scaled(xh[k], op->s);
            yh[k] = (uint16_t)(v & (0u - (unsigned)((w >> k) & 1u)));
        }
        return;
    }
    default: /* DROPBLOCK__KEEP */
        for (k = 0; k < len; ++k) ((uint8_t *)y)[k] = (uint8_t)((w >> k) & 1u);
        return;
    }
}

/* len contiguous elements, one mask bit each from bit pos of row. */
DROPBLOCK__INTERNAL void dropblock__run_bits(const dropblock__op *op, const uint64_t *row, size_t pos, size_t len,
                                             const char *x, char *y) {
    size_t e, n;
    if (!row && op->copy && op->kind != DROPBLOCK__KEEP) { /* no seed can occur: a plain copy */
        if (x != y) memcpy(y, x, len * op->es);
        return;
    }
#ifdef DROPBLOCK__AVX512
    if (op->avx512 && op->kind != DROPBLOCK__KEEP) {
        /* a long run takes its elements up to y's next 32-byte boundary
           first: a 512-bit store is two 256-bit ones on AMD Zen 4, and one
           of those across two cache lines made the in-place pass of data
           16 bytes past a boundary 1.2x slower (and the mask bits no
           longer start on a word then: peeling to 64 bytes cost more than
           it saved) */
        const size_t head = ((32 - (uintptr_t)y % 32) % 32) / op->es;
        size_t done;
        if (head && len >= 128) {
            dropblock__run64(op, x, y, dropblock__bits64(row, pos), head);
            pos += head;
            len -= head;
            x += head * op->es;
            y += head * op->es;
        }
        done = dropblock__runs_avx512(op, row, pos, len, x, y);
        pos += done;
        len -= done;
        x += done * op->es;
        y += done * op->es;
    }
#endif
    for (e = 0; e < len; e += n) {
        n = len - e < 64 ? len - e : 64;
        dropblock__run64(op, x + e * op->es, y + e * op->es, dropblock__bits64(row, pos + e), n);
    }
}

/* len contiguous elements that all share one mask bit. */
DROPBLOCK__INTERNAL void dropblock__run_same(const dropblock__op *op, uint64_t kept, size_t len, const char *x,
                                             char *y) {
    size_t e, n;
    if (!kept) {
        memset(y, 0, len * op->es); /* +0 in every type */
        return;
    }
    for (e = 0; e < len; e += n) {
        n = len - e < 64 ? len - e : 64;
        dropblock__run64(op, x + e * op->es, y + e * op->es, ~UINT64_C(0), n);
    }
}

/* npix contiguous pixels of c elements each, one mask bit per pixel from
   bit pos (the channels share a map): runs of equal bits at once. */
DROPBLOCK__INTERNAL void dropblock__run_pixels(const dropblock__op *op, const uint64_t *row, size_t pos, size_t npix,
                                               size_t c, const char *x, char *y) {
    size_t p = 0;
    while (p < npix) {
        uint64_t w = dropblock__bits64(row, pos + p);
        unsigned on = (unsigned)(w & 1u);
        size_t run = (w == (on ? ~UINT64_C(0) : 0)) ? 64 : dropblock__ctz64(on ? ~w : w);
        if (run > npix - p) run = npix - p;
        dropblock__run_same(op, on, run * c, x + p * c * op->es, y + p * c * op->es);
        p += run;
    }
}

/* len contiguous elements whose bits are every stride-th bit from pos (an
   NCHW channel row of a per-channel mask, which is stored NHWC). */
DROPBLOCK__INTERNAL void dropblock__run_strided(const dropblock__op *op, const uint64_t *row, size_t pos,
                                                size_t stride, size_t len, const char *x, char *y) {
    size_t e, n, k;
    for (e = 0; e < len; e += n) {
        uint64_t w = 0;
        n = len - e < 64 ? len - e : 64;
        for (k = 0; k < n; ++k) w |= dropblock__bit(row, pos + (e + k) * stride) << k;
        dropblock__run64(op, x + e * op->es, y + e * op->es, w, n);
    }
}

/* len contiguous elements whose bits are every stride-th bit from pos;
   stride 0: all share bit pos. */
DROPBLOCK__INTERNAL void dropblock__run_axis(const dropblock__op *op, const uint64_t *row, size_t pos, size_t stride,
                                             size_t len, const char *x, char *y) {
    if (stride == 0)
        dropblock__run_same(op, dropblock__bit(row, pos), len, x, y);
    else if (stride == 1)
        dropblock__run_bits(op, row, pos, len, x, y);
    else
        dropblock__run_strided(op, row, pos, stride, len, x, y);
}

/* Where the bit of (j, c) sits in a mask row: j*sj + c*sc. */
DROPBLOCK__INTERNAL void dropblock__bit_strides(const dropblock__geom *g, size_t *sj, size_t *sc) {
    *sj = g->cm == 1 || g->cmajor ? 1 : g->c;
    *sc = g->cm == 1 ? 0 : g->cmajor ? g->h * g->w : 1;
}

/* One tensor row (W pixels of C channels) under its mask row, the bits
   from bit off of row. xw, xc, yw, yc: element strides of the pixels and
   channels. Rows with contiguous channels (NHWC) or contiguous pixels
   (NCHW) take the word-at-a-time kernels; anything else goes element by
   element. */
DROPBLOCK__INTERNAL void dropblock__apply_row(const dropblock__op *op, const dropblock__geom *g, const uint64_t *row,
                                              size_t off, const char *x, ptrdiff_t xw, ptrdiff_t xc, char *y,
                                              ptrdiff_t yw, ptrdiff_t yc) {
    const size_t W = g->w, C = g->c, es = op->es;
    size_t j, c, sj, sc;
    dropblock__bit_strides(g, &sj, &sc);
    if (xc == 1 && yc == 1) {
        if (xw == (ptrdiff_t)C && yw == (ptrdiff_t)C && sc < 2) { /* the whole row is one run */
            if (sc == 0)
                dropblock__run_pixels(op, row, off, W, C, x, y);
            else
                dropblock__run_bits(op, row, off, W * C, x, y);
            return;
        }
        for (j = 0; j < W; ++j)
            dropblock__run_axis(op, row, off + j * sj, sc, C, x + (size_t)xw * j * es, y + (size_t)yw * j * es);
        return;
    }
    if (xw == 1 && yw == 1) {
        for (c = 0; c < C; ++c)
            dropblock__run_axis(op, row, off + c * sc, sj, W, x + (size_t)xc * c * es, y + (size_t)yc * c * es);
        return;
    }
    for (j = 0; j < W; ++j)
        for (c = 0; c < C; ++c)
            dropblock__run64(op, x + ((size_t)xw * j + (size_t)xc * c) * es, y + ((size_t)yw * j + (size_t)yc * c) * es,
                             dropblock__bit(row, off + j * sj + c * sc), 1);
}

/* nrows consecutive rows (mask rows r0 ..) of one channel plane stored as
   one contiguous run of nrows * W elements (NCHW with compact rows), the
   channel's bits contiguous in each row from bit pos (a pixel-major mask
   with one map channel, SHARE_CHANNELS; channel-major masks need no
   gather): their bits gathered across row ends, DROPBLOCK__GATHER words at
   a time, then applied as one run (in the row kernels' vector loops). */
#define DROPBLOCK__GATHER 64u
DROPBLOCK__INTERNAL void dropblock__run_plane(const dropblock__op *op, const dropblock__geom *g, const uint64_t *rows,
                                              size_t r0, size_t nrows, size_t pos, const char *x, char *y) {
    const size_t W = g->w, len = nrows * W;
    size_t e, n, j = 0, off = 0, in_band = r0 % g->band_rows;
    const uint64_t *band;
    uint64_t buf[DROPBLOCK__GATHER + 1]; /* and a zero word after the gathered ones, as the mask has one */
    size_t b = 0, b0 = 0; /* buf holds the bits of elements b0 .. b0 + 64b */
    if (!rows) { /* no seed can occur: nothing to gather */
        dropblock__run_bits(op, NULL, 0, len, x, y);
        return;
    }
    band = dropblock__row(g, rows, r0, &off);
    for (e = 0; e < len; e += n) {
        uint64_t w = 0;
        size_t filled = 0;
        n = len - e < 64 ? len - e : 64;
        while (filled < n) {
            size_t take = W - j < n - filled ? W - j : n - filled;
            w |= dropblock__get_bits(band, off + pos + j, take) << filled;
            filled += take;
            j += take;
            if (j == W) { /* on to the next row, in this band or the next */
                j = 0;
                off += g->row_bits;
                if (++in_band == g->band_rows) {
                    in_band = 0;
                    off = 0;
                    band += g->band_words;
                }
            }
        }
        buf[b++] = w;
        if (b == DROPBLOCK__GATHER || e + n == len) {
            buf[b] = 0; /* read when the run's alignment head leaves it off a word (dropblock__bits64) */
            dropblock__run_bits(op, buf, 0, e + n - b0, x + b0 * op->es, y + b0 * op->es);
            b = 0;
            b0 = e + n;
        }
    }
}

/* ---- the noise fill (DROPBLOCK_FILL_NOISE) ----------------------------------- */

/* The noise needs ln, sqrt and cos to far better than float precision, not
   to the last bit of double: the series and steps below stop at a relative
   error near 1e-12, a ten-thousandth of a float ulp. */

/* ln x for 0 < x <= 1 with basic IEEE operations only (no libm): x = m 2^k
   with m in [sqrt(1/2), sqrt(2)), and ln m = 2 atanh(s) with
   s = (m - 1) / (m + 1), |s| < 0.1716, summed to s^15. */
DROPBLOCK__INTERNAL double dropblock__ln(double x) {
    uint64_t u;
    double m, s, s2, p;
    int k, j;
    memcpy(&u, &x, sizeof u);
    k = (int)((u >> 52) & 0x7FFu) - 1023;
    u = (u & UINT64_C(0x000FFFFFFFFFFFFF)) | UINT64_C(0x3FF0000000000000);
    memcpy(&m, &u, sizeof m);
    if (m > 1.4142135623730951) {
        m /= 2.0;
        ++k;
    }
    s = (m - 1.0) / (m + 1.0);
    s2 = dropblock__mul(s, s);
    p = 1.0 / 15.0;
    for (j = 13; j >= 1; j -= 2) p = dropblock__mul(p, s2) + 1.0 / (double)j;
    return dropblock__mul((double)k, 0.6931471805599453) + dropblock__mul(2.0, dropblock__mul(s, p));
}

/* sqrt x for x >= 0 without libm: a first guess from halving the exponent
   (within 6%), then four Newton steps r = (r + x/r) / 2 (the error is
   squared each step; the fixed count keeps it deterministic). */
DROPBLOCK__INTERNAL double dropblock__sqrt(double x) {
    uint64_t u;
    double r;
    int k;
    if (!(x > 0.0)) return 0.0;
    memcpy(&u, &x, sizeof u);
    u = (u >> 1) + (UINT64_C(0x3FF) << 51);
    memcpy(&r, &u, sizeof r);
    for (k = 0; k < 4; ++k) r = (r + x / r) * 0.5;
    return r;
}

/* sin a and cos a for 0 <= a <= pi/4 by their Taylor series to a^13 and
   a^14. */
DROPBLOCK__INTERNAL void dropblock__sincos(double a, double *sn, double *cs) {
    static const double sc[] = {1.6059043836821613e-10, -2.505210838544172e-08, 2.7557319223985893e-06,
                                -0.0001984126984126984, 0.008333333333333333, -0.16666666666666666, 1.0};
    static const double cc[] = {-1.1470745597729725e-11, 2.08767569878681e-09, -2.755731922398589e-07,
                                2.48015873015873e-05, -0.001388888888888889, 0.041666666666666664, -0.5, 1.0};
    double a2 = dropblock__mul(a, a), ps = sc[0], pc = cc[0];
    int k;
    for (k = 1; k < 8; ++k) {
        if (k < 7) ps = dropblock__mul(ps, a2) + sc[k];
        pc = dropblock__mul(pc, a2) + cc[k];
    }
    *sn = dropblock__mul(ps, a);
    *cs = pc;
}

/* Noise for logical (NHWC-order) element e: a standard normal by
   Box-Muller, z = sqrt(-2 ln u1) cos(2 pi u2), from words 2e and 2e+1 of
   the noise stream (u1 = ((w >> 11) + 1) 2^-53 in (0, 1], u2 = (w >> 11)
   2^-53, its quadrant taken from the top bits so that the series only
   sees [0, pi/4]). Basic IEEE operations only, each product rounded on its
   own: the same bits wherever double is binary64, and no libm. Each type
   rounds this double once. */
DROPBLOCK__INTERNAL double dropblock__noise(uint64_t key, uint64_t e) {
    uint64_t x = dropblock__word_input(key, 2 * e);
    uint64_t w1 = dropblock__mix(x), n2 = dropblock__mix(x + DROPBLOCK__GOLDEN) >> 11;
    uint64_t f = n2 & dropblock__low_bits(51), half = UINT64_C(1) << 50; /* angle in the quadrant */
    unsigned q = (unsigned)(n2 >> 51);
    double u1 = dropblock__mul((double)((w1 >> 11) + 1u), 1.1102230246251565e-16); /* 2^-53 */
    double r = dropblock__sqrt(dropblock__mul(-2.0, dropblock__ln(u1))), sn, cs, c;
    /* pi/2 * f / 2^51; past pi/4, use the complement and swap sin and cos */
    dropblock__sincos(dropblock__mul((double)(f <= half ? f : (UINT64_C(1) << 51) - f), 6.975736996017264e-16), &sn,
                      &cs);
    if (f > half) {
        double t = sn;
        sn = cs;
        cs = t;
    }
    c = q == 0 ? cs : q == 1 ? -sn : q == 2 ? -cs : sn; /* cos(q pi/2 + angle) */
    return dropblock__mul(r, c);
}

/* Stores the noise value of a dropped element, rounded once to its type. */
DROPBLOCK__INTERNAL void dropblock__store_noise(int kind, char *y, double v) {
    float f;
    uint16_t h;
    switch (kind) {
    case DROPBLOCK_F32: f = (float)v; memcpy(y, &f, sizeof f); return;
    case DROPBLOCK_F64: memcpy(y, &v, sizeof v); return;
    default: h = dropblock__round16(v, kind == DROPBLOCK_F16 ? 5u : 8u); memcpy(y, &h, sizeof h); return;
    }
}

/* Fills the dropped elements of one tensor row with their noise. e0: the
   logical (NHWC-order, whole-batch) index of the row's first element. A
   bit of a map shared by the channels stands for all of them. */
DROPBLOCK__INTERNAL void dropblock__noise_row(const dropblock__op *op, const dropblock__geom *g, const uint64_t *row,
                                              size_t off, uint64_t key, uint64_t e0, char *y, ptrdiff_t yw,
                                              ptrdiff_t yc) {
    /* channel-major: cm runs of W bits, one per plane; else one run */
    const size_t C = g->c, runs = g->cmajor ? g->cm : 1, bits = g->cmajor ? g->w : g->w * g->cm;
    size_t b, c, q;
    for (q = 0; q < runs; ++q)
        for (b = 0; b < bits; b += 64) {
            uint64_t dropped = ~dropblock__bits64(row, off + q * g->h * g->w + b) & dropblock__low_bits(bits - b);
            while (dropped) {
                size_t bit = b + dropblock__ctz64(dropped);
                size_t j = g->cm == 1 || g->cmajor ? bit : bit / C;
                size_t c0 = g->cm == 1 ? 0 : g->cmajor ? q : bit % C, c1 = g->cm == 1 ? C : c0 + 1;
                dropped &= dropped - 1;
                for (c = c0; c < c1; ++c)
                    dropblock__store_noise(op->kind, y + ((size_t)yw * j + (size_t)yc * c) * op->es,
                                           dropblock__noise(key, e0 + j * C + c));
            }
        }
}

/* ---- the mask object ---------------------------------------------------------
   Workspace: the bands (see dropblock__geom) from its first 64-byte
   boundary, one zero word, then one kept count per band. A build's vector
   stores into rows that straddle cache lines made NHWC builds 17% slower,
   and an engine's workspace is seldom 64-byte aligned (malloc gives 16). */
#define DROPBLOCK__ROWS_ALIGN 64u

/* Asked at every mask_init, so never with the cpuid instruction: a
   hypervisor traps it (about 15 us here, a few percent of a forward pass).
   gcc's __builtin_cpu_supports knows F16C; clang's (up to 14) does not,
   and there AVX2 stands for it: every x86 CPU with AVX2 has F16C. */
#ifdef DROPBLOCK__F16C
DROPBLOCK__INTERNAL int dropblock__has_f16c(void) {
#ifdef __clang__
    return __builtin_cpu_supports("avx2");
#else
    return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
#endif
}
#endif

/* most := the larger of most and the workspace of a mask of `bands` bands
   of `words` words in all (counts, bands, a zero word, alignment slack); 0
   if that overflows. */
DROPBLOCK__INTERNAL int dropblock__ws_most(size_t bands, size_t words, size_t *most) {
    size_t bytes;
    if (words > (size_t)-1 / sizeof(uint64_t) - 1 - bands ||
        (bytes = (bands + words + 1) * sizeof(uint64_t)) > (size_t)-1 - (DROPBLOCK__ROWS_ALIGN - 1))
        return 0;
    if (bytes + DROPBLOCK__ROWS_ALIGN - 1 > *most) *most = bytes + DROPBLOCK__ROWS_ALIGN - 1;
    return 1;
}

/* Workspace bytes of a mask over checked sizes, whatever the config
   shares (the largest of its four layouts, in either order); 0 if that
   overflows. */
DROPBLOCK__INTERNAL size_t dropblock__ws_bytes(const int dims[5]) {
    size_t most = 0;
    int k;
    for (k = 0; k < 4; ++k) {
        size_t rows = (size_t)(k & 1 ? 1 : dims[0]) * (size_t)dims[1] * (size_t)dims[2]; /* <= the element count */
        size_t br, bands, bw, words, pk, pb, sw;
        if (!dropblock__bands(rows, (size_t)dims[3] * (size_t)(k & 2 ? 1 : dims[4]), &br, &bands, &bw, &words) ||
            !dropblock__ws_most(bands, words, &most))
            return 0;
        /* the channel-major order, where it applies */
        if (!(k & 2) && dropblock__plane_bands(rows / (size_t)dims[2], (size_t)dims[4], (size_t)dims[2] * (size_t)dims[3],
                                               &pk, &pb, &sw, &bands, &words) &&
            !dropblock__ws_most(bands, words, &most))
            return 0;
    }
    return most;
}

DROPBLOCK__INTERNAL dropblock_status dropblock__ws_size(const int dims[5], size_t *bytes) {
    size_t total;
    dropblock_status st = dropblock__count(dims, 1, &total);
    if (st != DROPBLOCK_OK) return st;
    *bytes = dropblock__ws_bytes(dims);
    return *bytes ? DROPBLOCK_OK : DROPBLOCK_ERR_OVERFLOW;
}

DROPBLOCK__INTERNAL void dropblock__mask_dims(const dropblock_mask *m, int dims[5]) {
    dims[0] = m->n_; dims[1] = m->d_; dims[2] = m->h_; dims[3] = m->w_; dims[4] = m->c_;
}

DROPBLOCK__INTERNAL void dropblock__mask_geom(const dropblock_mask *m, dropblock__geom *g) {
    int dims[5];
    size_t k, pb, sw, bands, words;
    dropblock__mask_dims(m, dims);
    dropblock__geometry(&m->cfg_, dims, g);
    if (m->cmajor_ && g->cm > 1 && g->w > 1 &&
        dropblock__plane_bands(g->nm * g->d, g->cm, g->h * g->w, &k, &pb, &sw, &bands, &words)) {
        g->cmajor = 1;
        g->plane_k = k;
        g->plane_bands = pb;
        g->slice_words = sw;
        g->bands = bands;
        g->mask_words = words;
    }
}

DROPBLOCK__INTERNAL size_t dropblock__mask_ws_bytes(const dropblock_mask *m) {
    int dims[5];
    dropblock__mask_dims(m, dims);
    return dropblock__ws_bytes(dims);
}

/* Validates cfg and the window (sizes dims, first sample n_offset of the
   logical batch) and fills m but for its threshold and workspace. */
DROPBLOCK__INTERNAL dropblock_status dropblock__mask_setup(dropblock_mask *m, const dropblock_config *cfg,
                                                           uint64_t step, const int dims[5], int64_t n_offset) {
    size_t total;
    dropblock_status st = dropblock__check_config(cfg, 0);
    if (st == DROPBLOCK_OK) st = dropblock__count(dims, 1, &total);
    if (st != DROPBLOCK_OK) return st;
    if (n_offset < 0) return DROPBLOCK_ERR_SHAPE;
    /* the logical batch's element indices (noise) and seed positions stay
       below 2^62 */
    if (((uint64_t)total - 1u) >> 62 != 0 || /* total > 2^62, also where size_t is 32 bits */
        (uint64_t)n_offset > ((UINT64_C(1) << 62) / ((uint64_t)total / (uint64_t)dims[0])) - (uint64_t)dims[0])
        return DROPBLOCK_ERR_OVERFLOW;
    if (!dropblock__ws_bytes(dims)) return DROPBLOCK_ERR_OVERFLOW;
    memset(m, 0, sizeof *m);
    m->cfg_ = *cfg;
    m->n_ = dims[0]; m->d_ = dims[1]; m->h_ = dims[2]; m->w_ = dims[3]; m->c_ = dims[4];
    m->n_offset_ = n_offset;
    m->key_ = dropblock__key(cfg->seed, step) ^ dropblock__mix(cfg->stream);
    return DROPBLOCK_OK;
}

/* The mask bit order that reads fastest for tensors strided like t (the
   mask is the same either way): channel-major when pixels are closer than
   channels. */
DROPBLOCK__INTERNAL int dropblock__channel_major(const dropblock_tensor *t) {
    return t->c > 1 && t->w > 1 && t->stride_c > t->stride_w;
}

/* The seed probability, threshold and expected kept fraction of a set-up
   mask. Solving for the exact rate costs far more than any check, so it
   comes after them. */
DROPBLOCK__INTERNAL void dropblock__mask_threshold(dropblock_mask *m, const dropblock__geom *g) {
    const dropblock_config *cfg = &m->cfg_;
    if (cfg->flags & DROPBLOCK_EXACT_RATE) {
        m->gamma_ = dropblock__gamma_exact((double)cfg->keep_prob, g);
        m->t_ = dropblock__threshold(m->gamma_);
    } else {
        m->gamma_ = dropblock__gamma((double)cfg->keep_prob, g);
        m->t_ = dropblock__paper_threshold(cfg->keep_prob, g);
    }
    m->expected_ = m->t_ && cfg->scale == DROPBLOCK_SCALE_EXPECTED ? dropblock__expected_keep(g, dropblock__no_seed(m->t_))
                                                                   : 1.0;
#ifdef DROPBLOCK__F16C
    m->f16c_ = dropblock__has_f16c();
#endif
#ifdef DROPBLOCK__AVX512
    m->avx512_ = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && m->f16c_; /* what its kernels are compiled for */
#endif
}

/* Points the mask at its workspace (only needed when a seed can occur). */
DROPBLOCK__INTERNAL void dropblock__mask_bind(dropblock_mask *m, const dropblock__geom *g, void *workspace) {
    uintptr_t p = (uintptr_t)workspace;
    m->rows_ = (uint64_t *)(void *)(p + (DROPBLOCK__ROWS_ALIGN - p % DROPBLOCK__ROWS_ALIGN) % DROPBLOCK__ROWS_ALIGN);
    m->rows_[g->mask_words] = 0;
    m->counts_ = m->rows_ + g->mask_words + 1;
}

/* The bytes a bound mask's workspace spans (for the overlap checks). */
DROPBLOCK__INTERNAL size_t dropblock__mask_span(const dropblock_mask *m, const dropblock__geom *g) {
    return m->rows_ ? (g->bands + g->mask_words + 1) * sizeof(uint64_t) : 0;
}

/* Kept elements of mask rows [r0, r1): the counts of the bands inside,
   a popcount of the rows of bands cut by the range (channel-major: r0 and
   r1 bound whole samples, as every caller's do, so whole bands). */
DROPBLOCK__INTERNAL uint64_t dropblock__kept_rows(const dropblock_mask *m, const dropblock__geom *g, size_t r0,
                                                  size_t r1) {
    uint64_t bits = 0;
    size_t b, r, off;
    if (g->cmajor) { /* whole samples: whole slices, whole bands */
        for (b = r0 / g->h * g->plane_bands; b < r1 / g->h * g->plane_bands; ++b) bits += m->counts_[b];
        return bits;
    }
    if (!g->band_rows) return 0; /* a set-up mask has bands: never, but the analyzer cannot know */
    for (b = r0 / g->band_rows; b * g->band_rows < r1; ++b) {
        size_t lo = b * g->band_rows, hi = lo + g->band_rows < g->rows ? lo + g->band_rows : g->rows;
        if (lo >= r0 && hi <= r1) {
            bits += m->counts_[b];
            continue;
        }
        for (r = lo > r0 ? lo : r0; r < (hi < r1 ? hi : r1); ++r) {
            const uint64_t *band = dropblock__row(g, m->rows_, r, &off);
            bits += dropblock__count_bits(band, off, g->row_bits);
        }
    }
    return bits * (uint64_t)(g->c / g->cm);
}

/* Kept elements of the mask's window. */
DROPBLOCK__INTERNAL uint64_t dropblock__kept(const dropblock_mask *m, const dropblock__geom *g) {
    if (!m->t_) return (uint64_t)g->total;
    return dropblock__kept_rows(m, g, 0, g->rows) * (uint64_t)(g->nm == 1 ? g->n : 1);
}

/* The scale mode in effect: as in timm, noise replaces and nothing rescales. */
DROPBLOCK__INTERNAL dropblock_scale dropblock__scale_mode(const dropblock_config *cfg) {
    return (cfg->flags & DROPBLOCK_FILL_NOISE) ? DROPBLOCK_SCALE_NONE : cfg->scale;
}

/* The s that forward applies to sample n of the window, in double. */
DROPBLOCK__INTERNAL double dropblock__scale(const dropblock_mask *m, const dropblock__geom *g, size_t n) {
    uint64_t kept, total;
    size_t plane = g->d * g->h, mn = g->nm == 1 ? 0 : n;
    if (!m->t_) return 1.0; /* identity: a bit-exact copy */
    switch (dropblock__scale_mode(&m->cfg_)) {
    case DROPBLOCK_SCALE_BATCH:
        kept = m->batch_total_ ? m->batch_kept_ : dropblock__kept(m, g);
        total = m->batch_total_ ? m->batch_total_ : (uint64_t)g->total;
        break;
    case DROPBLOCK_SCALE_SAMPLE:
        kept = dropblock__kept_rows(m, g, mn * plane, (mn + 1) * plane);
        total = (uint64_t)g->sample;
        break;
    case DROPBLOCK_SCALE_EXPECTED: return m->expected_ > 0.0 ? 1.0 / m->expected_ : 0.0;
    default: return 1.0;
    }
    return kept ? (double)total / (double)kept : 0.0;
}

/* Applies the built mask to tensor rows (sample, depth, row) of part `part`
   of x into y. kind: y's dtype, or DROPBLOCK__KEEP (x unused, y receives
   the keep bytes). noise: fill the dropped elements with noise. */
DROPBLOCK__INTERNAL void dropblock__apply_part(const dropblock_mask *m, const dropblock_tensor *x,
                                               const dropblock_tensor *y, int kind, int noise, int part, int parts) {
    const uint64_t nkey = dropblock__mix(m->key_ ^ UINT64_C(0x6A09E667F3BCC909));
    dropblock__geom g;
    dropblock__op op;
    size_t plane, r0, r1, r, seg_end, cur = (size_t)-1, sj, sc;
    ptrdiff_t xw, xc, yw, yc;
    int planes;
    const int per_sample = dropblock__scale_mode(&m->cfg_) == DROPBLOCK_SCALE_SAMPLE;
    if (!m->t_ && kind != DROPBLOCK__KEEP && dropblock__same_view(x, y)) return; /* identity in place */
    dropblock__mask_geom(m, &g);
    if (g.d == 0 || g.h == 0) return; /* sizes are >= 1: never, but the analyzer cannot know */
    plane = g.d * g.h;
    dropblock__cut(g.n * plane, part, parts, &r0, &r1);
    memset(&op, 0, sizeof op);
    op.kind = kind;
    op.es = dropblock__dtype_size(kind);
    op.f16c = m->f16c_;
    op.avx512 = m->avx512_;
    /* an output far larger than the caches, not read back soon: bypass them */
    op.stream = x->data != y->data && (double)g.total * (double)op.es >= (double)DROPBLOCK_STREAM_BYTES;
    /* strides of size-1 axes do not matter: pick ones that the row kernels'
       contiguous cases recognise */
    xc = g.c == 1 ? 1 : x->stride_c;
    yc = g.c == 1 ? 1 : y->stride_c;
    xw = g.w == 1 ? (xc == 1 ? (ptrdiff_t)g.c : 1) : x->stride_w;
    yw = g.w == 1 ? (yc == 1 ? (ptrdiff_t)g.c : 1) : y->stride_w;
    dropblock__bit_strides(&g, &sj, &sc);
    /* NCHW with compact channel planes: each channel's rows of a segment
       are one run */
    planes = xw == 1 && yw == 1 && x->stride_h == (ptrdiff_t)g.w && y->stride_h == (ptrdiff_t)g.w && sj == 1 && g.h > 1;
    for (r = r0; r < r1; r = seg_end) {
        size_t n = r / g.h / g.d, z = r / g.h % g.d, i0 = r % g.h, i, c;
        size_t mr = ((g.nm == 1 ? 0 : n) * g.d + z) * g.h; /* mask row of (n, z, 0) */
        const char *xs = (const char *)x->data + ((size_t)x->stride_n * n + (size_t)x->stride_d * z) * op.es;
        char *ys = (char *)y->data + ((size_t)y->stride_n * n + (size_t)y->stride_d * z) * op.es;
        seg_end = r - i0 + g.h < r1 ? r - i0 + g.h : r1; /* this (n, z) plane's rows of the part */
        /* the batch scale sums every band's count: once a part; only the
           sample scale changes with the sample */
        if (cur == (size_t)-1 || (n != cur && per_sample)) {
            op.s64 = dropblock__scale(m, &g, n);
            op.s = (float)op.s64;
            op.copy = dropblock__copy_flag(&op);
            cur = n;
        }
        if (planes && g.cmajor) { /* a plane's rows are one run of bits; whole planes in a row, too */
            size_t off = 0, nr = seg_end - r;
            const uint64_t *slice = m->t_ ? dropblock__row(&g, m->rows_, mr + i0, &off) : NULL;
            if (nr == g.h && xc == yc && (size_t)xc == g.h * g.w)
                dropblock__run_bits(&op, slice, off, g.c * g.h * g.w, xs, ys);
            else
                for (c = 0; c < g.c; ++c)
                    dropblock__run_bits(&op, slice, off + c * sc, nr * g.w, xs + ((size_t)xc * c + g.w * i0) * op.es,
                                        ys + ((size_t)yc * c + g.w * i0) * op.es);
        } else if (planes) {
            for (c = 0; c < g.c; ++c)
                dropblock__run_plane(&op, &g, m->t_ ? m->rows_ : NULL, mr + i0, seg_end - r, c * sc,
                                     xs + ((size_t)xc * c + g.w * i0) * op.es, ys + ((size_t)yc * c + g.w * i0) * op.es);
        }
        for (i = i0; i < i0 + (seg_end - r); ++i) {
            size_t off = 0;
            const uint64_t *row = m->t_ ? dropblock__row(&g, m->rows_, mr + i, &off) : NULL;
            const char *xr = xs + (size_t)x->stride_h * i * op.es;
            char *yr = ys + (size_t)y->stride_h * i * op.es;
            if (!planes) dropblock__apply_row(&op, &g, row, off, xr, xw, xc, yr, yw, yc);
            if (noise && row)
                dropblock__noise_row(&op, &g, row, off, nkey,
                                     ((((uint64_t)m->n_offset_ + n) * g.d + z) * g.h + i) * (uint64_t)(g.w * g.c), yr,
                                     yw, yc);
        }
    }
#ifdef DROPBLOCK__AVX512
    if (op.stream && op.avx512) _mm_sfence(); /* the part's streamed stores are visible when it returns */
#endif
}

/* mask_forward and mask_backward: checks, then one part. */
DROPBLOCK__INTERNAL dropblock_status dropblock__mask_apply(const dropblock_mask *m, const dropblock_tensor *x,
                                                           const dropblock_tensor *y, int part, int parts, int grad) {
    dropblock__geom g;
    size_t xspan, yspan, wspan;
    dropblock_status st;
    if (!m || !x || !y) return DROPBLOCK_ERR_NULL;
    st = dropblock__check_part(part, parts);
    if (st == DROPBLOCK_OK) st = dropblock__check_pair(x, y, &xspan, &yspan);
    if (st != DROPBLOCK_OK) return st;
    if (x->n != m->n_ || x->d != m->d_ || x->h != m->h_ || x->w != m->w_ || x->c != m->c_ ||
        x->n_offset != m->n_offset_)
        return DROPBLOCK_ERR_SHAPE;
    dropblock__mask_geom(m, &g);
    wspan = dropblock__mask_span(m, &g);
    if (dropblock__overlap(m->rows_, wspan, x->data, xspan) || dropblock__overlap(m->rows_, wspan, y->data, yspan))
        return DROPBLOCK_ERR_OVERLAP;
    dropblock__apply_part(m, x, y, y->dtype, !grad && (m->cfg_.flags & DROPBLOCK_FILL_NOISE), part, parts);
    return DROPBLOCK_OK;
}

/* One call of the tensor API on an executor (or this thread). */
typedef struct dropblock__job {
    const dropblock_mask *m;
    const dropblock_tensor *x, *y;
    int noise;
} dropblock__job;

DROPBLOCK__INTERNAL void dropblock__build_task(void *task, int part, int parts) {
    (void)dropblock_mask_build(((const dropblock__job *)task)->m, part, parts);
}

DROPBLOCK__INTERNAL void dropblock__apply_task(void *task, int part, int parts) {
    const dropblock__job *j = (const dropblock__job *)task;
    dropblock__apply_part(j->m, j->x, j->y, j->y->dtype, j->noise, part, parts);
}

DROPBLOCK__INTERNAL void dropblock__run(const dropblock_executor *exec, dropblock_task_fn fn, void *task) {
    if (exec)
        exec->parallel_for(exec->pool, fn, task, exec->parts);
    else
        fn(task, 0, 1);
}

DROPBLOCK__INTERNAL dropblock_status dropblock__tensor_call(const dropblock_config *cfg, uint64_t step,
                                                            const dropblock_tensor *x, const dropblock_tensor *y,
                                                            void *ws, size_t ws_bytes, const dropblock_executor *exec,
                                                            dropblock_stats *stats, int grad) {
    dropblock_mask m;
    dropblock__geom g;
    dropblock__job job;
    size_t xspan, yspan, need;
    void *owned = NULL;
    int dims[5];
    dropblock_status st;
    if (!cfg || !x || !y || (exec && !exec->parallel_for) || (!ws && ws_bytes)) return DROPBLOCK_ERR_NULL;
    if (exec && exec->parts < 1) return DROPBLOCK_ERR_PART;
    st = dropblock__check_pair(x, y, &xspan, &yspan);
    if (st != DROPBLOCK_OK) return st;
    dropblock__dims(x, dims);
    st = dropblock__mask_setup(&m, cfg, step, dims, x->n_offset);
    if (st != DROPBLOCK_OK) return st;
    m.cmajor_ = dropblock__channel_major(x);
    need = dropblock__ws_bytes(dims);
    if (!need) return DROPBLOCK_ERR_OVERFLOW;
    if (ws && ws_bytes < need) return DROPBLOCK_ERR_WORKSPACE;
    if (dropblock__overlap(ws, ws_bytes, x->data, xspan) || dropblock__overlap(ws, ws_bytes, y->data, yspan))
        return DROPBLOCK_ERR_OVERLAP;
    dropblock__mask_geom(&m, &g);
    dropblock__mask_threshold(&m, &g);
    job.m = &m;
    job.x = x;
    job.y = y;
    job.noise = !grad && (cfg->flags & DROPBLOCK_FILL_NOISE) != 0;
    if (m.t_) {
        if (!ws) ws = owned = DROPBLOCK_MALLOC(need);
        if (!ws) return DROPBLOCK_ERR_OUT_OF_MEMORY;
        dropblock__mask_bind(&m, &g, ws);
        dropblock__run(exec, dropblock__build_task, &job);
    }
    dropblock__run(exec, dropblock__apply_task, &job);
    if (stats) (void)dropblock_mask_stats(&m, stats);
    if (owned) DROPBLOCK_FREE(owned);
    return DROPBLOCK_OK;
}

/* ---- the 1.x calls over the mask object ----------------------------------- */

/* Checks a 1.x call (config, shape, sample range [n_begin, n_end)) and sets
   up the mask of that range as a window. dims: the whole tensor's sizes;
   *total: its element count. */
DROPBLOCK__INTERNAL dropblock_status dropblock__window(const dropblock_config *cfg, const int dims[5], uint64_t step,
                                                       int n_begin, int n_end, dropblock_mask *m, size_t *total) {
    int wd[5];
    dropblock_status st;
    if (!cfg) return DROPBLOCK_ERR_NULL;
    st = dropblock__check_config(cfg, 1);
    if (st == DROPBLOCK_OK) st = dropblock__count(dims, sizeof(float), total);
    if (st != DROPBLOCK_OK) return st;
    if (n_begin < 0 || n_begin >= n_end || n_end > dims[0]) return DROPBLOCK_ERR_RANGE;
    memcpy(wd, dims, sizeof wd);
    wd[0] = n_end - n_begin;
    st = dropblock__mask_setup(m, cfg, step, wd, n_begin);
    m->cmajor_ = cfg->layout == DROPBLOCK_NCHW;
    return st;
}

DROPBLOCK__INTERNAL dropblock_shape3d dropblock__lift(dropblock_shape s) {
    dropblock_shape3d r;
    r.n = s.n; r.d = 1; r.h = s.h; r.w = s.w; r.c = s.c;
    return r;
}

/* The descriptor of samples [n0, n0 + m->n_) of a contiguous 1.x tensor
   (elements of es bytes) in cfg->layout. */
DROPBLOCK__INTERNAL dropblock_tensor dropblock__tensor_1x(const dropblock_mask *m, const void *data, size_t es) {
    const size_t sample = (size_t)m->d_ * (size_t)m->h_ * (size_t)m->w_ * (size_t)m->c_;
    char *base = (char *)(uintptr_t)data + (size_t)m->n_offset_ * sample * es;
    dropblock_tensor t = m->cfg_.layout == DROPBLOCK_NCHW
                             ? dropblock_tensor_ncdhw(base, DROPBLOCK_F32, m->n_, m->c_, m->d_, m->h_, m->w_)
                             : dropblock_tensor_ndhwc(base, DROPBLOCK_F32, m->n_, m->d_, m->h_, m->w_, m->c_);
    t.n_offset = m->n_offset_;
    return t;
}

/* Every 1.x forward and backward entry point ends here: the mask object on
   the window [n_begin, n_end) of the tensor. mode: DROPBLOCK__ALLOC (no
   caller workspace: allocate one), DROPBLOCK__GRAD (backward). x, y and
   keep are whole tensors; only samples [n_begin, n_end) are touched. */
#define DROPBLOCK__ALLOC 1
#define DROPBLOCK__GRAD 2
DROPBLOCK__INTERNAL dropblock_status dropblock__call_1x(const dropblock_config *cfg, dropblock_shape3d shape,
                                                       uint64_t step, int n_begin, int n_end,
                                                       const uint64_t *total_kept, const float *x, float *y,
                                                       uint8_t *keep, void *ws, size_t ws_bytes, int mode) {
    const int dims[5] = {shape.n, shape.d, shape.h, shape.w, shape.c};
    dropblock_mask m;
    dropblock__geom g;
    dropblock_status st;
    dropblock_tensor xt, yt;
    void *owned = NULL;
    size_t total, bytes, need;
    if (!x || !y) return DROPBLOCK_ERR_NULL;
    st = dropblock__window(cfg, dims, step, n_begin, n_end, &m, &total);
    if (st != DROPBLOCK_OK) return st;
    bytes = total * sizeof(float);
    if ((x != y && dropblock__overlap(x, bytes, y, bytes)) || dropblock__overlap(keep, total, x, bytes) ||
        dropblock__overlap(keep, total, y, bytes))
        return DROPBLOCK_ERR_OVERLAP;
    dropblock__mask_geom(&m, &g);
    need = dropblock__mask_ws_bytes(&m);
    if (!need) return DROPBLOCK_ERR_OVERFLOW; /* checked at setup already */
    if (!(mode & DROPBLOCK__ALLOC)) {
        if (!ws) return DROPBLOCK_ERR_NULL;
        if (ws_bytes < need) return DROPBLOCK_ERR_WORKSPACE;
        if (dropblock__overlap(ws, ws_bytes, x, bytes) || dropblock__overlap(ws, ws_bytes, y, bytes) ||
            dropblock__overlap(ws, ws_bytes, keep, total))
            return DROPBLOCK_ERR_OVERLAP;
    }
    dropblock__mask_threshold(&m, &g);
    if (m.t_) {
        if (!ws) ws = owned = DROPBLOCK_MALLOC(need);
        if (!ws) return DROPBLOCK_ERR_OUT_OF_MEMORY;
        dropblock__mask_bind(&m, &g, ws);
        (void)dropblock_mask_build(&m, 0, 1);
    }
    if (total_kept && dropblock__scale_mode(cfg) == DROPBLOCK_SCALE_BATCH) {
        if (*total_kept < dropblock__kept(&m, &g) || *total_kept > (uint64_t)total) st = DROPBLOCK_ERR_KEPT;
        m.batch_kept_ = *total_kept;
        m.batch_total_ = (uint64_t)total;
    }
    if (st == DROPBLOCK_OK) {
        xt = dropblock__tensor_1x(&m, x, sizeof(float));
        yt = dropblock__tensor_1x(&m, y, sizeof(float));
        dropblock__apply_part(&m, &xt, &yt, DROPBLOCK_F32, !(mode & DROPBLOCK__GRAD) && (cfg->flags & DROPBLOCK_FILL_NOISE),
                              0, 1);
        if (keep) {
            yt = dropblock__tensor_1x(&m, keep, 1);
            dropblock__apply_part(&m, &yt, &yt, DROPBLOCK__KEEP, 0, 0, 1);
        }
    }
    if (owned) DROPBLOCK_FREE(owned);
    return st;
}

/* ---- public functions --------------------------------------------------- */

DROPBLOCK_API const char *dropblock_status_string(dropblock_status status) {
    switch ((int)status) {
#define DROPBLOCK__STATUS_CASE(name, value, text) case value: return text;
        DROPBLOCK__STATUS_LIST(DROPBLOCK__STATUS_CASE)
#undef DROPBLOCK__STATUS_CASE
    default: return "unknown status";
    }
}

DROPBLOCK_API dropblock_config dropblock_config_default(void) {
    dropblock_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.keep_prob = 0.9f;
    cfg.block_h = 7;
    return cfg;
}

/* A contiguous descriptor; order: the axes (0 n, 1 d, 2 h, 3 w, 4 c) from
   outermost to innermost. Sizes are not checked here (the calls that take
   the descriptor do), so the strides are computed in size_t. */
DROPBLOCK__INTERNAL dropblock_tensor dropblock__tensor(void *data, dropblock_dtype dtype, int n, int d, int h, int w,
                                                       int c, const int order[5]) {
    const int dims[5] = {n, d, h, w, c};
    size_t stride[5], s = 1;
    dropblock_tensor t;
    int k;
    for (k = 4; k >= 0; --k) {
        stride[order[k]] = s;
        s *= (size_t)dims[order[k]];
    }
    memset(&t, 0, sizeof t);
    t.data = data;
    t.dtype = dtype;
    t.n = n; t.d = d; t.h = h; t.w = w; t.c = c;
    t.stride_n = (ptrdiff_t)stride[0];
    t.stride_d = (ptrdiff_t)stride[1];
    t.stride_h = (ptrdiff_t)stride[2];
    t.stride_w = (ptrdiff_t)stride[3];
    t.stride_c = (ptrdiff_t)stride[4];
    return t;
}

static const int dropblock__channels_last[5] = {0, 1, 2, 3, 4};
static const int dropblock__channels_first[5] = {0, 4, 1, 2, 3};

DROPBLOCK_API dropblock_tensor dropblock_tensor_nhwc(void *data, dropblock_dtype dtype, int n, int h, int w, int c) {
    return dropblock__tensor(data, dtype, n, 1, h, w, c, dropblock__channels_last);
}

DROPBLOCK_API dropblock_tensor dropblock_tensor_nchw(void *data, dropblock_dtype dtype, int n, int c, int h, int w) {
    return dropblock__tensor(data, dtype, n, 1, h, w, c, dropblock__channels_first);
}

DROPBLOCK_API dropblock_tensor dropblock_tensor_ndhwc(void *data, dropblock_dtype dtype, int n, int d, int h, int w,
                                                      int c) {
    return dropblock__tensor(data, dtype, n, d, h, w, c, dropblock__channels_last);
}

DROPBLOCK_API dropblock_tensor dropblock_tensor_ncdhw(void *data, dropblock_dtype dtype, int n, int c, int d, int h,
                                                      int w) {
    return dropblock__tensor(data, dtype, n, d, h, w, c, dropblock__channels_first);
}

DROPBLOCK_API dropblock_status dropblock_mask_workspace_size(const dropblock_tensor *like, size_t *bytes) {
    int dims[5];
    if (!like || !bytes) return DROPBLOCK_ERR_NULL;
    dropblock__dims(like, dims);
    return dropblock__ws_size(dims, bytes);
}

DROPBLOCK_API dropblock_status dropblock_mask_init(dropblock_mask *m, const dropblock_config *cfg, uint64_t step,
                                                   const dropblock_tensor *like, void *workspace,
                                                   size_t workspace_bytes) {
    dropblock_mask tmp;
    dropblock__geom g;
    int dims[5];
    dropblock_status st;
    if (!m || !cfg || !like || !workspace) return DROPBLOCK_ERR_NULL;
    dropblock__dims(like, dims);
    st = dropblock__mask_setup(&tmp, cfg, step, dims, like->n_offset);
    if (st != DROPBLOCK_OK) return st;
    if (workspace_bytes < dropblock__ws_bytes(dims)) return DROPBLOCK_ERR_WORKSPACE;
    tmp.cmajor_ = dropblock__channel_major(like);
    dropblock__mask_geom(&tmp, &g);
    dropblock__mask_threshold(&tmp, &g);
    if (tmp.t_) dropblock__mask_bind(&tmp, &g, workspace);
    *m = tmp;
    return DROPBLOCK_OK;
}

DROPBLOCK_API dropblock_status dropblock_mask_build(const dropblock_mask *m, int part, int parts) {
    dropblock__geom g;
    size_t b0, b1, b, e, piece;
    dropblock_status st;
    if (!m) return DROPBLOCK_ERR_NULL;
    st = dropblock__check_part(part, parts);
    if (st != DROPBLOCK_OK || !m->t_) return st;
    dropblock__mask_geom(m, &g);
    dropblock__cut(g.bands, part, parts, &b0, &b1);
    /* in pieces of about DROPBLOCK__PIECE_WORDS, so that zeroing, painting
       and finishing a piece stay in the core's cache; a seed row over a
       piece boundary is drawn by both pieces, hence pieces of 8 blocks'
       height at least; channel-major pieces are whole slices where they
       can be (every seed row of a slice covers a row of each of its bands) */
    if (g.cmajor) {
        piece = (DROPBLOCK__PIECE_WORDS / g.slice_words + 1) * g.plane_bands;
    } else {
        piece = g.band_words ? DROPBLOCK__PIECE_WORDS / g.band_words : 1;
        if (g.band_rows && piece * g.band_rows < 8 * g.bh) piece = (8 * g.bh + g.band_rows - 1) / g.band_rows;
        if (piece == 0) piece = 1;
    }
    for (b = b0; b < b1; b = e) {
        e = b1 - b < piece ? b1 : b + piece;
        if (g.cmajor && e < b1 && e / g.plane_bands * g.plane_bands > b) e = e / g.plane_bands * g.plane_bands;
        dropblock__build_bands(&g, m->key_, m->t_,
                               (m->cfg_.flags & DROPBLOCK_SHARE_BATCH) ? 0 : (uint64_t)m->n_offset_, b, e, m->rows_,
                               m->counts_);
    }
    return DROPBLOCK_OK;
}

DROPBLOCK_API dropblock_status dropblock_mask_stats(const dropblock_mask *m, dropblock_stats *stats) {
    dropblock__geom g;
    if (!m || !stats) return DROPBLOCK_ERR_NULL;
    dropblock__mask_geom(m, &g);
    stats->kept = dropblock__kept(m, &g);
    stats->total = (uint64_t)g.total;
    stats->scale = dropblock__scale_mode(&m->cfg_) == DROPBLOCK_SCALE_SAMPLE ? 0.0 : dropblock__scale(m, &g, 0);
    stats->gamma = m->gamma_;
    return DROPBLOCK_OK;
}

DROPBLOCK_API dropblock_status dropblock_mask_set_batch(dropblock_mask *m, uint64_t kept, uint64_t total) {
    dropblock__geom g;
    uint64_t own_kept, own_total;
    if (!m) return DROPBLOCK_ERR_NULL;
    dropblock__mask_geom(m, &g);
    own_kept = dropblock__kept(m, &g);
    own_total = (uint64_t)g.total;
    if (kept > total || total < own_total || kept < own_kept || total - kept < own_total - own_kept)
        return DROPBLOCK_ERR_KEPT;
    m->batch_kept_ = kept;
    m->batch_total_ = total;
    return DROPBLOCK_OK;
}

DROPBLOCK_API dropblock_status dropblock_mask_forward(const dropblock_mask *m, const dropblock_tensor *x,
                                                      const dropblock_tensor *y, int part, int parts) {
    return dropblock__mask_apply(m, x, y, part, parts, 0);
}

DROPBLOCK_API dropblock_status dropblock_mask_backward(const dropblock_mask *m, const dropblock_tensor *dy,
                                                       const dropblock_tensor *dx, int part, int parts) {
    return dropblock__mask_apply(m, dy, dx, part, parts, 1);
}

DROPBLOCK_API dropblock_status dropblock_forward_tensor(const dropblock_config *cfg, uint64_t step,
                                                        const dropblock_tensor *x, const dropblock_tensor *y,
                                                        void *workspace, size_t workspace_bytes,
                                                        const dropblock_executor *exec, dropblock_stats *stats) {
    return dropblock__tensor_call(cfg, step, x, y, workspace, workspace_bytes, exec, stats, 0);
}

/* The mask and scale depend only on (config, sizes, window, step), never on
   the values, so backward is forward's map applied to dy (without the noise
   fill: no gradient flows into noise). */
DROPBLOCK_API dropblock_status dropblock_backward_tensor(const dropblock_config *cfg, uint64_t step,
                                                         const dropblock_tensor *dy, const dropblock_tensor *dx,
                                                         void *workspace, size_t workspace_bytes,
                                                         const dropblock_executor *exec) {
    return dropblock__tensor_call(cfg, step, dy, dx, workspace, workspace_bytes, exec, NULL, 1);
}

#ifdef DROPBLOCK__DLPACK_DECLARED
DROPBLOCK_API dropblock_status dropblock_tensor_from_dlpack(const DLTensor *t, dropblock_layout layout,
                                                            dropblock_tensor *out) {
    /* where n, d, h, w, c sit among the DLPack dimensions (-1: absent) */
    static const int pos[2][2][5] = {{{0, -1, 1, 2, 3}, {0, -1, 2, 3, 1}}, {{0, 1, 2, 3, 4}, {0, 2, 3, 4, 1}}};
    int64_t stride[5];
    int dims[5], k;
    ptrdiff_t st[5];
    dropblock_tensor r;
    dropblock_dtype dtype;
    if (!t || !out || !t->data || !t->shape) return DROPBLOCK_ERR_NULL;
    if (t->device.device_type != kDLCPU) return DROPBLOCK_ERR_DEVICE;
    if ((unsigned)layout > (unsigned)DROPBLOCK_NCHW) return DROPBLOCK_ERR_LAYOUT;
    if (t->ndim != 4 && t->ndim != 5) return DROPBLOCK_ERR_SHAPE;
    if (t->dtype.lanes != 1) return DROPBLOCK_ERR_DTYPE;
    if (t->dtype.code == kDLFloat && t->dtype.bits == 32) dtype = DROPBLOCK_F32;
    else if (t->dtype.code == kDLFloat && t->dtype.bits == 16) dtype = DROPBLOCK_F16;
    else if (t->dtype.code == kDLFloat && t->dtype.bits == 64) dtype = DROPBLOCK_F64;
    else if (t->dtype.code == kDLBfloat && t->dtype.bits == 16) dtype = DROPBLOCK_BF16;
    else return DROPBLOCK_ERR_DTYPE;
    for (k = 0; k < t->ndim; ++k)
        if (t->shape[k] < 1 || t->shape[k] > 0x7FFFFFFF) return DROPBLOCK_ERR_SHAPE;
    for (k = t->ndim - 1; k >= 0; --k) { /* compact strides unless given */
        if (t->strides) {
            stride[k] = t->strides[k];
        } else {
            stride[k] = k == t->ndim - 1 ? 1 : stride[k + 1] * t->shape[k + 1];
            if (k > 0 && stride[k] > PTRDIFF_MAX / t->shape[k]) return DROPBLOCK_ERR_OVERFLOW;
        }
        if (stride[k] < 0) return DROPBLOCK_ERR_STRIDE;
        if ((uint64_t)stride[k] > (uint64_t)PTRDIFF_MAX) return DROPBLOCK_ERR_OVERFLOW;
    }
    for (k = 0; k < 5; ++k) {
        int p = pos[t->ndim == 5][layout == DROPBLOCK_NCHW][k];
        dims[k] = p < 0 ? 1 : (int)t->shape[p];
        st[k] = p < 0 ? 0 : (ptrdiff_t)stride[p];
    }
    r = dropblock__tensor((char *)t->data + t->byte_offset, dtype, dims[0], dims[1], dims[2], dims[3], dims[4],
                          dropblock__channels_last);
    r.stride_n = st[0]; r.stride_d = st[1]; r.stride_h = st[2]; r.stride_w = st[3]; r.stride_c = st[4];
    *out = r;
    return DROPBLOCK_OK;
}
#endif

/* The 1.x entry points: the tensor API on F32 contiguous tensors in
   cfg->layout, with the mask regenerated by every call. */

DROPBLOCK_API dropblock_status dropblock_forward(const dropblock_config *cfg, dropblock_shape shape,
                                                 uint64_t step, const float *x, float *y,
                                                 uint8_t *keep_mask) {
    return dropblock__call_1x(cfg, dropblock__lift(shape), step, 0, shape.n, NULL, x, y, keep_mask, NULL, 0,
                              DROPBLOCK__ALLOC);
}

DROPBLOCK_API dropblock_status dropblock_backward(const dropblock_config *cfg, dropblock_shape shape,
                                                  uint64_t step, const float *dy, float *dx) {
    return dropblock__call_1x(cfg, dropblock__lift(shape), step, 0, shape.n, NULL, dy, dx, NULL, NULL, 0,
                              DROPBLOCK__ALLOC | DROPBLOCK__GRAD);
}

DROPBLOCK_API dropblock_status dropblock_workspace_size3d(dropblock_shape3d shape, size_t *bytes) {
    const int dims[5] = {shape.n, shape.d, shape.h, shape.w, shape.c};
    size_t total;
    dropblock_status st;
    if (!bytes) return DROPBLOCK_ERR_NULL;
    st = dropblock__count(dims, sizeof(float), &total);
    return st == DROPBLOCK_OK ? dropblock__ws_size(dims, bytes) : st;
}

DROPBLOCK_API dropblock_status dropblock_workspace_size(dropblock_shape shape, size_t *bytes) {
    return dropblock_workspace_size3d(dropblock__lift(shape), bytes);
}

DROPBLOCK_API dropblock_status dropblock_forward_ws(const dropblock_config *cfg, dropblock_shape shape,
                                                    uint64_t step, const float *x, float *y,
                                                    uint8_t *keep_mask, void *workspace,
                                                    size_t workspace_bytes) {
    return dropblock__call_1x(cfg, dropblock__lift(shape), step, 0, shape.n, NULL, x, y, keep_mask, workspace,
                              workspace_bytes, 0);
}

DROPBLOCK_API dropblock_status dropblock_backward_ws(const dropblock_config *cfg, dropblock_shape shape,
                                                     uint64_t step, const float *dy, float *dx,
                                                     void *workspace, size_t workspace_bytes) {
    return dropblock__call_1x(cfg, dropblock__lift(shape), step, 0, shape.n, NULL, dy, dx, NULL, workspace,
                              workspace_bytes, DROPBLOCK__GRAD);
}

DROPBLOCK_API dropblock_status dropblock_forward3d(const dropblock_config *cfg, dropblock_shape3d shape,
                                                   uint64_t step, const float *x, float *y,
                                                   uint8_t *keep_mask, void *workspace,
                                                   size_t workspace_bytes) {
    return dropblock__call_1x(cfg, shape, step, 0, shape.n, NULL, x, y, keep_mask, workspace, workspace_bytes, 0);
}

DROPBLOCK_API dropblock_status dropblock_backward3d(const dropblock_config *cfg, dropblock_shape3d shape,
                                                    uint64_t step, const float *dy, float *dx,
                                                    void *workspace, size_t workspace_bytes) {
    return dropblock__call_1x(cfg, shape, step, 0, shape.n, NULL, dy, dx, NULL, workspace, workspace_bytes,
                              DROPBLOCK__GRAD);
}

DROPBLOCK_API dropblock_status dropblock_count_kept(const dropblock_config *cfg, dropblock_shape shape,
                                                    uint64_t step, int n_begin, int n_end, void *workspace,
                                                    size_t workspace_bytes, uint64_t *kept) {
    const int dims[5] = {shape.n, 1, shape.h, shape.w, shape.c};
    dropblock_mask m;
    dropblock__geom g;
    size_t total;
    dropblock_status st;
    if (!workspace || !kept) return DROPBLOCK_ERR_NULL;
    st = dropblock__window(cfg, dims, step, n_begin, n_end, &m, &total);
    if (st != DROPBLOCK_OK) return st;
    dropblock__mask_geom(&m, &g);
    if (workspace_bytes < dropblock__mask_ws_bytes(&m)) return DROPBLOCK_ERR_WORKSPACE;
    dropblock__mask_threshold(&m, &g);
    if (m.t_) dropblock__mask_bind(&m, &g, workspace);
    (void)dropblock_mask_build(&m, 0, 1);
    *kept = dropblock__kept(&m, &g);
    return DROPBLOCK_OK;
}

DROPBLOCK_API dropblock_status dropblock_forward_range(const dropblock_config *cfg, dropblock_shape shape,
                                                       uint64_t step, int n_begin, int n_end,
                                                       uint64_t total_kept, const float *x, float *y,
                                                       uint8_t *keep_mask, void *workspace,
                                                       size_t workspace_bytes) {
    return dropblock__call_1x(cfg, dropblock__lift(shape), step, n_begin, n_end, &total_kept, x, y, keep_mask,
                              workspace, workspace_bytes, 0);
}

DROPBLOCK_API dropblock_status dropblock_backward_range(const dropblock_config *cfg, dropblock_shape shape,
                                                        uint64_t step, int n_begin, int n_end,
                                                        uint64_t total_kept, const float *dy, float *dx,
                                                        void *workspace, size_t workspace_bytes) {
    return dropblock__call_1x(cfg, dropblock__lift(shape), step, n_begin, n_end, &total_kept, dy, dx, NULL,
                              workspace, workspace_bytes, DROPBLOCK__GRAD);
}

/* The map geometry for the gamma helpers; 0 if an argument is invalid. */
DROPBLOCK__INTERNAL int dropblock__gamma_geometry(dropblock__geom *g, double p, int block_d, int block_h, int block_w, int d,
                                         int h, int w, unsigned flags) {
    if (!dropblock__unit_double(p) || !dropblock__blocks_ok(block_d, block_h, block_w) || d < 1 || h < 1 || w < 1 ||
        (flags & ~(unsigned)DROPBLOCK__KNOWN_FLAGS))
        return 0;
    dropblock__map(g, block_d, block_h, block_w, d, h, w, flags);
    return 1;
}

DROPBLOCK_API double dropblock_gamma(double keep_prob, int block_h, int block_w, int h, int w) {
    return dropblock_gamma3d(keep_prob, 1, block_h, block_w, 1, h, w);
}

DROPBLOCK_API double dropblock_gamma3d(double keep_prob, int block_d, int block_h, int block_w, int d, int h, int w) {
    dropblock__geom g;
    return dropblock__gamma_geometry(&g, keep_prob, block_d, block_h, block_w, d, h, w, 0) ? dropblock__gamma(keep_prob, &g)
                                                                                     : (double)NAN;
}

DROPBLOCK_API double dropblock_gamma_exact(double keep_prob, int block_h, int block_w, int h, int w,
                                           unsigned flags) {
    dropblock__geom g;
    return dropblock__gamma_geometry(&g, keep_prob, 1, block_h, block_w, 1, h, w, flags)
               ? dropblock__gamma_exact(keep_prob, &g)
               : (double)NAN;
}

DROPBLOCK_API double dropblock_expected_keep(double gamma, int block_h, int block_w, int h, int w,
                                             unsigned flags) {
    dropblock__geom g;
    return dropblock__gamma_geometry(&g, gamma, 1, block_h, block_w, 1, h, w, flags) ? dropblock__expected_keep(&g, 1.0 - gamma)
                                                                            : (double)NAN;
}

/* One axis of the max-pool along a strided line: dst[k] = 1 (or 0 when
   invert) if some src in [k - after, k + before] is nonzero. The read
   pointer runs `before` ahead of the write pointer, so dst == src works. */
DROPBLOCK__INTERNAL void dropblock__dilate(const uint8_t *src, uint8_t *dst, size_t len, size_t stride,
                                           size_t before, size_t after, int invert) {
    size_t k, r = 0, last = 0;
    int seen = 0;
    for (k = 0; k < len; ++k) {
        for (; r < len && r <= k + before; ++r)
            if (src[r * stride]) { last = r; seen = 1; }
        dst[k * stride] = (uint8_t)((seen && last + after >= k) ^ (invert != 0));
    }
}

DROPBLOCK_API dropblock_status dropblock_expand_mask(const uint8_t *seeds, int h, int w, int block_h,
                                                     int block_w, uint8_t *keep) {
    size_t H, W, bh, bw, i, j;
    if (!seeds || !keep) return DROPBLOCK_ERR_NULL;
    if (h < 1 || w < 1) return DROPBLOCK_ERR_SHAPE;
    if (!dropblock__blocks_ok(0, block_h, block_w)) return DROPBLOCK_ERR_BLOCK;
    H = (size_t)h; W = (size_t)w;
    if (H > (size_t)-1 / W) return DROPBLOCK_ERR_OVERFLOW;
    if (seeds != keep && dropblock__overlap(seeds, H * W, keep, H * W)) return DROPBLOCK_ERR_OVERLAP;
    bh = (size_t)block_h < H ? (size_t)block_h : H;
    bw = (size_t)dropblock__block_or_h(block_w, block_h);
    bw = bw < W ? bw : W;
    /* A seed at x drops x - floor((b-1)/2) .. x + floor(b/2): x covers k iff
       x in [k - b/2, k + (b-1)/2]. */
    for (i = 0; i < H; ++i) dropblock__dilate(seeds + i * W, keep + i * W, W, 1, (bw - 1) / 2, bw / 2, 0);
    for (j = 0; j < W; ++j) dropblock__dilate(keep + j, keep + j, H, W, (bh - 1) / 2, bh / 2, 1);
    return DROPBLOCK_OK;
}

DROPBLOCK_API float dropblock_keep_prob_linear(float final_keep_prob, uint64_t step, uint64_t ramp_steps) {
    if (step >= ramp_steps) return final_keep_prob;
    return (float)(1.0 - dropblock__mul((double)step / (double)ramp_steps, 1.0 - (double)final_keep_prob));
}

DROPBLOCK_API void dropblock_rng_init(dropblock_rng *rng, uint64_t seed, uint64_t stream) {
    if (!rng) return;
    rng->key_ = dropblock__key(seed, stream);
    rng->next_ = 0;
    rng->spare_ = 0;
    rng->has_spare_ = 0;
}

DROPBLOCK_API uint32_t dropblock_rng_next_u32(dropblock_rng *rng) {
    uint64_t w;
    if (!rng) return 0;
    if (rng->has_spare_) {
        rng->has_spare_ = 0;
        return (uint32_t)rng->spare_;
    }
    w = dropblock__word(rng->key_, rng->next_++);
    rng->spare_ = w >> 32;
    rng->has_spare_ = 1;
    return (uint32_t)w;
}

DROPBLOCK_API float dropblock_rng_uniform(dropblock_rng *rng) {
    return (float)(dropblock_rng_next_u32(rng) >> 8) * (1.0f / 16777216.0f);
}

DROPBLOCK_API size_t dropblock_bernoulli(dropblock_rng *rng, double p, uint8_t *out, size_t n) {
    uint64_t t = dropblock__threshold(p);
    size_t i, k, ones = 0;
    if (!rng || !out) return 0;
    rng->has_spare_ = 0;
    for (i = 0; i < n; i += 64) {
        size_t len = n - i < 64 ? n - i : 64;
        uint64_t live = dropblock__low_bits(len);
        uint64_t w = dropblock__draw_group(rng->key_, rng->next_, t, live);
        rng->next_ += 32;
        for (k = 0; k < len; ++k) out[i + k] = (uint8_t)((w >> k) & 1u);
        ones += dropblock__popcount64(w);
    }
    return ones;
}

#ifdef __cplusplus
}
#endif
#endif /* DROPBLOCK_IMPLEMENTATION */

/*
   ------------------------------------------------------------------------
   MIT License

   Copyright (c) 2026 the dropblock.h authors

   Permission is hereby granted, free of charge, to any person obtaining a
   copy of this software and associated documentation files (the
   "Software"), to deal in the Software without restriction, including
   without limitation the rights to use, copy, modify, merge, publish,
   distribute, sublicense, and/or sell copies of the Software, and to permit
   persons to whom the Software is furnished to do so, subject to the
   following conditions:

   The above copyright notice and this permission notice shall be included
   in all copies or substantial portions of the Software.

   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS
   OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
   MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN
   NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
   DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
   OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE
   USE OR OTHER DEALINGS IN THE SOFTWARE.
   ------------------------------------------------------------------------
*/
