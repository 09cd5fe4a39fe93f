# peer.cmake: agreement with real llama.cpp (node-llama-cpp 3.22.1 prebuilt, pinned by
# tests/peer/package-lock.json) and with an independent torch HF-semantics reference.
# Label "peer". Needs `cd tests/peer && npm ci --omit=optional` and Debian's python3-torch;
# without them the tests skip (exit 77), and fail under CI=true.
#
# peer_setup (fixture peer_models) writes tiny HF checkpoints + reference logits into
# ${CMAKE_BINARY_DIR}/peer-models; every check imports its own GGUF there, so -j is safe.

# Debian's interpreter has numpy + torch; a pyenv python3 earlier on PATH may not
find_program(LOWBIT_PEER_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT LOWBIT_PEER_PYTHON)
  find_program(LOWBIT_PEER_PYTHON NAMES python3)
endif()

set(LOWBIT_PEER_DIR ${CMAKE_BINARY_DIR}/peer-models)
set(LOWBIT_PEER_SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/peer/check_agreement.py)

if(LOWBIT_PEER_PYTHON)
  add_test(NAME peer_setup COMMAND ${LOWBIT_PEER_PYTHON} ${LOWBIT_PEER_SCRIPT} setup ${LOWBIT_PEER_DIR})
  set_tests_properties(peer_setup PROPERTIES
    ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77 FIXTURES_SETUP peer_models LABELS peer TIMEOUT 120)

  # name  checkpoint  import type  extra (--ppl: also compare perplexity)
  set(LOWBIT_PEER_CASES
    "stories260K stories260K f32 --ppl"
    "stories260K_bf16 stories260K bf16"
    "stories260K_q8_0 stories260K q8_0 --ppl"
    "llama_f32   llama   f32  --ppl"
    "llama_f16   llama   f16"
    "llama_q8_0  llama   q8_0"
    "qwen2_f32   qwen2   f32  --ppl"
    "qwen2_bf16  qwen2   bf16 --ppl"
    "qwen3_f32   qwen3   f32  --ppl"
    "qwen3_f16   qwen3   f16"
    "hunyuan_f32 hunyuan f32  --ppl"
    "hunyuan_bf16 hunyuan bf16"
    "hunyuan_q8_0 hunyuan q8_0 --ppl")
  foreach(case ${LOWBIT_PEER_CASES})
    separate_arguments(args UNIX_COMMAND "${case}")
    list(POP_FRONT args test_name)
    add_test(NAME peer_${test_name}
             COMMAND ${LOWBIT_PEER_PYTHON} ${LOWBIT_PEER_SCRIPT} check ${LOWBIT_PEER_DIR} ${args})
    set_tests_properties(peer_${test_name} PROPERTIES
      ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77
      FIXTURES_REQUIRED peer_models LABELS peer TIMEOUT 120)
  endforeach()
endif()
