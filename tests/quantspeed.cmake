# quantspeed.cmake: the vectorized RTN quantizers `lowbit quantize` uses are bit-identical to
# the scalar references (edge cases: ties, NaN/inf, subnormals, zero blocks), on the default
# SIMD level and capped to AVX2 (the scalar cap makes both sides the reference: not repeated).
lowbit_c_test(test_rtn_fast test_rtn_fast.c)
target_include_directories(test_rtn_fast PRIVATE ${CMAKE_SOURCE_DIR}/libquant)
add_test(NAME rtn_fast COMMAND test_rtn_fast)
set_tests_properties(rtn_fast PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)
add_test(NAME rtn_fast_avx2 COMMAND test_rtn_fast)
set_tests_properties(rtn_fast_avx2 PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};LOWBIT_SIMD=avx2" SKIP_RETURN_CODE 77)
