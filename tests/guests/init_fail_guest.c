/* init_fail_guest: its mote_main fails, so the sandbox's initialisation must fail (INIT_FAILED). */
#include <mote/guest.h>

static void never_called(const mote_args* a, mote_ret* r) { (void)a, (void)r; }

int mote_main(void) {
  mote_register("never_called", "void()", never_called);
  return 7;
}
