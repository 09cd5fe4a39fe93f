# tests/bench/bench.cmake: benchmark programs. Built as targets, NEVER registered with ctest
# (timed measurements are not tests); tests/bench/bench_train.sh runs them.
#   cmake --build build --target bench_train_step
add_executable(bench_train_step ${CMAKE_SOURCE_DIR}/tests/bench/bench_train_step.c)
target_link_libraries(bench_train_step PRIVATE lbtrain lbruntime lbformats lbquant)

# Q8_0 dot kernels vs ggml's, same process (dlopen): tests/bench/bench_q8_0_dot.c's header
add_executable(bench_q8_0_dot ${CMAKE_SOURCE_DIR}/tests/bench/bench_q8_0_dot.c)
target_link_libraries(bench_q8_0_dot PRIVATE lbquant ${CMAKE_DL_LIBS})

# libtrain's AMX GEMM vs OpenBLAS sgemm on the QAT step's products (tests/bench/bench_gemm_amx.c)
add_executable(bench_gemm_amx ${CMAKE_SOURCE_DIR}/tests/bench/bench_gemm_amx.c)
target_link_libraries(bench_gemm_amx PRIVATE lbtrain lbruntime lbformats lbquant)
