# train_cli.cmake: `lowbit train` end to end (tests/train/*.sh): memorization in FP and under
# SEQ 2-bit QAT, kill -9 + --resume bit-identical loss curve, SIGINT checkpoint, config
# errors, the NaN guard, h5py-readable checkpoints, the configs/ examples. Tiny models, 1 thread, seconds each.
set(TRAIN_CLI_DIR ${CMAKE_CURRENT_SOURCE_DIR}/train)
foreach(t config_errors memorize_fp memorize_seq2 memorize_seq2_amx resume_kill sigint guard ckpt_h5py configs)
  set(script ${t})
  set(args "")
  if(t MATCHES "^memorize_(.*)")
    set(script memorize)
    set(args ${CMAKE_MATCH_1})
  endif()
  add_test(NAME train_${t} COMMAND sh ${TRAIN_CLI_DIR}/${script}.sh ${args})
  set_tests_properties(train_${t} PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77
                       LABELS train TIMEOUT 120)
endforeach()
