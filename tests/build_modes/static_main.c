/* Mode (a): DROPBLOCK_STATIC. This program holds three copies of the
   implementation (this TU, modes_ref.c, both static, and impl_extern.c,
   extern); it links only if the static ones export no symbols, and every
   copy must compute the same result. */
#define DROPBLOCK_STATIC
#define DROPBLOCK_IMPLEMENTATION
#include "modes.h"

int main(void) {
    MODES_CHECK(dropblock_gamma(0.9, 7, 7, 14, 14) > 0.00625 - 1e-15);
    MODES_CHECK(dropblock_gamma(0.9, 7, 7, 14, 14) < 0.00625 + 1e-15);
    modes_check_forward("static", dropblock_forward);
    modes_check_forward("extern beside static", modes_extern_forward());
    return 0;
}
