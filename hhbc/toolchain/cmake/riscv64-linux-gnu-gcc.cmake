# CMake toolchain file: RISC-V 64 Linux (glibc) with Debian's cross GCC
# (apt install gcc-riscv64-linux-gnu). Shipped with hhbc (docs/cmake.md):
#
#   cmake -S out -B build -DCMAKE_TOOLCHAIN_FILE=$(python -c 'import hhbc.toolchain as t; print(t.cmake_file("rv64gc", "gcc"))')
#
# The core's -march/-mabi and -static come from the generated CMakeLists.txt. Debian 12's GCC 12
# has no _Float16 on RISC-V: it builds the rv64gc target; c906 needs GCC 13 or newer. Another
# prefix (a GCC built for riscv64-unknown-linux-gnu, say) is riscv64-thead-gcc.cmake with
# HHBC_THEAD_PREFIX.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(HHBC_TOOLCHAIN gcc)

set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER riscv64-linux-gnu-gcc)

set(CMAKE_FIND_ROOT_PATH /usr/riscv64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
