# export.cmake: `lowbit export` (QAT checkpoint -> GGUF, lossless) and `lowbit verify`
# (training engine vs runtime logits). Tiny dim-512 llamas trained 2 steps by `lowbit train`
# on the stories260K vocabulary; seconds each (tests/export/*.sh).
#   export_exact_*   every representable (quantizer, type) pair, checked bit for bit by
#                    test_export_check (GGUF read back + to_float vs lb_fq_forward on the raw
#                    checkpoint tensors), independently of export's own check
#   export_refuse    unrepresentable pairs, mid-anneal, FP into low-bit, --allow-lossy, damaged /
#                    foreign checkpoints, old checkpoints without hp.* attributes, missing vocab
#   export_verify    verify passes on an export and fails on another checkpoint's GGUF
#   export_peer_*    (label peer) q2_k / tq1_0 / tq2_0 exports in real llama.cpp: perplexity
#                    within 0.5% of lowbit's
lowbit_c_test(test_export_check export/test_export_check.c)
set(EXPORT_TEST_ENV "${LOWBIT_TEST_ENV};EXPORT_CHECK=$<TARGET_FILE:test_export_check>")
set(EXPORT_DIR ${CMAKE_CURRENT_SOURCE_DIR}/export)

foreach(case seq2 seq2_g256 seq_ternary absmean sherry)
  add_test(NAME export_exact_${case} COMMAND sh ${EXPORT_DIR}/exact.sh ${case})
  set_tests_properties(export_exact_${case} PROPERTIES ENVIRONMENT "${EXPORT_TEST_ENV}" SKIP_RETURN_CODE 77
                       LABELS export TIMEOUT 120)
endforeach()

foreach(part pairs pairs2 damaged old)
  add_test(NAME export_refuse_${part} COMMAND sh ${EXPORT_DIR}/refuse.sh ${part})
  set_tests_properties(export_refuse_${part} PROPERTIES ENVIRONMENT "${EXPORT_TEST_ENV}" SKIP_RETURN_CODE 77
                       LABELS export TIMEOUT 180)
endforeach()

foreach(t verify)
  add_test(NAME export_${t} COMMAND sh ${EXPORT_DIR}/${t}.sh)
  set_tests_properties(export_${t} PROPERTIES ENVIRONMENT "${EXPORT_TEST_ENV}" SKIP_RETURN_CODE 77
                       LABELS export TIMEOUT 180)
endforeach()

foreach(type q2_k tq1_0 tq2_0)
  add_test(NAME export_peer_${type} COMMAND sh ${EXPORT_DIR}/peer.sh ${type})
  set_tests_properties(export_peer_${type} PROPERTIES ENVIRONMENT "${EXPORT_TEST_ENV}" SKIP_RETURN_CODE 77
                       LABELS "export;peer" TIMEOUT 180)
endforeach()
