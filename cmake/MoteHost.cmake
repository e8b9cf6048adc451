# Defines mote_host_target(), which gives a host-side target the strict warnings and the sanitizer
# (MOTE_SANITIZE) and fuzzing (MOTE_FUZZ) instrumentation; guests never get any of these.
#
#   mote_host_target(<target>)
#
# Call it for every host library and executable instead of adding ${MOTE_HOST_WARNINGS} by hand.
# The flags are per target on purpose: guests are freestanding static-PIE programs built in the
# same tree, and a sanitizer runtime or coverage callback in a guest cannot work, so nothing here
# may go through CMAKE_<LANG>_FLAGS.

set(MOTE_SANITIZE "" CACHE STRING
  "Sanitizers for every host target, as for -fsanitize= (e.g. address,undefined or thread); empty: none")

function(mote_host_target target)
  target_compile_options(${target} PRIVATE ${MOTE_HOST_WARNINGS})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Clang (the fuzz build) on Debian's libstdc++ 12: libstdc++'s own stable_sort calls
    # get_temporary_buffer, deprecated in C++23, and clang >= 17 reports that from the system
    # header. The C files wrap KVM's flexible-array structs (kvm_cpuid2, kvm_msrs) on purpose,
    # which clang flags where GCC does not. The GCC builds keep all three checks.
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-Wno-deprecated-declarations>
      $<$<COMPILE_LANGUAGE:C>:-Wno-gnu-variable-sized-type-not-at-end -Wno-missing-field-initializers>)
  endif()

  set(compile_flags)
  set(link_flags)
  if(MOTE_SANITIZE)
    list(APPEND compile_flags -fsanitize=${MOTE_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC's instrumentation makes -Wmaybe-uninitialized report false positives (std::variant
      # moves at -O2, GCC 12); the normal build keeps the warning.
      list(APPEND compile_flags -Wno-maybe-uninitialized)
      # GCC 12's null check of an extern thread_local's address can reuse the flags of an
      # `add x@gottpoff(%rip), %reg`, which the linker legitimately relaxes to a flag-less `lea`:
      # the check then reads stale flags and reports "store to null pointer" on a valid access.
      # ASan still catches real null dereferences (as SEGV reports).
      if(MOTE_SANITIZE MATCHES "undefined|null")
        list(APPEND compile_flags -fno-sanitize=null)
      endif()
    endif()
    list(APPEND link_flags -fsanitize=${MOTE_SANITIZE})
    # Lets code adapt to the runtime (GCC has no macro for UBSan): e.g. skip RSS budgets that
    # ASan's quarantine breaks, or let a seccomp filter allow what the sanitizer runtimes call.
    target_compile_definitions(${target} PRIVATE MOTE_SANITIZED=1)
  endif()
  if(MOTE_FUZZ)
    # Coverage for libFuzzer in all host code; only the fuzz executables link its runtime
    # (-fsanitize=fuzzer, added in fuzz/CMakeLists.txt).
    list(APPEND compile_flags -fsanitize=fuzzer-no-link)
  endif()
  if(NOT compile_flags)
    return()
  endif()

  target_compile_options(${target} PRIVATE ${compile_flags})
  if(NOT link_flags)
    return()
  endif()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "STATIC_LIBRARY" OR type STREQUAL "OBJECT_LIBRARY")
    # An archive is not linked by itself: whatever links it needs the sanitizer runtime.
    target_link_options(${target} INTERFACE ${link_flags})
  else()
    target_link_options(${target} PRIVATE ${link_flags})
  endif()
endfunction()
