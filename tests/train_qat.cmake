# libtrain QAT pieces: fake-quant forward/backward (hand-checked, format-exact == pack -> dequantize)
# and the optimizer (AdamW vs a double reference, clipping, guard, schedules)
lowbit_c_test(test_fakequant test_fakequant.c)
add_test(NAME fakequant COMMAND test_fakequant)
set_tests_properties(fakequant PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

lowbit_c_test(test_optim test_optim.c)
add_test(NAME optim COMMAND test_optim)
set_tests_properties(optim PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

# AdamW + clipping + schedule vs torch.optim.AdamW (Debian python3-torch; skips without torch)
add_test(NAME optim_torch COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/torch/ref_adamw.py $<TARGET_FILE:test_optim>)
set_tests_properties(optim_torch PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

# SEQ / LSQ forward + backward vs ParetoQ's autograd functions re-written in torch
add_test(NAME fakequant_torch COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/torch/ref_paretoq.py $<TARGET_FILE:test_fakequant>)
set_tests_properties(fakequant_torch PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)
