# Native block types Q2_0C and STQ1_0 (docs/formats.md): codebook, exact round trips, RTN
# rules, lossless SEQ/Sherry grids, SIMD dot kernels vs the scalar reference.
# `test_q_native --bench` (not a ctest) prints single-thread matvec speed per type.
lowbit_c_test(test_q_native test_q_native.c)
add_test(NAME quant_native COMMAND test_q_native)
# passive waiting: the matmul check runs 2 OpenMP threads on small matrices
set_tests_properties(quant_native PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)
# the same checks with the AVX2 kernels in the type table (LOWBIT_SIMD caps the level)
add_test(NAME quant_native_avx2 COMMAND test_q_native)
set_tests_properties(quant_native_avx2 PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};LOWBIT_SIMD=avx2;OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)
# stock llama.cpp's GGUF reader (libggml-base from the pinned npm peer) refuses a file with
# type 96/97 tensors cleanly and accepts the same file with Q8_0 tensors
add_test(NAME quant_native_peer_reject
  COMMAND test_q_native --peer-reject ${CMAKE_CURRENT_SOURCE_DIR}/peer/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64 ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(quant_native_peer_reject PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)
