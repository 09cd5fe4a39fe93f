# tokenizer.cmake: SPM and byte-level BPE tokenizers against llama.cpp's own test vectors
# (shared/data/vocab/*.gguf + .inp/.out), plus special tokens, pieces, round trips and the
# time to tokenize a 1 MB file.
lowbit_c_test(test_tokenizer test_tokenizer.c)
add_test(NAME tokenizer COMMAND test_tokenizer)
set_tests_properties(tokenizer PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 120)
