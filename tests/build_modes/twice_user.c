/* Mode (b), second TU: declarations only, resolved to twice_main.c's
   definitions at link time. */
#include <string.h>

#include "modes.h"

void twice_user_check(void);

void twice_user_check(void) {
    MODES_CHECK(strcmp(dropblock_status_string(DROPBLOCK_OK), "success") == 0);
    modes_check_forward("second TU, no implementation", dropblock_forward);
}
