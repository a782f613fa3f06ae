/* fashion_mnist.c - does DropBlock regularise a small CNN on real images?

   Data: Fashion-MNIST as Debian's dataset-fashion-mnist installs it
   (the four *-ubyte.gz files in /usr/share/datasets/fashion-mnist, read with zlib), or
   the directory given with --data. A training SUBSET of N_TRAIN images, so
   that the net overfits; the FULL test set (10 000 images) after every epoch.

   Net (NHWC, float): conv 3x3 1->C1, ReLU, max-pool 2 -> conv 3x3 C1->C2,
   ReLU, [regulariser] -> max-pool 2 -> linear 7*7*C2 -> 10, softmax
   cross-entropy; SGD with momentum, learning rate decaying linearly to 0.

   Three arms from the same initial weights and the same data order, for
   each of SEEDS seeds:
     none       no regulariser;
     dropout    DropBlock with block 1, which is plain dropout;
     dropblock  DropBlock with block DROPBLOCK_SIZE;
   both regularisers follow the paper's linear schedule, keep_prob 1 at step
   0 down to FINAL_KEEP_PROB at RAMP_EPOCHS (dropblock_keep_prob_linear).

   DropBlock goes through the 2.0 engine API: each training step builds a
   dropblock_mask on the batch's activations, in parts run by a pthread pool
   behind a dropblock_executor, applies it forward, keeps it, and applies the
   same mask to the gradient in the backward pass.

   Output: a table of the final test accuracy (mean +- sd over the seeds) and
   the train/test gap per arm, and a PNG of test accuracy per epoch
   (--plot PATH, default fashion_mnist.png; writer in examples/png.h).

   --smoke: one seed, SMOKE_TRAIN images, one epoch (the keep_prob ramp
   within it), SMOKE_TEST test images; exits 1 unless every arm reaches
   SMOKE_ACCURACY (the ctest check).
   Exit 77 (skipped) when the dataset is not installed. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "png.h"
#include "pool.h"

enum {
    SIDE = 28, PIX = SIDE * SIDE,   /* input images                        */
    HALF = SIDE / 2,                /* map side after the first pool        */
    QUART = HALF / 2,               /* after the second                     */
    C1 = 8, C2 = 32,                /* conv channels                        */
    CLASSES = 10,
    FEAT = QUART * QUART * C2,      /* inputs of the linear layer           */
    BATCH = 50,
    THREADS = 2,                    /* pool threads = parts of every split  */
    N_TRAIN = 2000, N_TEST = 10000, EPOCHS = 30, SEEDS = 3,
    RAMP_EPOCHS = 20,
    SMOKE_TRAIN = 2000, SMOKE_TEST = 2000,
    ARMS = 3,
    DROPBLOCK_SIZE = 5
};

#define FINAL_KEEP_PROB 0.8f
#define LEARNING_RATE 0.05f
#define MOMENTUM 0.9f
#define SMOKE_ACCURACY 0.60
#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

enum {
    P_W1 = 0,                       /* [3][3][1][C1]        */
    P_B1 = P_W1 + 9 * C1,
    P_W2 = P_B1 + C1,               /* [3][3][C1][C2]       */
    P_B2 = P_W2 + 9 * C1 * C2,
    P_W3 = P_B2 + C2,               /* [CLASSES][FEAT]      */
    P_B3 = P_W3 + CLASSES * FEAT,
    N_PARAMS = P_B3 + CLASSES
};

static const char *const arm_names[ARMS] = {"none", "dropout", "dropblock"};
static const int arm_blocks[ARMS] = {0, 1, DROPBLOCK_SIZE};

/* ---- data ------------------------------------------------------------------ */

typedef struct { float *x; unsigned char *y; int n; } dataset;

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the first `want` items of an IDX file (gzip); 0 on any error. */
static int read_idx(const char *path, uint32_t magic, int want, size_t item, unsigned char *out) {
    unsigned char head[16];
    size_t head_n = magic == 0x803 ? 16 : 8, bytes = (size_t)want * item;
    gzFile f = gzopen(path, "rb");
    int ok;
    if (!f) return 0;
    ok = gzread(f, head, (unsigned)head_n) == (int)head_n && be32(head) == magic && be32(head + 4) >= (uint32_t)want &&
         (magic != 0x803 || (be32(head + 8) == SIDE && be32(head + 12) == SIDE)) &&
         gzread(f, out, (unsigned)bytes) == (int)bytes;
    gzclose(f);
    return ok;
}

/* 1: loaded; 0: read error; -1: the files are not there. */
static int load(const char *dir, const char *prefix, int n, dataset *d) {
    char images[1024], labels[1024];
    unsigned char *raw = malloc((size_t)n * PIX);
    FILE *probe;
    int k, ok;
    snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    d->n = n;
    d->x = malloc(sizeof(float) * PIX * (size_t)n);
    d->y = malloc((size_t)n);
    if (!raw || !d->x || !d->y) { free(raw); return 0; }
    if (!(probe = fopen(images, "rb"))) {
        fprintf(stderr, "fashion_mnist: SKIPPED: %s not found (install Debian's dataset-fashion-mnist or pass --data DIR)\n",
                images);
        free(raw);
        return -1;
    }
    fclose(probe);
    ok = read_idx(images, 0x803, n, PIX, raw) && read_idx(labels, 0x801, n, 1, d->y);
    /* The training set's mean and standard deviation of a pixel. */
    for (k = 0; ok && k < n * PIX; ++k) d->x[k] = ((float)raw[k] / 255.0f - 0.2860f) / 0.3530f;
    for (k = 0; ok && k < n; ++k) ok = d->y[k] < CLASSES;
    if (!ok) fprintf(stderr, "fashion_mnist: %s or %s is not a valid IDX file\n", images, labels);
    free(raw);
    return ok;
}

/* ---- layers (one sample, NHWC) --------------------------------------------- */

/* 3x3 convolution with zero padding, then ReLU in place. */
static void conv_relu(const float *in, int side, int ci, const float *w, const float *b, int co, float *out) {
    int i, j, di, dj, a, o;
    for (i = 0; i < side; ++i)
        for (j = 0; j < side; ++j) {
            float *y = out + ((size_t)i * side + j) * co;
            memcpy(y, b, sizeof(float) * (size_t)co);
            for (di = 0; di < 3; ++di)
                for (dj = 0; dj < 3; ++dj) {
                    int ii = i + di - 1, jj = j + dj - 1;
                    const float *x, *k;
                    if (ii < 0 || ii >= side || jj < 0 || jj >= side) continue; /* before forming the address */
                    x = in + ((size_t)ii * side + jj) * ci;
                    k = w + (size_t)(di * 3 + dj) * ci * co;
                    for (a = 0; a < ci; ++a)
                        if (x[a] != 0.0f) /* ReLU inputs are mostly zero */
                            for (o = 0; o < co; ++o) y[o] += x[a] * k[a * co + o];
                }
            for (o = 0; o < co; ++o) y[o] = y[o] > 0.0f ? y[o] : 0.0f;
        }
}

/* dy: gradient at the ReLU output `out`; accumulates dw and db, and writes
   din (when not NULL, zeroed here first). */
static void conv_relu_backward(const float *in, int side, int ci, const float *w, int co, const float *out,
                               const float *dy, float *dw, float *db, float *din) {
    float d[C2];
    int i, j, di, dj, a, o;
    if (din) memset(din, 0, sizeof(float) * (size_t)side * side * ci);
    for (i = 0; i < side; ++i)
        for (j = 0; j < side; ++j) {
            size_t at = ((size_t)i * side + j) * co;
            int any = 0;
            for (o = 0; o < co; ++o) {
                d[o] = out[at + o] > 0.0f ? dy[at + o] : 0.0f;
                db[o] += d[o];
                any |= d[o] != 0.0f;
            }
            if (!any) continue;
            for (di = 0; di < 3; ++di)
                for (dj = 0; dj < 3; ++dj) {
                    int ii = i + di - 1, jj = j + dj - 1;
                    size_t xo = ((size_t)ii * side + jj) * ci, ko = (size_t)(di * 3 + dj) * ci * co;
                    if (ii < 0 || ii >= side || jj < 0 || jj >= side) continue;
                    for (a = 0; a < ci; ++a) {
                        const float *k = w + ko + (size_t)a * co;
                        float *g = dw + ko + (size_t)a * co, x = in[xo + a], s = 0.0f;
                        for (o = 0; o < co; ++o) { g[o] += x * d[o]; s += k[o] * d[o]; }
                        if (din) din[xo + a] += s;
                    }
                }
        }
}

/* 2x2 max-pool; arg receives the index in `in` of each maximum. */
static void pool2(const float *in, int side, int c, float *out, int *arg) {
    int i, j, k, di, dj, h = side / 2;
    for (i = 0; i < h; ++i)
        for (j = 0; j < h; ++j)
            for (k = 0; k < c; ++k) {
                int best = ((2 * i) * side + 2 * j) * c + k;
                for (di = 0; di < 2; ++di)
                    for (dj = 0; dj < 2; ++dj) {
                        int at = ((2 * i + di) * side + 2 * j + dj) * c + k;
                        if (in[at] > in[best]) best = at;
                    }
                out[(i * h + j) * c + k] = in[best];
                arg[(i * h + j) * c + k] = best;
            }
}

static void pool2_backward(const float *dout, const int *arg, int n_out, int n_in, float *din) {
    int k;
    memset(din, 0, sizeof(float) * (size_t)n_in);
    for (k = 0; k < n_out; ++k) din[arg[k]] += dout[k];
}

/* ---- the net on a batch ------------------------------------------------------ */

typedef struct {
    float a1[BATCH][PIX * C1];            /* conv1 + ReLU                       */
    float p1[BATCH][HALF * HALF * C1];
    int i1[BATCH][HALF * HALF * C1];
    float a2[BATCH][HALF * HALF * C2];    /* conv2 + ReLU                       */
    float r2[BATCH][HALF * HALF * C2];    /* regularised a2; then its gradient  */
    float p2[BATCH][FEAT];
    int i2[BATCH][FEAT];
    float prob[BATCH][CLASSES];
} activations;

typedef struct {
    pool *workers;
    const float *params;
    const float *x;            /* the batch's images                         */
    const unsigned char *y;    /* and labels                                 */
    int n;
    int regularised;           /* pool2 reads r2, not a2                     */
    int training;              /* head_part computes gradients               */
    activations *act;
    float grad[THREADS][N_PARAMS];
    float scratch[THREADS][2][HALF * HALF * C1 > PIX * C1 ? HALF * HALF * C1 : PIX * C1];
    double loss[THREADS];
    int hits[THREADS];
} batch_job;

static void sample_range(int n, int part, int parts, int *lo, int *hi) {
    *lo = (int)((long)n * part / parts);
    *hi = (int)((long)n * (part + 1) / parts);
}

static void features_part(void *task, int part, int parts) {
    batch_job *j = task;
    const float *p = j->params;
    int lo, hi, b;
    sample_range(j->n, part, parts, &lo, &hi);
    for (b = lo; b < hi; ++b) {
        conv_relu(j->x + (size_t)b * PIX, SIDE, 1, p + P_W1, p + P_B1, C1, j->act->a1[b]);
        pool2(j->act->a1[b], SIDE, C1, j->act->p1[b], j->act->i1[b]);
        conv_relu(j->act->p1[b], HALF, C1, p + P_W2, p + P_B2, C2, j->act->a2[b]);
    }
}

/* Pool, linear layer, softmax; with labels, also the loss, the gradient of
   the linear layer and the gradient at pool2's input (into r2). */
static void head_part(void *task, int part, int parts) {
    batch_job *j = task;
    const float *p = j->params;
    float *g = j->grad[part], dp[FEAT];
    int lo, hi, b, k, f;
    sample_range(j->n, part, parts, &lo, &hi);
    j->loss[part] = 0.0;
    j->hits[part] = 0;
    for (b = lo; b < hi; ++b) {
        float *pb = j->act->p2[b], *prob = j->act->prob[b], max, sum = 0.0f;
        int best = 0;
        pool2(j->regularised ? j->act->r2[b] : j->act->a2[b], HALF, C2, pb, j->act->i2[b]);
        for (k = 0; k < CLASSES; ++k) {
            const float *wk = p + P_W3 + (size_t)k * FEAT;
            float s = p[P_B3 + k];
            for (f = 0; f < FEAT; ++f) s += wk[f] * pb[f];
            prob[k] = s;
            if (s > prob[best]) best = k;
        }
        j->hits[part] += best == j->y[b];
        max = prob[best]; /* subtract the max so exp cannot overflow */
        for (k = 0; k < CLASSES; ++k) sum += prob[k] = expf(prob[k] - max);
        for (k = 0; k < CLASSES; ++k) prob[k] /= sum;
        j->loss[part] -= log((double)prob[j->y[b]] + 1e-30);
        if (!j->training) continue;
        memset(dp, 0, sizeof dp);
        for (k = 0; k < CLASSES; ++k) {
            const float *wk = p + P_W3 + (size_t)k * FEAT;
            float *gk = g + P_W3 + (size_t)k * FEAT;
            float dl = (prob[k] - (k == j->y[b] ? 1.0f : 0.0f)) / (float)j->n; /* gradient of the mean */
            g[P_B3 + k] += dl;
            for (f = 0; f < FEAT; ++f) { gk[f] += dl * pb[f]; dp[f] += dl * wk[f]; }
        }
        pool2_backward(dp, j->act->i2[b], FEAT, HALF * HALF * C2, j->act->r2[b]);
    }
}

/* From the gradient at conv2's ReLU output (in r2) down to conv1's weights. */
static void backbone_backward_part(void *task, int part, int parts) {
    batch_job *j = task;
    const float *p = j->params;
    float *g = j->grad[part], *dp1 = j->scratch[part][0], *da1 = j->scratch[part][1];
    int lo, hi, b;
    sample_range(j->n, part, parts, &lo, &hi);
    for (b = lo; b < hi; ++b) {
        conv_relu_backward(j->act->p1[b], HALF, C1, p + P_W2, C2, j->act->a2[b], j->act->r2[b], g + P_W2, g + P_B2,
                           dp1);
        pool2_backward(dp1, j->act->i1[b], HALF * HALF * C1, PIX * C1, da1);
        conv_relu_backward(j->x + (size_t)b * PIX, SIDE, 1, p + P_W1, C1, j->act->a1[b], da1, g + P_W1, g + P_B1, NULL);
    }
}

/* ---- DropBlock through the engine API -------------------------------------- */

typedef struct {
    dropblock_mask mask;
    dropblock_tensor x, y;
    dropblock_status status[THREADS];
} mask_job;

static void build_part(void *task, int part, int parts) {
    mask_job *m = task;
    m->status[part] = dropblock_mask_build(&m->mask, part, parts);
}

static void forward_part(void *task, int part, int parts) {
    mask_job *m = task;
    m->status[part] = dropblock_mask_forward(&m->mask, &m->x, &m->y, part, parts);
}

static void backward_part(void *task, int part, int parts) {
    mask_job *m = task;
    m->status[part] = dropblock_mask_backward(&m->mask, &m->y, &m->y, part, parts); /* in place */
}

static void need(dropblock_status st, const char *what) {
    if (st != DROPBLOCK_OK) {
        fprintf(stderr, "fashion_mnist: %s: %s\n", what, dropblock_status_string(st));
        exit(2);
    }
}

static void run_mask(const dropblock_executor *ex, dropblock_task_fn fn, mask_job *m, const char *what) {
    int k;
    ex->parallel_for(ex->pool, fn, m, ex->parts);
    for (k = 0; k < ex->parts; ++k) need(m->status[k], what);
}

/* ---- training and evaluation ------------------------------------------------ */

static double evaluate(batch_job *j, const dataset *d, int count) {
    int b, k, hits = 0;
    j->regularised = 0;
    j->training = 0;
    for (b = 0; b < count; b += BATCH) {
        j->x = d->x + (size_t)b * PIX;
        j->y = d->y + b;
        j->n = count - b < BATCH ? count - b : BATCH;
        pool_parallel_for(j->workers, features_part, j, THREADS);
        pool_parallel_for(j->workers, head_part, j, THREADS);
        for (k = 0; k < THREADS; ++k) hits += j->hits[k];
    }
    return (double)hits / count;
}

/* Uniform with variance 2 / fan_in (He), so ReLU units start alive. */
static void init_params(uint64_t seed, float *p) {
    static const struct { int at, count, fan_in; } tensors[3] = {
        {P_W1, 9 * C1, 9}, {P_W2, 9 * C1 * C2, 9 * C1}, {P_W3, CLASSES * FEAT, FEAT}};
    dropblock_rng rng;
    int t, k;
    memset(p, 0, sizeof(float) * N_PARAMS);
    dropblock_rng_init(&rng, seed, 1);
    for (t = 0; t < 3; ++t) {
        float a = sqrtf(6.0f / (float)tensors[t].fan_in);
        for (k = 0; k < tensors[t].count; ++k) p[tensors[t].at + k] = a * (2.0f * dropblock_rng_uniform(&rng) - 1.0f);
    }
}

typedef struct {
    int n_train, n_test, epochs, seeds, ramp_epochs;
    double test_acc[ARMS][SEEDS][EPOCHS];
    double train_acc[ARMS][SEEDS];
} results;

static float params[N_PARAMS], velocity[N_PARAMS], batch_x[BATCH * PIX];
static unsigned char batch_y[BATCH];
static activations act;
static batch_job job;
static mask_job drop;

/* One run: arm `arm`, seed `seed`. Weights and data order depend on the
   seed only, so the three arms of a seed start and walk alike. */
static void train(pool *workers, const dataset *train_set, const dataset *test_set, int arm, int seed,
                  results *r) {
    const dropblock_executor ex = {pool_parallel_for, workers, THREADS};
    const int steps_per_epoch = r->n_train / BATCH, total_steps = steps_per_epoch * r->epochs;
    int *order = malloc(sizeof(int) * (size_t)r->n_train);
    void *workspace;
    size_t workspace_bytes = 0;
    dropblock_config cfg = dropblock_config_default();
    dropblock_rng rng;
    uint64_t step = 0;
    int epoch, k, b;
    cfg.block_h = arm_blocks[arm];
    cfg.seed = (uint64_t)seed;
    drop.x = dropblock_tensor_nhwc(act.a2, DROPBLOCK_F32, BATCH, HALF, HALF, C2);
    drop.y = dropblock_tensor_nhwc(act.r2, DROPBLOCK_F32, BATCH, HALF, HALF, C2);
    need(dropblock_mask_workspace_size(&drop.x, &workspace_bytes), "dropblock_mask_workspace_size");
    workspace = malloc(workspace_bytes);
    if (!order || !workspace) need(DROPBLOCK_ERR_OUT_OF_MEMORY, "training buffers");
    init_params((uint64_t)seed, params);
    memset(velocity, 0, sizeof velocity);
    dropblock_rng_init(&rng, (uint64_t)seed, 2);
    for (k = 0; k < r->n_train; ++k) order[k] = k;
    job.workers = workers;
    job.params = params;
    job.act = &act;
    for (epoch = 0; epoch < r->epochs; ++epoch) {
        for (k = r->n_train - 1; k > 0; --k) { /* Fisher-Yates */
            int o = (int)(dropblock_rng_next_u32(&rng) % (uint32_t)(k + 1)), t = order[k];
            order[k] = order[o];
            order[o] = t;
        }
        for (b = 0; b + BATCH <= r->n_train; b += BATCH, ++step) {
            float lr = LEARNING_RATE * (1.0f - (float)step / (float)total_steps);
            for (k = 0; k < BATCH; ++k) {
                memcpy(batch_x + (size_t)k * PIX, train_set->x + (size_t)order[b + k] * PIX, sizeof(float) * PIX);
                batch_y[k] = train_set->y[order[b + k]];
            }
            job.x = batch_x;
            job.y = batch_y;
            job.n = BATCH;
            job.regularised = arm_blocks[arm] > 0;
            job.training = 1;
            memset(job.grad, 0, sizeof job.grad);
            pool_parallel_for(workers, features_part, &job, THREADS);
            if (job.regularised) {
                /* The step picks the schedule's keep_prob and a fresh mask. */
                cfg.keep_prob = dropblock_keep_prob_linear(FINAL_KEEP_PROB, step,
                                                           (uint64_t)steps_per_epoch * r->ramp_epochs);
                need(dropblock_mask_init(&drop.mask, &cfg, step, &drop.x, workspace, workspace_bytes),
                     "dropblock_mask_init");
                run_mask(&ex, build_part, &drop, "dropblock_mask_build");
                run_mask(&ex, forward_part, &drop, "dropblock_mask_forward");
            }
            pool_parallel_for(workers, head_part, &job, THREADS);
            /* head_part left the gradient at r2 in r2; the kept mask turns it
               into a2's gradient. */
            if (job.regularised) run_mask(&ex, backward_part, &drop, "dropblock_mask_backward");
            pool_parallel_for(workers, backbone_backward_part, &job, THREADS);
            for (k = 0; k < N_PARAMS; ++k) {
                float g = 0.0f;
                int t;
                for (t = 0; t < THREADS; ++t) g += job.grad[t][k];
                velocity[k] = MOMENTUM * velocity[k] - lr * g;
                params[k] += velocity[k];
            }
        }
        r->test_acc[arm][seed - 1][epoch] = evaluate(&job, test_set, r->n_test);
    }
    r->train_acc[arm][seed - 1] = evaluate(&job, train_set, r->n_train);
    free(order);
    free(workspace);
}

/* ---- report ------------------------------------------------------------------- */

static const unsigned char arm_colours[ARMS][3] = {{110, 110, 110}, {40, 110, 200}, {215, 75, 25}};

static double mean_sd(const double *v, int n, int stride, double *sd) {
    double m = 0.0, s = 0.0;
    int k;
    for (k = 0; k < n; ++k) m += v[(size_t)k * stride];
    m /= n;
    for (k = 0; k < n; ++k) s += (v[(size_t)k * stride] - m) * (v[(size_t)k * stride] - m);
    *sd = n > 1 ? sqrt(s / (n - 1)) : 0.0;
    return m;
}

/* A line `width` pixels thick (Bresenham with a square pen). */
static void line(canvas *cv, int x0, int y0, int x1, int y1, const unsigned char col[3], int width) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
        int e2 = 2 * err;
        fill(cv, x0 - width / 2, y0 - width / 2, width, width, col);
        if (x0 == x1 && y0 == y1) return;
        if (e2 >= dy) { err += dy; x0 += sx; }
        if (e2 <= dx) { err += dx; y0 += sy; }
    }
}

enum { PLOT_W = 760, PLOT_H = 500, LEFT = 84, RIGHT = 24, TOP = 64, BOTTOM = 96 };

/* Test accuracy per epoch: each seed thin and pale, the arm's mean thick. */
static int plot(const char *path, const results *r) {
    static const unsigned char paper[3] = {255, 255, 255}, ink[3] = {20, 20, 20}, rule[3] = {225, 225, 225};
    const int pw = PLOT_W - LEFT - RIGHT, ph = PLOT_H - TOP - BOTTOM;
    double lo = 1.0, hi = 0.0, tick;
    char label[96];
    canvas cv;
    int a, s, e, k, y, ok, legend_x = LEFT;
    cv.w = PLOT_W;
    cv.h = PLOT_H;
    if (!(cv.rgb = malloc((size_t)cv.w * cv.h * 3))) return 0;
    fill(&cv, 0, 0, cv.w, cv.h, paper);
    for (a = 0; a < ARMS; ++a)
        for (s = 0; s < r->seeds; ++s)
            for (e = 0; e < r->epochs; ++e) {
                lo = fmin(lo, r->test_acc[a][s][e]);
                hi = fmax(hi, r->test_acc[a][s][e]);
            }
    tick = hi - lo > 0.2 ? 0.05 : hi - lo > 0.08 ? 0.02 : 0.01;
    lo = floor(lo / tick) * tick;
    hi = fmax(ceil(hi / tick) * tick, lo + tick);
#define PX(epoch) (LEFT + (r->epochs > 1 ? (epoch) * pw / (r->epochs - 1) : pw / 2))
#define PY(acc) (TOP + ph - (int)(((acc) - lo) / (hi - lo) * ph + 0.5))
    for (k = 0; lo + k * tick <= hi + 1e-9; ++k) {
        y = PY(lo + k * tick);
        fill(&cv, LEFT, y, pw + 1, 1, rule);
        snprintf(label, sizeof label, "%.2f", lo + k * tick);
        text(&cv, LEFT - 8 - 6 * 2 * (int)strlen(label), y - 7, label, ink, 2);
    }
    for (e = 0; e < r->epochs; ++e)
        if (e == 0 || (e + 1) % 5 == 0) {
            snprintf(label, sizeof label, "%d", e + 1);
            fill(&cv, PX(e), TOP + ph, 1, 6, ink);
            text(&cv, PX(e) - 6 * (int)strlen(label), TOP + ph + 10, label, ink, 2);
        }
    fill(&cv, LEFT, TOP, 1, ph + 1, ink);
    fill(&cv, LEFT, TOP + ph, pw + 1, 1, ink);
    snprintf(label, sizeof label, "FASHION-MNIST: TEST ACCURACY PER EPOCH (%d TEST IMAGES)", r->n_test);
    text(&cv, LEFT - 60, 12, label, ink, 2);
    snprintf(label, sizeof label, "%d TRAINING IMAGES, %d SEEDS, KEEP_PROB 1 TO %.1f", r->n_train, r->seeds,
             (double)FINAL_KEEP_PROB);
    text(&cv, LEFT - 60, 34, label, ink, 2);
    text(&cv, LEFT + pw / 2 - 30, TOP + ph + 32, "EPOCH", ink, 2);
    for (a = 0; a < ARMS; ++a) {
        unsigned char pale[3];
        double mean[EPOCHS], sd;
        for (k = 0; k < 3; ++k) pale[k] = (unsigned char)(arm_colours[a][k] + (255 - arm_colours[a][k]) * 3 / 5);
        for (e = 0; e < r->epochs; ++e) mean[e] = mean_sd(&r->test_acc[a][0][e], r->seeds, EPOCHS, &sd);
        for (s = 0; s < r->seeds; ++s)
            for (e = 1; e < r->epochs; ++e)
                line(&cv, PX(e - 1), PY(r->test_acc[a][s][e - 1]), PX(e), PY(r->test_acc[a][s][e]), pale, 1);
        for (e = 0; e < r->epochs; ++e)
            line(&cv, PX(e > 0 ? e - 1 : e), PY(mean[e > 0 ? e - 1 : e]), PX(e), PY(mean[e]), arm_colours[a], 3);
        if (arm_blocks[a] == 0) snprintf(label, sizeof label, "NONE");
        else snprintf(label, sizeof label, "%s (BLOCK %d)", arm_blocks[a] == 1 ? "DROPOUT" : "DROPBLOCK", arm_blocks[a]);
        fill(&cv, legend_x, PLOT_H - 26, 24, 4, arm_colours[a]);
        text(&cv, legend_x + 30, PLOT_H - 31, label, ink, 2);
        legend_x += 30 + 12 * (int)strlen(label) + 36;
    }
#undef PX
#undef PY
    ok = write_png(path, &cv);
    free(cv.rgb);
    return ok;
}

static void report(const results *r) {
    int a, s, e;
    double sd;
    if (r->epochs > 1) {
        printf("\nmean test accuracy per epoch\n%5s", "epoch");
        for (a = 0; a < ARMS; ++a) printf(" %10s", arm_names[a]);
        printf("\n");
        for (e = 0; e < r->epochs; ++e) {
            printf("%5d", e + 1);
            for (a = 0; a < ARMS; ++a) printf(" %10.4f", mean_sd(&r->test_acc[a][0][e], r->seeds, EPOCHS, &sd));
            printf("\n");
        }
    }
    printf("\n%-10s %5s  %-22s %-22s %s\n", "arm", "block", "test acc (mean ± sd)", "train acc (mean ± sd)",
           "gap train-test");
    for (a = 0; a < ARMS; ++a) {
        double final[SEEDS], test_sd, train_sd, test_m, train_m;
        for (s = 0; s < r->seeds; ++s) final[s] = r->test_acc[a][s][r->epochs - 1];
        test_m = mean_sd(final, r->seeds, 1, &test_sd);
        train_m = mean_sd(r->train_acc[a], r->seeds, 1, &train_sd);
        printf("%-10s %5d  %.4f ± %.4f        %.4f ± %.4f        %.4f\n", arm_names[a], arm_blocks[a], test_m,
               test_sd, train_m, train_sd, train_m - test_m);
    }
}

int main(int argc, char **argv) {
    static results r;
    static pool workers;
    const char *dir = DEFAULT_DATA, *plot_path = "fashion_mnist.png";
    dataset train_set = {0}, test_set = {0};
    int smoke = 0, a, s, k, status, failed = 0;
    time_t start = time(NULL);
    for (k = 1; k < argc; ++k) {
        if (strcmp(argv[k], "--smoke") == 0) smoke = 1;
        else if (strcmp(argv[k], "--data") == 0 && k + 1 < argc) dir = argv[++k];
        else if (strcmp(argv[k], "--plot") == 0 && k + 1 < argc) plot_path = argv[++k];
        else {
            fprintf(stderr, "usage: %s [--smoke] [--data DIR] [--plot PATH]\n", argv[0]);
            return 2;
        }
    }
    r.n_train = smoke ? SMOKE_TRAIN : N_TRAIN;
    r.n_test = smoke ? SMOKE_TEST : N_TEST;
    r.epochs = smoke ? 1 : EPOCHS;
    r.seeds = smoke ? 1 : SEEDS;
    r.ramp_epochs = smoke ? 1 : RAMP_EPOCHS;
    status = load(dir, "train", r.n_train, &train_set);
    if (status == 1) status = load(dir, "t10k", r.n_test, &test_set);
    if (status == 1 && !pool_start(&workers, THREADS)) {
        fprintf(stderr, "fashion_mnist: cannot start %d threads\n", THREADS);
        status = 0;
    }
    if (status != 1) {
        free(train_set.x); free(train_set.y); free(test_set.x); free(test_set.y);
        return status < 0 ? 77 : 1;
    }
    printf("DropBlock %s on Fashion-MNIST: %d training images, %d test images, %d epochs, %d seeds, %d threads\n",
           DROPBLOCK_VERSION_STRING, r.n_train, r.n_test, r.epochs, r.seeds, THREADS);
    printf("regularisers after conv2 + ReLU (14x14x%d): keep_prob 1 -> %.2f over %d epochs\n", C2,
           (double)FINAL_KEEP_PROB, r.ramp_epochs);
    for (s = 1; s <= r.seeds; ++s)
        for (a = 0; a < ARMS; ++a) {
            time_t t0 = time(NULL);
            train(&workers, &train_set, &test_set, a, s, &r);
            printf("seed %d  %-9s  test %.4f  train %.4f  (%.0f s)\n", s, arm_names[a], r.test_acc[a][s - 1][r.epochs - 1],
                   r.train_acc[a][s - 1], difftime(time(NULL), t0));
            fflush(stdout);
        }
    pool_stop(&workers);
    report(&r);
    if (!plot(plot_path, &r)) {
        fprintf(stderr, "fashion_mnist: cannot write %s\n", plot_path);
        failed = 1;
    } else {
        printf("wrote %s; total %.0f s\n", plot_path, difftime(time(NULL), start));
    }
    if (smoke)
        for (a = 0; a < ARMS; ++a)
            if (r.test_acc[a][0][0] < SMOKE_ACCURACY) {
                printf("FAIL: %s reached %.4f < %.2f after one epoch\n", arm_names[a], r.test_acc[a][0][0], SMOKE_ACCURACY);
                failed = 1;
            }
    if (smoke && !failed) printf("PASS: every arm >= %.2f test accuracy after one epoch (chance 0.10)\n", SMOKE_ACCURACY);
    free(train_set.x); free(train_set.y); free(test_set.x); free(test_set.y);
    return failed;
}
