# CMake toolchain file: RISC-V 64 Linux (musl, static) with zig cc from the `ziglang` package.
# Shipped with hhbc (docs/cmake.md). Use it for any hhbc RISC-V target:
#
#   cmake -S out -B build -DCMAKE_TOOLCHAIN_FILE=$(python -c 'import hhbc.toolchain as t; print(t.cmake_file("c906"))')
#
# zig is looked up in this order:
#   1. ZIG, a cache variable (-DZIG=/path/to/zig) or an environment variable;
#   2. the `ziglang` package installed beside hhbc (this file is hhbc/toolchain/cmake/ in
#      site-packages, ziglang/ is its neighbour);
#   3. `ziglang` as seen by a Python: HHBC_PYTHON (cache or environment), Python3_EXECUTABLE,
#      then python3 / python on PATH (an editable hhbc install lives outside site-packages);
#   4. the `ziglang` package beside the `cmake` package (pip install cmake) running this file;
#   5. `zig` on PATH.
# The architecture (-mcpu=...) is the generated CMakeLists.txt's business; this file only says
# "riscv64-linux-musl through zig" (HHBC_TOOLCHAIN is "zig").

if(CMAKE_VERSION VERSION_LESS 3.21)
  message(FATAL_ERROR "riscv64-zig.cmake needs CMake 3.21 or newer (pip install cmake)")
endif()

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(HHBC_TOOLCHAIN zig)
set(HHBC_ZIG_TRIPLE riscv64-linux-musl)

# A try_compile project re-reads this file: hand it the zig already found.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ZIG)

function(_hhbc_find_zig out)
  if(ZIG)
    set(${out} "${ZIG}" PARENT_SCOPE)
    return()
  endif()
  if(DEFINED ENV{ZIG} AND NOT "$ENV{ZIG}" STREQUAL "")
    set(${out} "$ENV{ZIG}" PARENT_SCOPE)
    return()
  endif()
  # Beside hhbc in site-packages: hhbc/toolchain/cmake/ -> ziglang/.
  get_filename_component(_beside "${CMAKE_CURRENT_LIST_DIR}/../../../ziglang/zig" ABSOLUTE)
  if(EXISTS "${_beside}" AND NOT IS_DIRECTORY "${_beside}")
    set(${out} "${_beside}" PARENT_SCOPE)
    return()
  endif()
  # Ask a Python where its ziglang package is.
  set(_pythons "")
  if(HHBC_PYTHON)
    list(APPEND _pythons "${HHBC_PYTHON}")
  elseif(DEFINED ENV{HHBC_PYTHON} AND NOT "$ENV{HHBC_PYTHON}" STREQUAL "")
    list(APPEND _pythons "$ENV{HHBC_PYTHON}")
  endif()
  if(Python3_EXECUTABLE)
    list(APPEND _pythons "${Python3_EXECUTABLE}")
  endif()
  find_program(_hhbc_python3 NAMES python3 python NO_CACHE)
  if(_hhbc_python3)
    list(APPEND _pythons "${_hhbc_python3}")
  endif()
  foreach(_python IN LISTS _pythons)
    execute_process(
      COMMAND "${_python}" -c "import os, ziglang; print(os.path.dirname(ziglang.__file__))"
      OUTPUT_VARIABLE _dir OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE _rc ERROR_QUIET)
    if(_rc EQUAL 0 AND EXISTS "${_dir}/zig")
      set(${out} "${_dir}/zig" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  # Beside pip's cmake, if that is what runs us: cmake/data/bin/cmake -> ziglang/.
  get_filename_component(_beside "${CMAKE_COMMAND}/../../../../ziglang/zig" ABSOLUTE)
  if(EXISTS "${_beside}" AND NOT IS_DIRECTORY "${_beside}")
    set(${out} "${_beside}" PARENT_SCOPE)
    return()
  endif()
  find_program(_hhbc_zig_on_path zig NO_CACHE)
  if(_hhbc_zig_on_path)
    set(${out} "${_hhbc_zig_on_path}" PARENT_SCOPE)
    return()
  endif()
  set(${out} "" PARENT_SCOPE)
endfunction()

_hhbc_find_zig(_hhbc_zig)
if(NOT _hhbc_zig)
  message(FATAL_ERROR
    "riscv64-zig.cmake: zig not found. Install it with 'pip install ziglang' in the Python hhbc "
    "uses (and pass -DHHBC_PYTHON=/path/to/that/python), or pass -DZIG=/path/to/zig")
endif()
if(NOT IS_ABSOLUTE "${_hhbc_zig}")
  find_program(_hhbc_zig_program "${_hhbc_zig}" NO_CACHE)
  if(_hhbc_zig_program)
    set(_hhbc_zig "${_hhbc_zig_program}")
  endif()
endif()
if(NOT EXISTS "${_hhbc_zig}")
  message(FATAL_ERROR "riscv64-zig.cmake: ZIG=${_hhbc_zig} does not exist")
endif()
set(ZIG "${_hhbc_zig}" CACHE FILEPATH "the zig executable (zig cc is the C compiler)")

# One compiler command with its mandatory arguments (CMake >= 3.19): `zig cc -target ...`.
set(CMAKE_C_COMPILER "${ZIG}" cc -target ${HHBC_ZIG_TRIPLE})
set(CMAKE_ASM_COMPILER "${ZIG}" cc -target ${HHBC_ZIG_TRIPLE})
# The host's ar may not know RISC-V objects: archive with zig's own llvm-ar.
set(CMAKE_AR "${ZIG}" CACHE FILEPATH "zig (its 'ar' subcommand archives)")
set(CMAKE_RANLIB "${ZIG}" CACHE FILEPATH "zig (its 'ranlib' subcommand indexes archives)")
foreach(_lang C ASM)
  set(CMAKE_${_lang}_ARCHIVE_CREATE "<CMAKE_AR> ar qc <TARGET> <LINK_FLAGS> <OBJECTS>")
  set(CMAKE_${_lang}_ARCHIVE_APPEND "<CMAKE_AR> ar q <TARGET> <LINK_FLAGS> <OBJECTS>")
  set(CMAKE_${_lang}_ARCHIVE_FINISH "<CMAKE_RANLIB> ranlib <TARGET>")
endforeach()

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
