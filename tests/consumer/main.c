/* The program every consumer builds: one forward and one backward call,
   checked against each other. Exit code 0 = the library works as linked. */
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"

#include <stdio.h>
#include <string.h>

enum { N = 2, H = 8, W = 8, C = 4, COUNT = N * H * W * C };

int main(void) {
    static float x[COUNT], y[COUNT], dy[COUNT], dx[COUNT];
    static uint8_t mask[COUNT];
    const dropblock_shape shape = {N, H, W, C};
    dropblock_config cfg;
    size_t i, kept = 0;
    float scale = 0.0f;

    memset(&cfg, 0, sizeof cfg);
    cfg.keep_prob = 0.8f;
    cfg.block_h = 3;
    cfg.seed = 42u;
    for (i = 0; i < COUNT; ++i) x[i] = dy[i] = 1.0f;
    if (dropblock_forward(&cfg, shape, 1u, x, y, mask) != DROPBLOCK_OK) return 1;
    if (dropblock_backward(&cfg, shape, 1u, dy, dx) != DROPBLOCK_OK) return 1;
    for (i = 0; i < COUNT; ++i) {
        if (mask[i] && kept++ == 0) scale = y[i];
    }
    if (kept == 0 || kept == COUNT || !(scale > 1.0f)) return 1;
    /* Dropped elements are 0, kept ones all carry the same scale, and
       backward reproduces forward exactly. */
    for (i = 0; i < COUNT; ++i) {
        if (y[i] != (mask[i] ? scale : 0.0f) || dx[i] != y[i]) return 1;
    }
    printf("dropblock %s: %zu of %d activations kept\n", DROPBLOCK_VERSION_STRING, kept, COUNT);
    return 0;
}
