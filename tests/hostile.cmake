# Damaged model files and bad arguments through every model-loading command
# (run, perplexity, logits, import from GGUF): clean one-line errors, no output files.
add_test(NAME hostile_model COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/hostile/hostile_model.sh)
set_tests_properties(hostile_model PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)

# interrupted writes (SIGINT/SIGTERM/SIGHUP) leave no temp file behind
lowbit_c_test(test_tmpfiles test_tmpfiles.c)
add_test(NAME tmpfiles COMMAND test_tmpfiles)
