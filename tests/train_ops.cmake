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
