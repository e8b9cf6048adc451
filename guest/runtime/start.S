/* _mote_start: the ELF entry point of every mote guest; runs one operation, then exits. */
/*
 * Entered in ring 3 with RDI = operation, RSI = boot info, RSP = a fresh 16-byte-aligned stack top
 * and no return address (see abi.h "Guest entry"). The call below pushes one, so the C code sees
 * the usual SysV alignment. The host never resumes the guest after the RETURN port.
 */
#include <mote/abi.h>

        .text
        .p2align 4
        .globl  _mote_start
        .type   _mote_start, @function
_mote_start:
        xorl    %ebp, %ebp              /* outermost frame, for debuggers */
        call    mote_runtime_entry      /* (op, boot info) writes the reply to the output buffer */
        outb    %al, $MOTE_PORT_RETURN
1:      ud2
        jmp     1b
        .size   _mote_start, . - _mote_start

        .section .note.GNU-stack, "", @progbits
