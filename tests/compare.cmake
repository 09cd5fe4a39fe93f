# compare.cmake: `lowbit compare` end to end (tests/compare/check_compare.py; the docstring
# there says what each test checks). stories260K as the f32 teacher with f16 / q8_0 / tq2_0
# variants, tinyshakespeare's first 20 kB, ctx 64: each test takes about a second.
#  - compare_table        CSV/markdown rows, the teacher's own row, PPL == `lowbit perplexity`,
#                         size / bpw / main type against `lowbit inspect`
#  - compare_independent  KL, top-1 and PPL against numpy on `lowbit logits` dumps
#  - compare_types        tq2_0 / q2_K files: main type, 2.0625 / 2.625 bpw over the linears
#  - compare_plot         --plot writes a PNG with gnuplot (77 without gnuplot unless CI=true)
#  - compare_errors       hostile input: exit 1 with one line naming the file
foreach(t table independent types plot errors)
  add_test(NAME compare_${t}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/compare/check_compare.py ${t}
                   ${CMAKE_BINARY_DIR}/compare-test/${t})
  set_tests_properties(compare_${t} PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};OMP_WAIT_POLICY=PASSIVE"
                       SKIP_RETURN_CODE 77 TIMEOUT 120)
endforeach()
