/* train_loop.c - DropBlock inside a small but real training loop, plain C99.

   Task (generated here with a fixed seed): 12x12 grey images holding one
   short bright line, drawn horizontal, vertical, diagonal or anti-diagonal,
   under heavy Gaussian noise. The net must name the orientation (4 classes,
   chance = 25%).

   Net: conv 3x3 (1 -> 12 channels, zero padding) -> ReLU -> DropBlock (block
   3x3, NCHW) -> global average pool -> linear 12 -> 4 -> softmax
   cross-entropy, trained with SGD + momentum (learning rate decaying linearly to 0)
   on mini-batches of 25.

   What it shows:
     - dropblock_forward on the activations of a batch, and dropblock_backward
       with the SAME config and step on their gradient (no mask is stored);
     - the paper's linear keep_prob schedule (dropblock_keep_prob_linear);
     - inference without DropBlock: evaluation simply does not call it.

   Exit status 0 iff the final test accuracy reaches PASS_ACCURACY, so ctest
   checks that the net learns. `train_loop --gradcheck` compares the
   backward pass (DropBlock included) with finite differences and exits.

   Build: cc -std=c99 -O2 -Iinclude examples/train_loop.c -lm */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    IMG = 12,                   /* image side                            */
    PIX = IMG * IMG,
    CH = 12,                    /* conv output channels                  */
    CLASSES = 4,
    LINE_LEN = 7,
    N_TRAIN = 1000,
    N_TEST = 500,
    BATCH = 25,
    EPOCHS = 12,
    STEPS_PER_EPOCH = N_TRAIN / BATCH,
    RAMP_STEPS = STEPS_PER_EPOCH * 8 /* keep_prob reaches its final value at epoch 8 */
};

#define NOISE_SIGMA 0.45f
#define FINAL_KEEP_PROB 0.85f
#define LEARNING_RATE 0.7f /* large: global pooling shrinks conv gradients */
#define MOMENTUM 0.9f
#define PASS_ACCURACY 0.80

/* All parameters live in one flat array so SGD and the gradient check can
   treat them uniformly; these are the offsets of each tensor in it. */
enum {
    P_CONV_W = 0,                       /* [CH][3][3]        */
    P_CONV_B = P_CONV_W + CH * 9,       /* [CH]              */
    P_FC_W = P_CONV_B + CH,             /* [CLASSES][CH]     */
    P_FC_B = P_FC_W + CLASSES * CH,     /* [CLASSES]         */
    N_PARAMS = P_FC_B + CLASSES
};

/* Activations of one batch, kept from the forward pass for backward. */
typedef struct {
    float pre[BATCH * CH * PIX];  /* conv output before ReLU, NCHW          */
    float act[BATCH * CH * PIX];  /* after ReLU and DropBlock               */
    float pooled[BATCH * CH];
    float prob[BATCH * CLASSES];  /* softmax                                */
} cache;

/* ---- data ---------------------------------------------------------------- */

/* Standard normal from the library's generator (Box-Muller). */
static float gaussian(dropblock_rng *rng) {
    float u1 = 1.0f - dropblock_rng_uniform(rng); /* (0, 1]: log is finite */
    float u2 = dropblock_rng_uniform(rng);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

static int rand_int(dropblock_rng *rng, int n) {
    return (int)(dropblock_rng_next_u32(rng) % (uint32_t)n);
}

static void make_images(dropblock_rng *rng, float *images, int *labels, int count) {
    static const int dir[CLASSES][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};
    int n, k, p;
    for (n = 0; n < count; ++n) {
        float *img = images + n * PIX;
        int cls = rand_int(rng, CLASSES);
        /* Centre far enough from the border for every orientation to fit. */
        int ci = LINE_LEN / 2 + rand_int(rng, IMG - LINE_LEN + 1);
        int cj = LINE_LEN / 2 + rand_int(rng, IMG - LINE_LEN + 1);
        for (p = 0; p < PIX; ++p) img[p] = NOISE_SIGMA * gaussian(rng);
        for (k = -LINE_LEN / 2; k <= LINE_LEN / 2; ++k)
            img[(ci + k * dir[cls][0]) * IMG + cj + k * dir[cls][1]] += 1.0f;
        labels[n] = cls;
    }
}

/* ---- the net ------------------------------------------------------------- */

static void init_params(dropblock_rng *rng, float *p) {
    int k;
    for (k = 0; k < N_PARAMS; ++k) p[k] = 0.0f;
    /* Uniform with variance 2/fan_in (He), so ReLU units start alive. */
    for (k = 0; k < CH * 9; ++k) p[P_CONV_W + k] = 0.8165f * (2.0f * dropblock_rng_uniform(rng) - 1.0f);
    for (k = 0; k < CLASSES * CH; ++k) p[P_FC_W + k] = 0.866f * (2.0f * dropblock_rng_uniform(rng) - 1.0f);
}

/* Forward over n images. With drop == NULL this is inference: no DropBlock.
   Returns the summed cross-entropy; *correct receives the hits. */
static double forward(const float *p, const float *x, const int *labels, int n, const dropblock_config *drop,
                      uint64_t step, cache *c, int *correct) {
    dropblock_shape shape;
    double loss = 0.0;
    int b, ch, i, j, di, dj, k;
    shape.n = n; shape.h = IMG; shape.w = IMG; shape.c = CH;
    for (b = 0; b < n; ++b)
        for (ch = 0; ch < CH; ++ch)
            for (i = 0; i < IMG; ++i)
                for (j = 0; j < IMG; ++j) {
                    float s = p[P_CONV_B + ch];
                    for (di = -1; di <= 1; ++di)
                        for (dj = -1; dj <= 1; ++dj)
                            if (i + di >= 0 && i + di < IMG && j + dj >= 0 && j + dj < IMG)
                                s += p[P_CONV_W + ch * 9 + (di + 1) * 3 + dj + 1] *
                                     x[b * PIX + (i + di) * IMG + j + dj];
                    c->pre[((b * CH + ch) * IMG + i) * IMG + j] = s;
                    c->act[((b * CH + ch) * IMG + i) * IMG + j] = s > 0.0f ? s : 0.0f;
                }
    if (drop) { /* training: in place on the ReLU output of the whole batch */
        dropblock_status st = dropblock_forward(drop, shape, step, c->act, c->act, NULL);
        if (st != DROPBLOCK_OK) {
            fprintf(stderr, "dropblock_forward: %s\n", dropblock_status_string(st));
            exit(2);
        }
    }
    *correct = 0;
    for (b = 0; b < n; ++b) {
        float logit[CLASSES], max, sum = 0.0f;
        int best = 0;
        for (ch = 0; ch < CH; ++ch) {
            float s = 0.0f;
            for (k = 0; k < PIX; ++k) s += c->act[(b * CH + ch) * PIX + k];
            c->pooled[b * CH + ch] = s / PIX;
        }
        for (k = 0; k < CLASSES; ++k) {
            logit[k] = p[P_FC_B + k];
            for (ch = 0; ch < CH; ++ch) logit[k] += p[P_FC_W + k * CH + ch] * c->pooled[b * CH + ch];
            if (logit[k] > logit[best]) best = k;
        }
        max = logit[best]; /* subtract the max so exp cannot overflow */
        for (k = 0; k < CLASSES; ++k) sum += c->prob[b * CLASSES + k] = expf(logit[k] - max);
        for (k = 0; k < CLASSES; ++k) c->prob[b * CLASSES + k] /= sum;
        loss -= log((double)c->prob[b * CLASSES + labels[b]]);
        *correct += best == labels[b];
    }
    return loss;
}

/* Gradient of the MEAN loss of the last forward() into g[N_PARAMS]. */
static void backward(const float *p, const float *x, const int *labels, int n, const dropblock_config *drop,
                     uint64_t step, const cache *c, float *g) {
    static float dact[BATCH * CH * PIX];
    dropblock_shape shape;
    int b, ch, i, j, di, dj, k;
    shape.n = n; shape.h = IMG; shape.w = IMG; shape.c = CH;
    memset(g, 0, N_PARAMS * sizeof *g);
    for (b = 0; b < n; ++b) {
        float dpool[CH] = {0};
        for (k = 0; k < CLASSES; ++k) {
            /* softmax + cross-entropy: dlogit = prob - onehot */
            float dl = (c->prob[b * CLASSES + k] - (k == labels[b])) / (float)n;
            g[P_FC_B + k] += dl;
            for (ch = 0; ch < CH; ++ch) {
                g[P_FC_W + k * CH + ch] += dl * c->pooled[b * CH + ch];
                dpool[ch] += dl * p[P_FC_W + k * CH + ch];
            }
        }
        for (ch = 0; ch < CH; ++ch)
            for (k = 0; k < PIX; ++k) dact[(b * CH + ch) * PIX + k] = dpool[ch] / PIX;
    }
    /* Same config and step as the forward call: the library regenerates the
       identical mask and scale, so nothing had to be kept. */
    if (drop) {
        dropblock_status st = dropblock_backward(drop, shape, step, dact, dact);
        if (st != DROPBLOCK_OK) {
            fprintf(stderr, "dropblock_backward: %s\n", dropblock_status_string(st));
            exit(2);
        }
    }
    for (b = 0; b < n; ++b)
        for (ch = 0; ch < CH; ++ch)
            for (i = 0; i < IMG; ++i)
                for (j = 0; j < IMG; ++j) {
                    int e = ((b * CH + ch) * IMG + i) * IMG + j;
                    float d = c->pre[e] > 0.0f ? dact[e] : 0.0f; /* ReLU */
                    if (d == 0.0f) continue;
                    g[P_CONV_B + ch] += d;
                    for (di = -1; di <= 1; ++di)
                        for (dj = -1; dj <= 1; ++dj)
                            if (i + di >= 0 && i + di < IMG && j + dj >= 0 && j + dj < IMG)
                                g[P_CONV_W + ch * 9 + (di + 1) * 3 + dj + 1] +=
                                    d * x[b * PIX + (i + di) * IMG + j + dj];
                }
}

/* Accuracy of the net in inference mode (no DropBlock). */
static double evaluate(const float *p, const float *x, const int *labels, int count, cache *c) {
    int b, hits = 0, correct;
    for (b = 0; b < count; b += BATCH) {
        int n = count - b < BATCH ? count - b : BATCH;
        forward(p, x + b * PIX, labels + b, n, NULL, 0, c, &correct);
        hits += correct;
    }
    return (double)hits / count;
}

/* Central differences on the mean loss of one batch, DropBlock active with
   a fixed step (so the mask is fixed). The error is measured against the
   largest gradient, because float activations make tiny components noisy:
   a correct backward stays near 0.2% of it; skipping dropblock_backward
   gives about 4%, well over the 0.5% limit. */
static int gradient_check(const float *x, const int *labels, const dropblock_config *drop, cache *c) {
    static float p[N_PARAMS], g[N_PARAMS];
    const float eps = 1e-2f;
    double worst = 0.0, largest = 0.0;
    dropblock_rng rng;
    int k, correct, n = 4;
    dropblock_rng_init(&rng, 7, 0);
    init_params(&rng, p);
    forward(p, x, labels, n, drop, 3, c, &correct);
    backward(p, x, labels, n, drop, 3, c, g);
    for (k = 0; k < N_PARAMS; ++k) {
        float keep = p[k];
        double up, down, err;
        p[k] = keep + eps;
        up = forward(p, x, labels, n, drop, 3, c, &correct) / n;
        p[k] = keep - eps;
        down = forward(p, x, labels, n, drop, 3, c, &correct) / n;
        p[k] = keep;
        err = fabs((up - down) / (2.0 * eps) - g[k]);
        if (err > worst) worst = err;
        if (fabs(g[k]) > largest) largest = fabs(g[k]);
    }
    printf("gradient check, %d parameters: max |numeric - analytic| = %.2e of max |gradient| %.2e\n",
           N_PARAMS, worst, largest);
    return worst <= 5e-3 * largest ? 0 : 1;
}

/* ---- training ------------------------------------------------------------ */

static float train_x[N_TRAIN * PIX], test_x[N_TEST * PIX];
static int train_y[N_TRAIN], test_y[N_TEST];
static cache work;

int main(int argc, char **argv) {
    static float params[N_PARAMS], grad[N_PARAMS], velocity[N_PARAMS];
    static float batch_x[BATCH * PIX];
    int order[N_TRAIN], batch_y[BATCH];
    dropblock_config drop = {0}; /* zero = defaults, then set what differs */
    dropblock_rng rng;
    uint64_t step = 0;
    double test_acc = 0.0;
    int epoch, k;

    drop.block_h = 3; /* block_w 0: square 3x3 blocks */
    drop.layout = DROPBLOCK_NCHW;
    drop.seed = 2018;

    /* Separate streams of one generator: data, init and shuffling never
       disturb each other, and the run is the same on every platform. */
    dropblock_rng_init(&rng, 1, 100);
    make_images(&rng, train_x, train_y, N_TRAIN);
    make_images(&rng, test_x, test_y, N_TEST);

    if (argc > 1 && strcmp(argv[1], "--gradcheck") == 0) {
        drop.keep_prob = 0.8f;
        return gradient_check(train_x, train_y, &drop, &work);
    }

    dropblock_rng_init(&rng, 1, 200);
    init_params(&rng, params);
    for (k = 0; k < N_TRAIN; ++k) order[k] = k;

    printf("DropBlock %s: 3x3 blocks after conv+ReLU, keep_prob 1 -> %.2f over %d steps\n",
           DROPBLOCK_VERSION_STRING, FINAL_KEEP_PROB, RAMP_STEPS);
    printf("%5s %8s %9s %8s %9s\n", "epoch", "loss", "train_acc", "test_acc", "keep_prob");
    for (epoch = 1; epoch <= EPOCHS; ++epoch) {
        double loss = 0.0;
        float lr;
        int hits = 0, b, correct;
        for (k = N_TRAIN - 1; k > 0; --k) { /* Fisher-Yates shuffle */
            int r = rand_int(&rng, k + 1), t = order[k];
            order[k] = order[r];
            order[r] = t;
        }
        for (b = 0; b < N_TRAIN; b += BATCH, ++step) {
            for (k = 0; k < BATCH; ++k) {
                memcpy(batch_x + k * PIX, train_x + order[b + k] * PIX, sizeof(float) * PIX);
                batch_y[k] = train_y[order[b + k]];
            }
            /* The step picks both the schedule's keep_prob and a fresh mask. */
            drop.keep_prob = dropblock_keep_prob_linear(FINAL_KEEP_PROB, step, RAMP_STEPS);
            loss += forward(params, batch_x, batch_y, BATCH, &drop, step, &work, &correct);
            backward(params, batch_x, batch_y, BATCH, &drop, step, &work, grad);
            hits += correct;
            lr = LEARNING_RATE * (1.0f - (float)step / (EPOCHS * STEPS_PER_EPOCH)); /* linear decay */
            for (k = 0; k < N_PARAMS; ++k) {
                velocity[k] = MOMENTUM * velocity[k] - lr * grad[k];
                params[k] += velocity[k];
            }
        }
        test_acc = evaluate(params, test_x, test_y, N_TEST, &work);
        printf("%5d %8.4f %9.3f %8.3f %9.3f\n", epoch, loss / N_TRAIN, (double)hits / N_TRAIN, test_acc,
               (double)drop.keep_prob);
    }
    printf("final test accuracy %.3f (pass >= %.2f, chance 0.25): %s\n", test_acc, PASS_ACCURACY,
           test_acc >= PASS_ACCURACY ? "PASS" : "FAIL");
    return test_acc >= PASS_ACCURACY ? 0 : 1;
}
