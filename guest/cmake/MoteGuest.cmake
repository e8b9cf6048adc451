# Defines mote_add_guest(), which turns C/C++ sources into a mote guest binary (a static-PIE ELF).
#
#   mote_add_guest(<target> SOURCES <files...>)
#
# The binary lands in ${MOTE_GUEST_OUTPUT_DIR} (default ${CMAKE_BINARY_DIR}/guests) and links the
# mote_guest_runtime target, which must exist by the time the project is generated. Only functions
# are defined here: this file is included before any target exists.

# Applies the guest compile flags to <target>: freestanding, position independent, no red zone,
# no stack protector or CET, no AVX (the guest has no XSAVE state), warnings as errors.
function(mote_guest_target_flags target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C,CXX>:-ffreestanding -fPIE -mno-red-zone -fno-stack-protector
      -fstack-clash-protection -fcf-protection=none -mno-avx -fno-asynchronous-unwind-tables
      -Wall -Wextra -Werror>
    $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti -fno-threadsafe-statics>)
  target_compile_features(${target} PRIVATE c_std_11 cxx_std_20)
endfunction()

function(mote_add_guest target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES")
  if(NOT ARG_SOURCES OR ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "usage: mote_add_guest(<target> SOURCES <files...>)")
  endif()
  add_executable(${target} ${ARG_SOURCES})
  mote_guest_target_flags(${target})
  # Entry _mote_start (in the runtime); base address 0; relocations only R_X86_64_RELATIVE,
  # applied by the host; no dynamic loader, no RELRO, no build id; code in its own segment.
  target_link_options(${target} PRIVATE
    -nostdlib -static-pie -Wl,-e,_mote_start -Wl,--undefined=_mote_start -Wl,-z,norelro
    -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,-z,separate-code)
  target_link_libraries(${target} PRIVATE mote_guest_runtime gcc)
  if(DEFINED MOTE_GUEST_OUTPUT_DIR)
    set(out_dir ${MOTE_GUEST_OUTPUT_DIR})
  else()
    set(out_dir ${CMAKE_BINARY_DIR}/guests)
  endif()
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${out_dir})
endfunction()
