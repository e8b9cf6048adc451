/* empty_guest: registers nothing; the smallest guest, for sandbox-creation benchmarks. */
#include <mote/guest.h>

int mote_main(void) { return 0; }
