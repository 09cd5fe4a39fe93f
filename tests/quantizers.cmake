# libquant quantizers: hand-checked grids, lossless grid -> type packing, GPTQ vs RTN
lowbit_c_test(test_quantizers test_quantizers.c)
add_test(NAME quantizers COMMAND test_quantizers)
set_tests_properties(quantizers PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

lowbit_c_test(test_gptq test_gptq.c)
add_test(NAME gptq COMMAND test_gptq)
set_tests_properties(gptq PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)
