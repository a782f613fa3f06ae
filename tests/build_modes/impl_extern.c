/* The ordinary extern implementation, linked next to static copies. */
#define DROPBLOCK_IMPLEMENTATION
#include "modes.h"

modes_forward_fn modes_extern_forward(void) { return dropblock_forward; }
