# libtrain tests: each op vs float64 finite differences and a float64 reference; the whole
# model's loss and gradients vs PyTorch (autograd, float64) per architecture; the training
# forward's logits vs the inference runtime's.
lowbit_c_test(test_train_ops test_train_ops.c)
add_test(NAME train_ops COMMAND test_train_ops)
set_tests_properties(train_ops PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)

lowbit_c_test(test_train_model test_train_model.c)
add_test(NAME train_model COMMAND test_train_model)
set_tests_properties(train_model PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE;LOWBIT_PYTHON=/usr/bin/python3"
  SKIP_RETURN_CODE 77 LABELS torch TIMEOUT 120)
# the same with every product on gemm_amx (tiny shapes included), coded QAT weights too (skips without AMX)
add_test(NAME train_model_amx COMMAND test_train_model)
set_tests_properties(train_model_amx PROPERTIES
  ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE;LOWBIT_PYTHON=/usr/bin/python3;LOWBIT_GEMM=amx"
  SKIP_RETURN_CODE 77 LABELS torch TIMEOUT 120)

# the AMX GEMM behind op_linear's big products vs float64 and OpenBLAS (skips without AMX)
lowbit_c_test(test_gemm_amx test_gemm_amx.c)
add_test(NAME gemm_amx COMMAND test_gemm_amx)
set_tests_properties(gemm_amx PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)
