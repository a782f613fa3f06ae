/* Mode (d): DROPBLOCK_MALLOC / DROPBLOCK_FREE overridden with a counting
   allocator that can be told to fail. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static size_t alloc_calls, free_calls;
static int alloc_fail;

static void *counting_malloc(size_t bytes) {
    ++alloc_calls;
    return alloc_fail ? NULL : malloc(bytes);
}

static void counting_free(void *ptr) {
    if (ptr) ++free_calls;
    free(ptr);
}

#define DROPBLOCK_MALLOC(bytes) counting_malloc(bytes)
#define DROPBLOCK_FREE(ptr) counting_free(ptr)
#define DROPBLOCK_IMPLEMENTATION
#include "modes.h"

enum { N = 2, H = 8, W = 8, C = 4, COUNT = N * H * W * C };

static const dropblock_shape shape = {N, H, W, C};

static dropblock_config make_config(float keep_prob) {
    dropblock_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.keep_prob = keep_prob;
    cfg.block_h = 3;
    cfg.seed = 99u;
    return cfg;
}

/* On allocation failure forward and backward return OUT_OF_MEMORY and
   leave every buffer byte for byte as it was. */
static void check_failure_writes_nothing(void) {
    dropblock_config cfg = make_config(0.7f);
    float x[COUNT], y[COUNT], x_before[COUNT], y_before[COUNT];
    uint8_t mask[COUNT], mask_before[COUNT];
    size_t i;

    for (i = 0; i < COUNT; ++i) x[i] = (float)i * 0.5f;
    memset(y, 0xA5, sizeof y);
    memset(mask, 0x5A, sizeof mask);
    memcpy(x_before, x, sizeof x);
    memcpy(y_before, y, sizeof y);
    memcpy(mask_before, mask, sizeof mask);

    alloc_fail = 1;
    alloc_calls = 0;
    MODES_CHECK(dropblock_forward(&cfg, shape, 1u, x, y, mask) == DROPBLOCK_ERR_OUT_OF_MEMORY);
    MODES_CHECK(alloc_calls == 1);
    MODES_CHECK(memcmp(x, x_before, sizeof x) == 0);
    MODES_CHECK(memcmp(y, y_before, sizeof y) == 0);
    MODES_CHECK(memcmp(mask, mask_before, sizeof mask) == 0);

    MODES_CHECK(dropblock_forward(&cfg, shape, 1u, x, x, NULL) == DROPBLOCK_ERR_OUT_OF_MEMORY);
    MODES_CHECK(memcmp(x, x_before, sizeof x) == 0);

    MODES_CHECK(dropblock_backward(&cfg, shape, 1u, x, y) == DROPBLOCK_ERR_OUT_OF_MEMORY);
    MODES_CHECK(memcmp(x, x_before, sizeof x) == 0);
    MODES_CHECK(memcmp(y, y_before, sizeof y) == 0);
    alloc_fail = 0;
}

/* The header promises no allocation when no seed can occur (keep_prob 1):
   even a failing allocator must not make that call fail, and y == x. */
static void check_keep_all_does_not_allocate(void) {
    dropblock_config cfg = make_config(1.0f);
    float x[COUNT], y[COUNT];
    size_t i;

    for (i = 0; i < COUNT; ++i) x[i] = (float)i - 100.0f;
    alloc_fail = 1;
    alloc_calls = 0;
    MODES_CHECK(dropblock_forward(&cfg, shape, 1u, x, y, NULL) == DROPBLOCK_OK);
    MODES_CHECK(alloc_calls == 0);
    MODES_CHECK(memcmp(x, y, sizeof x) == 0);
    alloc_fail = 0;
}

int main(void) {
    check_failure_writes_nothing();
    check_keep_all_does_not_allocate();

    /* With a working allocator the overridden build computes the reference
       result and frees everything it allocated. */
    alloc_calls = free_calls = 0;
    modes_check_forward("custom allocator", dropblock_forward);
    MODES_CHECK(alloc_calls >= 1);
    MODES_CHECK(alloc_calls == free_calls);
    return 0;
}
