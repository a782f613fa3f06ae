/* Mode (b): the header included three times in one TU, before and after
   DROPBLOCK_IMPLEMENTATION; the guard must turn the repeats into no-ops. */
#include "dropblock.h"
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "dropblock.h"
#include "modes.h"

void twice_user_check(void); /* twice_user.c */

int main(void) {
    modes_check_forward("included twice", dropblock_forward);
    twice_user_check();
    return 0;
}
