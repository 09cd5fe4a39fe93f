# Import tests: safetensors reader + HF importer, llama2.c reader, `lowbit import` end to end,
# hostile inputs, fuzz corpus replays (and libFuzzer targets under -DLOWBIT_FUZZ=ON, label fuzz).

lowbit_c_test(test_safetensors test_safetensors.c)
add_test(NAME safetensors COMMAND test_safetensors)
set_tests_properties(safetensors PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

# llama2.c: reference weights are read straight from the raw stories260K.bin at llama2.c's
# offsets by this Python one-liner-style script (independent of lowbit) and piped in.
set(LOWBIT_L2C_REFERENCE [=[
import struct, sys, os
path = sys.argv[1]
if not os.path.exists(path): sys.exit(0)
f = open(path, 'rb').read()
d, h, L, H, K, V, S = struct.unpack_from('<7i', f, 0)
kv = d // H * K
V = abs(V)
start = {}
start['token_embd'] = 28
start['attn_norm'] = start['token_embd'] + 4 * V * d
start['attn_q'] = start['attn_norm'] + 4 * L * d
start['attn_k'] = start['attn_q'] + 4 * L * d * d
start['attn_v'] = start['attn_k'] + 4 * L * d * kv
start['attn_output'] = start['attn_v'] + 4 * L * d * kv
start['ffn_norm'] = start['attn_output'] + 4 * L * d * d
start['ffn_gate'] = start['ffn_norm'] + 4 * L * d
start['ffn_down'] = start['ffn_gate'] + 4 * L * d * h
start['ffn_up'] = start['ffn_down'] + 4 * L * h * d
start['output_norm'] = start['ffn_up'] + 4 * L * d * h
shape = {'token_embd': (V, d), 'attn_norm': (1, d), 'attn_q': (d, d), 'attn_k': (kv, d), 'attn_v': (kv, d),
         'attn_output': (d, d), 'ffn_norm': (1, d), 'ffn_gate': (h, d), 'ffn_down': (d, h), 'ffn_up': (h, d),
         'output_norm': (1, d)}
print('dims', d, h, L, H, K, V, S)
picks = [('token_embd', -1, 5, 7), ('token_embd', -1, 511, 63), ('attn_norm', 0, 0, 3), ('attn_q', 2, 10, 20),
         ('attn_k', 2, 31, 63), ('attn_v', 4, 0, 0), ('attn_output', 3, 63, 1), ('ffn_norm', 1, 0, 63),
         ('ffn_gate', 0, 171, 5), ('ffn_down', 4, 63, 171), ('ffn_up', 1, 100, 33), ('output_norm', -1, 0, 13)]
for kind, layer, row, col in picks:
    rows, cols = shape[kind]
    off = start[kind] + 4 * (max(layer, 0) * rows * cols + row * cols + col)
    name = kind + '.weight' if layer < 0 else 'blk.%d.%s.weight' % (layer, kind)
    print(name, row, col, repr(struct.unpack_from('<f', f, off)[0]))
]=])
lowbit_c_test(test_llama2c test_llama2c.c)
add_test(NAME llama2c
  COMMAND sh -c "/usr/bin/python3 -c \"$0\" \"$1\" | \"$2\" -"
          "${LOWBIT_L2C_REFERENCE}" "${LOWBIT_DATA}/stories260K/stories260K.bin" $<TARGET_FILE:test_llama2c>)
set_tests_properties(llama2c PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

# `lowbit import` end to end on stories260K: default (f32) and each --type
foreach(type default f16 bf16 q8_0)
  if(type STREQUAL "default")
    set(type_arg "")
  else()
    set(type_arg "--type ${type}")
  endif()
  add_test(NAME import_stories260K_${type}
    COMMAND sh -c "d=\"$LOWBIT_DATA/stories260K\"
      if [ ! -f \"$d/stories260K.bin\" ]
      then
        [ \"$CI\" = true ] && exit 1
        exit 77
      fi
      out=\"$LOWBIT_BUILD/import-test-${type}.gguf\"
      rm -f \"$out\"
      \"$LOWBIT\" import \"$d/stories260K.bin\" --tokenizer \"$d/tok512.bin\" ${type_arg} -o \"$out\" || exit 1
      [ -s \"$out\" ] || { echo no output file && exit 1 
      }
      ls \"$out\".tmp-* 2>/dev/null && { echo temp file left && exit 1 
      }
      rm -f \"$out\"")
  set_tests_properties(import_stories260K_${type} PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)
endforeach()

add_test(NAME hostile_import COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/hostile/hostile_import.sh)
set_tests_properties(hostile_import PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV}" SKIP_RETURN_CODE 77)

# fuzz corpora replayed through the same entry points in every build
foreach(parser safetensors llama2c hfconfig)
  lowbit_c_test(replay_${parser} fuzz/replay.c fuzz/fuzz_${parser}.c)
  add_test(NAME fuzz_replay_${parser} COMMAND replay_${parser} ${parser} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${parser})
  if(LOWBIT_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(fuzz_${parser} fuzz/fuzz_${parser}.c)
    target_link_libraries(fuzz_${parser} PRIVATE lbformats lbquant)
    target_link_options(fuzz_${parser} PRIVATE -fsanitize=fuzzer)
    # new inputs go to a scratch dir in the build tree; the checked-in corpus seeds it
    add_test(NAME fuzz_${parser}
      COMMAND sh -c "mkdir -p fuzz-work-${parser} && $<TARGET_FILE:fuzz_${parser}> -max_total_time=60 -rss_limit_mb=2048 -max_len=65536 fuzz-work-${parser} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${parser}")
    set_tests_properties(fuzz_${parser} PROPERTIES LABELS fuzz)
  endif()
endforeach()
