# train_kd.cmake: distillation losses (libtrain/op_kd.c) vs a float64 reference and finite
# differences, plus hand-checked identities (KL(p||p)=0, one-hot teacher = CE, top-K with K=V =
# full KL, exactly-weighted samples = KL + H(teacher)).
lowbit_c_test(test_kd test_kd.c)
add_test(NAME kd COMMAND test_kd)
set_tests_properties(kd PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)
