# CMake toolchain file: RISC-V 64 Linux with T-Head's Xuantie GCC, found by its prefix.
# Shipped with hhbc (docs/cmake.md):
#
#   cmake -S out -B build \
#     -DHHBC_THEAD_PREFIX=/opt/Xuantie-900-gcc-linux-.../bin/riscv64-unknown-linux-gnu- \
#     -DCMAKE_TOOLCHAIN_FILE=$(python -c 'import hhbc.toolchain as t; print(t.cmake_file("c906", "thead"))')
#
# HHBC_THEAD_PREFIX (a cache variable, or the environment variable of that name) + "gcc" is the
# compiler (CMake then finds ar and ranlib of the same prefix); it defaults to
# riscv64-unknown-linux-gnu- (the toolchain's bin/ on PATH). The core's -march/-mabi and -static
# come from the generated CMakeLists.txt.

if(CMAKE_VERSION VERSION_LESS 3.21)
  message(FATAL_ERROR "riscv64-thead-gcc.cmake needs CMake 3.21 or newer (pip install cmake)")
endif()

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(HHBC_TOOLCHAIN thead)

# A try_compile project re-reads this file: hand it the prefix.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HHBC_THEAD_PREFIX)
if(NOT DEFINED HHBC_THEAD_PREFIX)
  if(DEFINED ENV{HHBC_THEAD_PREFIX} AND NOT "$ENV{HHBC_THEAD_PREFIX}" STREQUAL "")
    set(_hhbc_prefix "$ENV{HHBC_THEAD_PREFIX}")
  else()
    set(_hhbc_prefix riscv64-unknown-linux-gnu-)
  endif()
  set(HHBC_THEAD_PREFIX "${_hhbc_prefix}" CACHE STRING
      "T-Head GCC prefix: a path and/or triple ending in '-' (gcc, ar, ranlib are appended)")
endif()

find_program(_hhbc_thead_gcc "${HHBC_THEAD_PREFIX}gcc" NO_CACHE)
if(NOT _hhbc_thead_gcc)
  message(FATAL_ERROR "riscv64-thead-gcc.cmake: ${HHBC_THEAD_PREFIX}gcc not found; set "
                      "HHBC_THEAD_PREFIX to the Xuantie toolchain's bin/riscv64-unknown-linux-gnu- "
                      "(or put its bin/ on PATH)")
endif()
set(CMAKE_C_COMPILER "${_hhbc_thead_gcc}")
set(CMAKE_ASM_COMPILER "${_hhbc_thead_gcc}")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
