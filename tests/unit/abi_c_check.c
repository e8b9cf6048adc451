/* Compiles abi.h as C11 (the guest side) and exports the layout C sees, for abi_test.cpp. */
#if !defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L
#error "abi_c_check.c must be compiled as C11 or later"
#endif
/* Anything in abi.h outside ISO C (GNU extensions aside from __builtin_offsetof) fails the build.
 */
#pragma GCC diagnostic error "-Wpedantic"

#include "mote/abi.h"

#include <stddef.h>

/* The sizes and offsets a C compiler gives the shared structs; abi_test.cpp compares them with the
 * C++ compiler's. The order is fixed by abi_test.cpp. */
const uint64_t mote_abi_c_layout[] = {
    sizeof(struct mote_boot_info),
    sizeof(struct mote_message_header),
    sizeof(struct mote_value),
    sizeof(struct mote_call),
    sizeof(struct mote_result),
    sizeof(struct mote_function_table),
    sizeof(struct mote_function_entry),
    MOTE_CALL_ARGS_OFFSET,
    MOTE_RESULT_PAYLOAD_OFFSET,
    offsetof(struct mote_result, value),
    offsetof(struct mote_function_entry, param_types),
    MOTE_ABI_VERSION,
};
const size_t mote_abi_c_layout_count = sizeof(mote_abi_c_layout) / sizeof(mote_abi_c_layout[0]);
