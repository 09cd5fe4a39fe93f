# train_data.cmake: HDF5 token stores, checkpoints (formats/h5_*.c), the data loader
# (libtrain/data_loader.c) and `lowbit tokenize`; h5py (Debian python3-h5py) reads what we write.
lowbit_c_test(test_h5 test_h5.c)
# (LSAN_OPTIONS: libhdf5 leaks on its own error paths for damaged files; see tests/h5/lsan.supp)
add_test(NAME h5_store COMMAND test_h5 ${CMAKE_BINARY_DIR}/h5test)
set_tests_properties(h5_store PROPERTIES
  ENVIRONMENT "${LOWBIT_TEST_ENV};LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/h5/lsan.supp" SKIP_RETURN_CODE 77
  FIXTURES_SETUP h5_files)

# h5py decodes our zstd datasets through lowbit's HDF5 plugin (top-level CMakeLists.txt; not
# in sanitizer/fuzz builds). Without it, check_h5py.py still decodes every chunk through
# libzstd (ctypes).
set(LOWBIT_H5_ENV "")
if(TARGET lowbit_h5zstd)
  # check_h5py.py then insists that h5py decodes the zstd datasets itself
  set(LOWBIT_H5_ENV "HDF5_PLUGIN_PATH=$<TARGET_FILE_DIR:lowbit_h5zstd>;LOWBIT_H5_PLUGIN_REQUIRED=1")
endif()

add_test(NAME h5_store_h5py
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/h5/check_h5py.py formulas ${CMAKE_BINARY_DIR}/h5test)
set_tests_properties(h5_store_h5py PROPERTIES ENVIRONMENT "${LOWBIT_TEST_ENV};${LOWBIT_H5_ENV}" SKIP_RETURN_CODE 77
  FIXTURES_REQUIRED h5_files)

# `lowbit tokenize` end to end on tinyshakespeare with the stories260K vocabulary (tok512):
# /train + /val must be exactly llama.cpp's tokenization (node-llama-cpp, tests/h5/llama_tokenize.mjs)
# with BOS in front, split by the documented rule, read through h5py; then `--info` on the
# result, and hostile token stores (garbage, truncated, a checkpoint, missing) -> exit 1 with one line.
add_test(NAME tokenize_tinyshakespeare
  COMMAND sh -c "d=\"$LOWBIT_DATA\"; w=\"$LOWBIT_BUILD/tokenize-test\"
    if [ ! -f \"$d/stories260K/stories260K.bin\" ] || [ ! -f \"$d/text/tinyshakespeare.txt\" ]
    then
      [ \"$CI\" = true ] && exit 1
      exit 77
    fi
    rm -rf \"$w\" && mkdir -p \"$w\" || exit 1
    \"$LOWBIT\" import \"$d/stories260K/stories260K.bin\" --tokenizer \"$d/stories260K/tok512.bin\" -o \"$w/s260.gguf\" || exit 1
    \"$LOWBIT\" tokenize --vocab \"$w/s260.gguf\" \"$d/text/tinyshakespeare.txt\" -o \"$w/tokens.h5\" --val-fraction 0.1 || exit 1
    node \"$LOWBIT_SRC/tests/h5/llama_tokenize.mjs\" \"$w/s260.gguf\" \"$d/text/tinyshakespeare.txt\" \"$w/llama.txt\"
    rc=$?; [ $rc = 0 ] || exit $rc
    /usr/bin/python3 \"$LOWBIT_SRC/tests/h5/check_h5py.py\" tokenize \"$w/tokens.h5\" \"$w/llama.txt\" || exit $?
    \"$LOWBIT\" tokenize --info \"$w/tokens.h5\" | grep -q '624028 train + 69336 val tokens' || exit 1
    head -c 3000 \"$w/tokens.h5\" > \"$w/truncated.h5\"
    head -c 3000 /dev/zero > \"$w/zeros.h5\"
    for bad in \"$w/truncated.h5\" \"$w/zeros.h5\" \"$w/s260.gguf\" \"$w/missing.h5\"
    do
      \"$LOWBIT\" tokenize --info \"$bad\" > \"$w/out.txt\" 2> \"$w/err.txt\"
      rc=$?
      [ $rc = 1 ] || { echo \"$bad: exit $rc, want 1\"; exit 1; }
      [ \"$(wc -l < \"$w/err.txt\")\" = 1 ] || { echo \"$bad: not one line:\"; cat \"$w/err.txt\"; exit 1; }
      cat \"$w/err.txt\"
    done
    \"$LOWBIT\" tokenize --vocab \"$w/s260.gguf\" \"$w/missing.txt\" -o \"$w/none.h5\" 2> \"$w/err.txt\"
    [ $? = 1 ] && [ ! -e \"$w/none.h5\" ] && [ -z \"$(ls \"$w\" | grep tmp)\" ] || { echo 'failed run left output'; exit 1; }
    echo ok")
set_tests_properties(tokenize_tinyshakespeare PROPERTIES
  ENVIRONMENT "${LOWBIT_TEST_ENV};${LOWBIT_H5_ENV};LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/h5/lsan.supp"
  SKIP_RETURN_CODE 77 TIMEOUT 120)
