# formats: key/value store, GGUF reader/writer, model description, `lowbit inspect`,
# hostile-input and fuzz-corpus checks.
lowbit_c_test(test_kv ${CMAKE_CURRENT_SOURCE_DIR}/test_kv.c)
add_test(NAME test_kv COMMAND test_kv)

lowbit_c_test(test_gguf ${CMAKE_CURRENT_SOURCE_DIR}/test_gguf.c)
add_test(NAME test_gguf COMMAND test_gguf)
set_tests_properties(test_gguf PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

# ggml's own GGUF reader (libggml-base.so from the pinned node-llama-cpp in tests/peer) must
# read lowbit's output identically; skipped when the peer package is not installed.
set(LOWBIT_PEER_LIBDIR ${CMAKE_CURRENT_SOURCE_DIR}/peer/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64)
add_test(NAME gguf_peer_ggml COMMAND test_gguf --peer ${LOWBIT_PEER_LIBDIR})
set_tests_properties(gguf_peer_ggml PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

# `lowbit inspect` on the real vocab files: exit 0 and the token list is shown with its
# count (32000 / 151936, checked independently with llama.cpp's gguf-py)
set(LOWBIT_VOCAB_TOKENS_llama-spm 32000)
set(LOWBIT_VOCAB_TOKENS_qwen2 151936)
foreach(vocab llama-spm qwen2)
  add_test(NAME inspect_vocab_${vocab}
    COMMAND sh -c "f=\"$LOWBIT_DATA/vocab/ggml-vocab-${vocab}.gguf\"; if [ ! -f \"$f\" ]; then echo \"missing $f\"; [ \"$CI\" = true ] && exit 1; exit 77; fi; out=$(\"$LOWBIT\" inspect \"$f\") || exit 1; printf '%s\\n' \"$out\" | grep -q 'tokenizer.ggml.tokens .*arr\\[str\\] *${LOWBIT_VOCAB_TOKENS_${vocab}} '")
  set_tests_properties(inspect_vocab_${vocab} PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)
endforeach()

# damaged files: truncations, bit flips, absurd counts -> exit 1 with one line naming the file
add_test(NAME hostile_gguf COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/hostile/hostile_gguf.sh
  $<TARGET_FILE:lowbit> $<TARGET_FILE:test_gguf> ${LOWBIT_DATA}/vocab/ggml-vocab-llama-spm.gguf)
set_tests_properties(hostile_gguf PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}")

# fuzz regression corpus replayed through the same entry point in every build
# (tests/fuzz/replay.c is generic: link it with any fuzz_<parser>.c)
lowbit_c_test(replay_gguf ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay.c ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_gguf.c)
target_include_directories(replay_gguf PRIVATE ${CMAKE_SOURCE_DIR}/formats ${CMAKE_SOURCE_DIR}/libquant)
add_test(NAME gguf_corpus_replay COMMAND replay_gguf gguf ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/gguf)

if(LOWBIT_FUZZ)
  lowbit_c_test(fuzz_gguf ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_gguf.c)
  target_link_options(fuzz_gguf PRIVATE -fsanitize=fuzzer)
  # new inputs go to a scratch dir in the build tree; the committed corpus is only read
  add_test(NAME fuzz_gguf COMMAND sh -c "mkdir -p fuzz-gguf-new && exec $<TARGET_FILE:fuzz_gguf> -max_total_time=60 -timeout=10 -rss_limit_mb=4096 fuzz-gguf-new ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/gguf")
  set_tests_properties(fuzz_gguf PROPERTIES LABELS fuzz WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endif()
