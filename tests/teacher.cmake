# teacher.cmake: the teacher-logit store (formats/h5_logits.c), the top-K / Sparse Logit
# Sampling row kernels (libtrain/kd_sample.c) and `lowbit teacher`.
lowbit_c_test(test_h5_logits teacher/test_h5_logits.c)
# (LSAN_OPTIONS: libhdf5 leaks on its own error paths for damaged files; see tests/h5/lsan.supp)
add_test(NAME teacher_store COMMAND test_h5_logits ${CMAKE_BINARY_DIR}/teacher-store)
set_tests_properties(teacher_store PROPERTIES
  ENVIRONMENT "${LOWBIT_TEST_ENV};LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/h5/lsan.supp" SKIP_RETURN_CODE 77)

# top-K / sampling row kernels, and Sparse Logit Sampling KD == full KD in expectation
# (top-K biased), with the stated tolerances printed (see the file's header)
lowbit_c_test(test_kd_sample teacher/test_kd_sample.c)
add_test(NAME teacher_kd_sample COMMAND test_kd_sample)
set_tests_properties(teacher_kd_sample PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)

# `lowbit teacher` end to end on stories260K (tests/teacher/teacher_cli.sh): each store equals
# the teacher recomputed independently (test_teacher_store; full = fp16(lb_train_model
# logits) bit for bit), h5py reads every mode (check_logits.py), determinism over --batch and
# threads, bad inputs -> one-line errors with no output, damaged stores -> one-line errors.
lowbit_c_test(test_teacher_store teacher/test_teacher_store.c)
# h5py needs a 32015 decoder: lowbit's plugin (top-level CMakeLists.txt)
set(LOWBIT_TEACHER_H5_ENV "")
if(TARGET lowbit_h5zstd)
  set(LOWBIT_TEACHER_H5_ENV "HDF5_PLUGIN_PATH=$<TARGET_FILE_DIR:lowbit_h5zstd>;LOWBIT_H5_PLUGIN_REQUIRED=1")
endif()
add_test(NAME teacher_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/teacher/teacher_cli.sh
  $<TARGET_FILE:test_h5_logits> $<TARGET_FILE:test_teacher_store>)
set_tests_properties(teacher_cli PROPERTIES
  ENVIRONMENT "${LOWBIT_TEST_ENV};${LOWBIT_TEACHER_H5_ENV};OMP_WAIT_POLICY=PASSIVE;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/h5/lsan.supp:print_suppressions=0"
  SKIP_RETURN_CODE 77 TIMEOUT 300)

# fuzz regression corpus of the logit-store reader, replayed in every build; the libFuzzer
# target itself only under -DLOWBIT_FUZZ=ON (label fuzz). Seeds: `test_h5_logits corpus DIR`.
lowbit_c_test(replay_logits fuzz/replay.c fuzz/fuzz_logits.c)
add_test(NAME fuzz_replay_logits COMMAND replay_logits logits ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/logits)
set_tests_properties(fuzz_replay_logits PROPERTIES
  ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/h5/lsan.supp")
if(LOWBIT_FUZZ)
  lowbit_c_test(fuzz_logits fuzz/fuzz_logits.c)
  target_link_options(fuzz_logits PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz_logits
    COMMAND sh -c "mkdir -p fuzz-work-logits && exec $<TARGET_FILE:fuzz_logits> -max_total_time=60 -timeout=10 -rss_limit_mb=4096 fuzz-work-logits ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/logits")
  set_tests_properties(fuzz_logits PROPERTIES LABELS fuzz WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/h5/lsan.supp")
endif()

# a lowbit checkpoint as the teacher: same store as its exact (f32) GGUF export
add_test(NAME teacher_ckpt COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/teacher/teacher_ckpt.sh $<TARGET_FILE:test_h5_logits>)
set_tests_properties(teacher_ckpt PROPERTIES
  ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/h5/lsan.supp:print_suppressions=0"
  SKIP_RETURN_CODE 77 TIMEOUT 180)
