# quant_upstream.cmake: the upstream low-bit block types (Q8_K, Q2_K, TQ1_0, TQ2_0, and Q8_0
# for the ggml comparison).
#   q_upstream_kernels: SIMD dot kernels vs scalar references, exact packers (no peer needed)
#   q_upstream_ggml:    dequantize / reference quantize bit-exact with llama.cpp's own ggml
#                       (libggml-base from tests/peer/node_modules, `npm ci --omit=optional`;
#                       LOWBIT_GGML_BASE overrides the path). Missing: skip, fail under CI=true.
lowbit_c_test(test_q_upstream test_q_upstream.c)
target_link_libraries(test_q_upstream PRIVATE ${CMAKE_DL_LIBS})

add_test(NAME q_upstream_kernels COMMAND test_q_upstream kernels)
set_tests_properties(q_upstream_kernels PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

# the same kernels with the dispatcher capped to AVX2 and to scalar (what other CPUs run)
add_test(NAME q_upstream_kernels_avx2 COMMAND test_q_upstream kernels)
set_tests_properties(q_upstream_kernels_avx2 PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};LOWBIT_SIMD=avx2" SKIP_RETURN_CODE 77)

add_test(NAME q_upstream_ggml COMMAND test_q_upstream ggml)
set_tests_properties(q_upstream_ggml PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77 LABELS peer)

# the scalar paths of the quantizers (the default run takes the AVX-512 one where the CPU has it)
add_test(NAME q_upstream_ggml_scalar COMMAND test_q_upstream ggml)
set_tests_properties(q_upstream_ggml_scalar PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};LOWBIT_SIMD=scalar" SKIP_RETURN_CODE 77 LABELS peer)
