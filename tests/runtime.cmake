# Runtime tests: kernels (SIMD vs scalar reference), forward pass (batched vs token-by-token,
# thread determinism), end-to-end stories260K greedy generation.
lowbit_c_test(test_kernels test_kernels.c)
add_test(NAME kernels COMMAND test_kernels)
set_tests_properties(kernels PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

lowbit_c_test(test_forward test_forward.c)
add_test(NAME forward COMMAND test_forward)
# passive waiting: the test runs 3 threads on small matrices, spinning would oversubscribe 2 cores
set_tests_properties(forward PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)

lowbit_c_test(test_sampler test_sampler.c)
add_test(NAME sampler COMMAND test_sampler)
set_tests_properties(sampler PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

# end to end: import stories260K, greedy 200 tokens == llama.cpp's text
add_test(NAME stories260k_greedy COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_stories260k_greedy.sh)
set_tests_properties(stories260k_greedy PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)

# fused matmuls (q/k/v, gate/up) == separate matmuls, bit for bit, every type
lowbit_c_test(test_matmul_multi test_matmul_multi.c)
add_test(NAME matmul_multi COMMAND test_matmul_multi)
set_tests_properties(matmul_multi PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE")
