// Mode (c): the implementation compiled as C++ (extern "C" linkage, no C-only
// constructs); its output must equal the C reference copy's.
#define DROPBLOCK_IMPLEMENTATION
#include "modes.h"

#include <cstring>

int main() {
    MODES_CHECK(dropblock_gamma(0.9, 7, 7, 14, 14) > 0.00625 - 1e-15);
    MODES_CHECK(dropblock_gamma(0.9, 7, 7, 14, 14) < 0.00625 + 1e-15);
    MODES_CHECK(std::strcmp(dropblock_status_string(DROPBLOCK_ERR_NULL), "unknown status") != 0);

    // Worked example of the header: block 2x2 on 5x5, seeds at (0,0), (1,3).
    uint8_t seeds[25] = {0};
    uint8_t keep[25];
    static const char expect[] = "0011100100111001111111111";
    seeds[0] = 1;
    seeds[1 * 5 + 3] = 1;
    MODES_CHECK(dropblock_expand_mask(seeds, 5, 5, 2, 2, keep) == DROPBLOCK_OK);
    for (int i = 0; i < 25; ++i) MODES_CHECK(keep[i] == expect[i] - '0');

    modes_check_forward("C++", dropblock_forward);
    return 0;
}
