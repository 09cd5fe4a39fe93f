# distill.cmake: knowledge distillation in `lowbit train` (libtrain/distill.h, the YAML
# `distill:` section). test_distill: a full fp16 store read back gives the online teacher's
# loss and whole gradient BIT FOR BIT once the online logits are rounded to fp16 (forward KL,
# reverse KL, CAKLD, +-CE), and the unrounded ones within the fp16 rounding tolerance.
# distill/*.sh end to end: online vs stored runs, loss goes down, --resume bit-identical in
# store mode, config errors. make_store writes stores for them (the trainer's contract only).
lowbit_c_test(test_distill distill/test_distill.c)
add_test(NAME distill_equal COMMAND test_distill)
lowbit_c_test(make_store distill/make_store.c)
set(DISTILL_DIR ${CMAKE_CURRENT_SOURCE_DIR}/distill)
foreach(t e2e resume errors configs)
  add_test(NAME distill_${t} COMMAND sh ${DISTILL_DIR}/${t}.sh)
  set_tests_properties(distill_${t} PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};MAKE_STORE=$<TARGET_FILE:make_store>"
                       SKIP_RETURN_CODE 77 LABELS train TIMEOUT 120)
endforeach()
set_tests_properties(distill_equal PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE;OMP_NUM_THREADS=1"
                     SKIP_RETURN_CODE 77 LABELS train TIMEOUT 120)
