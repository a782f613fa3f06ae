/* The reference copy of the implementation: static, so it coexists with
   whatever copy the program under test carries. */
#define DROPBLOCK_STATIC
#define DROPBLOCK_IMPLEMENTATION
#include "modes.h"

#include <string.h>

enum { MODES_N = 2, MODES_H = 11, MODES_W = 9, MODES_C = 3 };
#define MODES_COUNT ((size_t)MODES_N * MODES_H * MODES_W * MODES_C)

static void run_case(modes_forward_fn forward, float *y, uint8_t *mask) {
    static const dropblock_shape shape = {MODES_N, MODES_H, MODES_W, MODES_C};
    dropblock_config cfg;
    float x[MODES_COUNT];
    size_t i;

    memset(&cfg, 0, sizeof cfg);
    cfg.keep_prob = 0.8f;
    cfg.block_h = 3;
    cfg.block_w = 2;
    cfg.seed = 20181030u;
    for (i = 0; i < MODES_COUNT; ++i) x[i] = (float)(i % 17) - 8.25f;
    MODES_CHECK(forward(&cfg, shape, 5u, x, y, mask) == DROPBLOCK_OK);
}

void modes_check_forward(const char *label, modes_forward_fn forward) {
    float y_test[MODES_COUNT], y_ref[MODES_COUNT];
    uint8_t m_test[MODES_COUNT], m_ref[MODES_COUNT];
    size_t i, kept = 0;

    run_case(forward, y_test, m_test);
    run_case(dropblock_forward, y_ref, m_ref);
    for (i = 0; i < MODES_COUNT; ++i) kept += m_ref[i];
    /* A mask that is all ones or all zeros would make the comparison weak. */
    MODES_CHECK(kept > 0 && kept < MODES_COUNT);
    MODES_CHECK(memcmp(m_test, m_ref, sizeof m_ref) == 0);
    MODES_CHECK(memcmp(y_test, y_ref, sizeof y_ref) == 0);
    printf("%s: forward matches the reference (%zu of %zu kept)\n", label, kept,
           (size_t)MODES_COUNT);
}
