/* Shared by the build-mode programs: one fixed forward case, run through a
   given copy of dropblock_forward and compared with a reference copy. */
#ifndef DROPBLOCK_MODES_H
#define DROPBLOCK_MODES_H

#include <stdio.h>
#include <stdlib.h>

#include "dropblock.h"

/* Not assert(): these checks must also run in Release (NDEBUG) builds. */
#define MODES_CHECK(cond)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#ifdef __cplusplus
extern "C" {
#endif

typedef dropblock_status (*modes_forward_fn)(const dropblock_config *cfg, dropblock_shape shape,
                                             uint64_t step, const float *x, float *y,
                                             uint8_t *keep_mask);

/* Runs the fixed case through `forward` and through the reference copy;
   exits with a message unless outputs and masks are byte-identical and the
   mask drops some elements but not all. */
void modes_check_forward(const char *label, modes_forward_fn forward);

/* The extern dropblock_forward of impl_extern.c, for TUs that cannot name
   it because they include the header in DROPBLOCK_STATIC mode. */
modes_forward_fn modes_extern_forward(void);

#ifdef __cplusplus
}
#endif
#endif
