# quantize.cmake: `lowbit quantize` end to end (tests/peer/check_quant.py).
#  - quant_cli: fallback reporting (stories260K's rows fit no 256 block) and bad arguments
#    (clear errors, no output file). Needs only the shared data.
#  - quant_setup (fixture quant_models): tiny Llamas with 256-multiple rows (random, and on the
#    exact 2-bit / Sherry grids) imported to F32 GGUFs in ${CMAKE_BINARY_DIR}/quant-models.
#  - quant_peer_*: label peer: lowbit's perplexity on its quantized file vs llama.cpp's
#    (node-llama-cpp) on the same file (q8_0, q2_k, tq1_0, tq2_0) or, for the native types that
#    llama.cpp cannot load, on an upstream file holding exactly the same weights; within 0.5%.
#  - quant_gptq_*: --method gptq with a calibration text runs and writes a usable file.
find_program(LOWBIT_QUANT_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT LOWBIT_QUANT_PYTHON)
  find_program(LOWBIT_QUANT_PYTHON NAMES python3)
endif()
set(LOWBIT_QUANT_DIR ${CMAKE_BINARY_DIR}/quant-models)
set(LOWBIT_QUANT_SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/peer/check_quant.py)

if(LOWBIT_QUANT_PYTHON)
  add_test(NAME quant_cli COMMAND ${LOWBIT_QUANT_PYTHON} ${LOWBIT_QUANT_SCRIPT} cli ${CMAKE_BINARY_DIR}/quant-cli)
  set_tests_properties(quant_cli PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE"
                       SKIP_RETURN_CODE 77 TIMEOUT 120)

  add_test(NAME quant_setup COMMAND ${LOWBIT_QUANT_PYTHON} ${LOWBIT_QUANT_SCRIPT} setup ${LOWBIT_QUANT_DIR})
  set_tests_properties(quant_setup PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77
                       FIXTURES_SETUP quant_models TIMEOUT 180)

  # name | model | type | extra: --vs PEER_TYPE (what llama.cpp runs instead), --emb TYPE
  set(LOWBIT_QUANT_PEER_CASES
    "q8_0   rand q8_0"
    "q2_k   rand q2_k"
    "tq1_0  rand tq1_0"
    "tq2_0  rand tq2_0"
    "tq1_0_sherry sherry tq1_0"
    "stq1_0 sherry stq1_0 --vs tq1_0"
    "stq1_0_vs_tq2_0 sherry stq1_0 --vs tq2_0"
    "q2_0c  seq2 q2_0c --vs f32 --emb f32")
  foreach(case ${LOWBIT_QUANT_PEER_CASES})
    separate_arguments(args UNIX_COMMAND "${case}")
    list(POP_FRONT args test_name)
    add_test(NAME quant_peer_${test_name}
             COMMAND ${LOWBIT_QUANT_PYTHON} ${LOWBIT_QUANT_SCRIPT} peer ${LOWBIT_QUANT_DIR} ${args})
    set_tests_properties(quant_peer_${test_name} PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}"
                         SKIP_RETURN_CODE 77 FIXTURES_REQUIRED quant_models LABELS peer TIMEOUT 120)
  endforeach()

  foreach(t q2_k tq1_0 tq2_0 q2_0c stq1_0)
    add_test(NAME quant_gptq_${t} COMMAND ${LOWBIT_QUANT_PYTHON} ${LOWBIT_QUANT_SCRIPT} gptq ${LOWBIT_QUANT_DIR} ${t})
    set_tests_properties(quant_gptq_${t} PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77
                         FIXTURES_REQUIRED quant_models TIMEOUT 120)
  endforeach()
endif()

# calibration Hessians vs a plain double accumulation of the observed activations
lowbit_c_test(test_calib test_calib.c)
add_test(NAME calib COMMAND test_calib)
set_tests_properties(calib PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)

# the runtime's matmul with every low-bit weight type: decode and prefill paths vs plain
# arithmetic on the dequantized weights, thread-count independence
lowbit_c_test(test_matmul_lowbit test_matmul_lowbit.c)
add_test(NAME matmul_lowbit COMMAND test_matmul_lowbit)
set_tests_properties(matmul_lowbit PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE 77)
