/* Trains darknet on Fashion-MNIST with a DropBlock layer and checks it:
     0. dropblock_darknet_attach refuses a .cfg that does not fit the network
        or asks for an invalid block, and then changes no layer;
     1. called as darknet calls it, the layer's forward zeroes exactly the
        library's mask (dropblock_forward's keep_mask, 1.x API) and scales
        the rest by the library's factor; its backward does the same to the
        gradient; outside training it is the identity;
     2. the dropped fraction over 60 steps matches the exact expectation of
        the paper's gamma within 5 standard errors;
     3. during training, the layer's in-place output is zero exactly on the
        library's mask for the step darknet was at (*net->seen), and the
        gradient it passes back is zero there;
     4. the loss goes down (the last 20 iterations average at most half the
        first 20) and the trained net (DropBlock off) classifies 2000 test
        images better than 70 % (chance: 10 %).
   usage: dropblock_darknet_train NET.cfg FASHION_MNIST_DIR
   Exit 77 when the data is not there. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dropblock_darknet.h"

#define SKIP 77
#define TRAIN_IMAGES 12000
#define TEST_IMAGES 2000
#define ITERATIONS 300
#define WINDOW 20
#define MASK_STEPS 60
#define PIXELS 784 /* 28 x 28 */
#define CLASSES 10

static int failures;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The first count items of a gzip'd IDX file (magic 0x801 labels, 0x803
   images of 28 x 28) as bytes; NULL if it is missing or not that. */
static unsigned char *read_idx(const char *dir, const char *name, uint32_t magic, int count)
{
    char path[4096];
    unsigned char header[16];
    size_t item = magic == 0x803 ? PIXELS : 1, header_bytes = magic == 0x803 ? 16 : 8;
    unsigned char *data;
    gzFile file;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    file = gzopen(path, "rb");
    if (!file) return NULL;
    data = (unsigned char *)malloc(item * (size_t)count);
    if (!data || gzread(file, header, (unsigned)header_bytes) != (int)header_bytes || be32(header) != magic ||
        be32(header + 4) < (uint32_t)count ||
        (magic == 0x803 && (be32(header + 8) != 28 || be32(header + 12) != 28)) ||
        gzread(file, data, (unsigned)(item * (size_t)count)) != (int)(item * (size_t)count)) {
        fprintf(stderr, "%s: not a Fashion-MNIST IDX file with %d items\n", path, count);
        free(data);
        data = NULL;
    }
    gzclose(file);
    return data;
}

/* One sample's image and one-hot label into darknet's input and truth rows. */
static void put_sample(const unsigned char *images, const unsigned char *labels, int index, float *input,
                       float *truth)
{
    int i;
    for (i = 0; i < PIXELS; i++) input[i] = (float)images[(size_t)index * PIXELS + (size_t)i] / 255.0f;
    for (i = 0; i < CLASSES; i++) truth[i] = labels[index] == i ? 1.0f : 0.0f;
}

static int dropblock_layer_index(const network *net)
{
    int i;
    for (i = 0; i < net->n; i++)
        if (dropblock_darknet_config(&net->layers[i])) return i;
    return -1;
}

/* The library's own output and keep mask for layer l at step, on ones. */
static void library_mask(const layer *l, uint64_t step, const float *ones, float *y, uint8_t *keep)
{
    dropblock_config cfg = *dropblock_darknet_config(l);
    dropblock_shape shape;
    shape.n = l->batch;
    shape.h = l->out_h;
    shape.w = l->out_w;
    shape.c = l->out_c;
    cfg.layout = DROPBLOCK_NCHW;
    if (dropblock_forward(&cfg, shape, step, ones, y, keep) != DROPBLOCK_OK) {
        fprintf(stderr, "dropblock_forward failed\n");
        exit(EXIT_FAILURE);
    }
}

/* Checks 1 and 2: the layer's function pointers called as darknet calls them. */
static void check_layer_calls(network *net, int index)
{
    layer l = net->layers[index];
    size_t count = (size_t)l.batch * (size_t)l.outputs, i, maps = (size_t)l.batch * (size_t)l.out_c;
    size_t area = (size_t)l.out_h * (size_t)l.out_w;
    float *ones = (float *)malloc(count * sizeof(float)), *fwd = (float *)malloc(count * sizeof(float));
    float *bwd = (float *)malloc(count * sizeof(float)), *lib = (float *)malloc(count * sizeof(float));
    uint8_t *keep = (uint8_t *)malloc(count);
    const dropblock_config *cfg = dropblock_darknet_config(&l);
    double kp = cfg->keep_prob, gamma, expected, sum = 0.0, sum2 = 0.0, mean, se;
    int same_forward = 1, same_backward = 1, same_zeros = 1, identity = 1, step;
    network call = *net;
    size_t seen = 0;
    if (!ones || !fwd || !bwd || !lib || !keep) exit(EXIT_FAILURE);
    for (i = 0; i < count; i++) ones[i] = 1.0f;
    call.seen = &seen;
    call.index = index;
    for (step = 0; step < MASK_STEPS; step++) {
        size_t m;
        seen = 1000 + 32 * (size_t)step;
        memcpy(fwd, ones, count * sizeof(float));
        memcpy(bwd, ones, count * sizeof(float));
        call.train = 1;
        call.input = fwd;
        l.forward(l, call);
        call.delta = bwd;
        l.backward(l, call);
        library_mask(&l, seen, ones, lib, keep);
        same_forward &= memcmp(fwd, lib, count * sizeof(float)) == 0;
        same_backward &= memcmp(bwd, lib, count * sizeof(float)) == 0;
        for (i = 0; i < count; i++) same_zeros &= (fwd[i] == 0.0f) == !keep[i] && (bwd[i] == 0.0f) == !keep[i];
        for (m = 0; m < maps; m++) {
            size_t dropped = 0;
            for (i = 0; i < area; i++) dropped += !keep[m * area + i];
            sum += (double)dropped / (double)area;
            sum2 += ((double)dropped / (double)area) * ((double)dropped / (double)area);
        }
    }
    check(same_zeros, "forward zeros = backward zeros = the library's mask (60 steps)");
    check(same_forward && same_backward, "forward and backward outputs = the library's, bit for bit");
    memcpy(fwd, ones, count * sizeof(float));
    call.train = 0;
    call.input = fwd;
    l.forward(l, call);
    for (i = 0; i < count; i++) identity &= fwd[i] == 1.0f;
    check(identity, "outside training (net.train == 0) the layer is the identity");

    gamma = dropblock_gamma(kp, cfg->block_h, cfg->block_h, l.out_h, l.out_w);
    expected = 1.0 - dropblock_expected_keep(gamma, cfg->block_h, cfg->block_h, l.out_h, l.out_w, 0);
    mean = sum / (double)(maps * MASK_STEPS);
    se = sqrt((sum2 / (double)(maps * MASK_STEPS) - mean * mean) / (double)(maps * MASK_STEPS));
    printf("      dropped fraction %.5f, expected %.5f, standard error %.5f\n", mean, expected, se);
    check(fabs(mean - expected) < 5 * se, "the drop rate matches the expectation within 5 standard errors");
    free(ones);
    free(fwd);
    free(bwd);
    free(lib);
    free(keep);
}

/* Check 3 after a training iteration: the layer ran in place on the previous
   layer's output and delta, which still hold what it left there. */
static int mask_in_training(const network *net, int index)
{
    const layer *l = &net->layers[index];
    size_t count = (size_t)l->batch * (size_t)l->outputs, i;
    float *ones = (float *)malloc(count * sizeof(float)), *lib = (float *)malloc(count * sizeof(float));
    uint8_t *keep = (uint8_t *)malloc(count);
    int ok = 1;
    if (!ones || !lib || !keep) exit(EXIT_FAILURE);
    for (i = 0; i < count; i++) ones[i] = 1.0f;
    library_mask(l, (uint64_t)*net->seen, ones, lib, keep);
    for (i = 0; i < count; i++) {
        ok &= (l->output[i] == 0.0f) == !keep[i];
        ok &= keep[i] || l->delta[i] == 0.0f;
    }
    free(ones);
    free(lib);
    free(keep);
    return ok;
}

/* A copy of the cfg text with the first `find` replaced by `replace` (or cut
   there when replace is NULL), written to path. */
static void write_variant(const char *text, const char *find, const char *replace, const char *path)
{
    const char *at = strstr(text, find);
    FILE *file = fopen(path, "w");
    if (!at || !file) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(EXIT_FAILURE);
    }
    fwrite(text, 1, (size_t)(at - text), file);
    if (replace) fprintf(file, "%s%s", replace, at + strlen(find));
    fclose(file);
}

/* Check 0: a .cfg that does not fit the network is refused (-1) and leaves
   every layer as darknet made it. The variants go to the working directory. */
static void check_attach_refusals(network *net, const char *cfg_path)
{
    static const struct { const char *find, *replace, *what; } variants[] = {
        {"block_size=5", "block_size=0", "block_size=0"},
        {"[maxpool]", "[maxpool]\nblock_size=3", "a block_size outside [dropout]"},
        {"[softmax]", NULL, "a file with fewer layers than the network"},
        {"probability=0.15", "probability=0.15\nblock_size=5x", "a block_size that is not a number"},
    };
    const char *path = "dropblock_darknet_variant.cfg";
    char *text = (char *)calloc(1 << 16, 1), what[160];
    FILE *file = fopen(cfg_path, "r");
    float probability;
    size_t i;
    int j;
    if (!text || !file || fread(text, 1, (1 << 16) - 1, file) == 0) exit(EXIT_FAILURE);
    fclose(file);
    for (i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        int unchanged = 1;
        write_variant(text, variants[i].find, variants[i].replace, path);
        snprintf(what, sizeof what, "refused, and no layer changed: %s", variants[i].what);
        unchanged = dropblock_darknet_attach(net, path, 7) == -1;
        for (j = 0; j < net->n; j++) unchanged &= dropblock_darknet_config(&net->layers[j]) == NULL;
        check(unchanged, what);
    }
    remove(path);
    free(text);
    /* what the library validates: a probability outside [0, 1] (darknet's parser takes any) */
    j = 0;
    while (net->layers[j].type != DROPOUT) j++;
    probability = net->layers[j].probability;
    net->layers[j].probability = 1.5f;
    check(dropblock_darknet_attach(net, cfg_path, 7) == -1 && dropblock_darknet_config(&net->layers[j]) == NULL,
          "refused, and no layer changed: probability=1.5 (the library's keep_prob check)");
    net->layers[j].probability = probability;
}

int main(int argc, char **argv)
{
    unsigned char *train_images, *train_labels, *test_images, *test_labels;
    network *net;
    float *test_input;
    int index, it, b, correct = 0, tested, in_training = 1;
    double first = 0.0, last = 0.0;
    uint32_t lcg = 2018;
    if (argc != 3) {
        fprintf(stderr, "usage: %s NET.cfg FASHION_MNIST_DIR\n", argv[0]);
        return 2;
    }
    train_images = read_idx(argv[2], "train-images-idx3-ubyte.gz", 0x803, TRAIN_IMAGES);
    train_labels = read_idx(argv[2], "train-labels-idx1-ubyte.gz", 0x801, TRAIN_IMAGES);
    test_images = read_idx(argv[2], "t10k-images-idx3-ubyte.gz", 0x803, TEST_IMAGES);
    test_labels = read_idx(argv[2], "t10k-labels-idx1-ubyte.gz", 0x801, TEST_IMAGES);
    if (!train_images || !train_labels || !test_images || !test_labels) {
        printf("SKIP: Fashion-MNIST not found in %s (sudo apt-get install dataset-fashion-mnist)\n", argv[2]);
        return SKIP;
    }
    net = parse_network_cfg(argv[1]);
    check_attach_refusals(net, argv[1]);
    check(dropblock_darknet_attach(net, argv[1], 7) == 1, "one [dropout] layer became DropBlock");
    index = dropblock_layer_index(net);
    if (index < 0) return EXIT_FAILURE;
    printf("      layer %d: keep_prob %.2f, block %d, on %d x %d x %d x %d\n", index,
           (double)dropblock_darknet_config(&net->layers[index])->keep_prob,
           dropblock_darknet_config(&net->layers[index])->block_h, net->batch, net->layers[index].out_c,
           net->layers[index].out_h, net->layers[index].out_w);
    check_layer_calls(net, index);

    for (it = 0; it < ITERATIONS; it++) {
        float loss;
        for (b = 0; b < net->batch; b++) {
            lcg = lcg * 1664525u + 1013904223u;
            put_sample(train_images, train_labels, (int)(lcg >> 8) % TRAIN_IMAGES,
                       net->input + (size_t)b * (size_t)net->inputs, net->truth + (size_t)b * (size_t)net->truths);
        }
        loss = train_network_datum(net) / (float)net->batch;
        if (it < WINDOW) first += loss / WINDOW;
        if (it >= ITERATIONS - WINDOW) last += loss / WINDOW;
        /* not on the first iteration: until the first update the biases are 0,
           and the black background of the images gives exact zeros */
        if (it % 25 == 24) {
            in_training &= mask_in_training(net, index);
            printf("      iteration %3d  seen %6zu  loss %.4f\n", it, *net->seen, (double)loss);
        }
    }
    check(in_training, "in training the layer's output is zero exactly on the library's mask, its gradient too");
    printf("      mean loss: first %d iterations %.4f, last %d %.4f\n", WINDOW, first, WINDOW, last);
    check(last <= 0.5 * first, "the loss goes down (last 20 iterations at most half the first 20)");

    test_input = (float *)malloc((size_t)net->batch * (size_t)PIXELS * sizeof(float));
    if (!test_input) return EXIT_FAILURE;
    tested = TEST_IMAGES / net->batch * net->batch;
    for (it = 0; it < tested; it += net->batch) {
        float truth[CLASSES], *out;
        for (b = 0; b < net->batch; b++)
            put_sample(test_images, test_labels, it + b, test_input + (size_t)b * PIXELS, truth);
        out = network_predict(net, test_input); /* sets net->train = 0: DropBlock off */
        for (b = 0; b < net->batch; b++)
            correct += max_index(out + (size_t)b * CLASSES, CLASSES) == test_labels[it + b];
    }
    printf("      test accuracy %.3f on %d images\n", (double)correct / tested, tested);
    check(correct > 0.7 * tested, "test accuracy above 70 %");
    free(train_images);
    free(train_labels);
    free(test_images);
    free(test_labels);
    free(test_input); /* net->input points here now; the process ends without free_network */
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
