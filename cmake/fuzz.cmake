# Fuzzing (tests/fuzz/). Always: test_fuzz_regress gets every fuzz target
# compiled as a plain function (VKMIST_FUZZ_REPLAY) to replay the committed
# corpora and crash regressions under gcc, and fuzz_make_corpus (built only on
# request) writes the seed corpora. With -DVKMIST_FUZZ=ON and clang: each
# tests/fuzz/fuzz_<name>.c becomes a libFuzzer executable with ASan+UBSan over
# the io/ and checkpoint sources (no Vulkan, no shaders); tools/fuzz.sh runs them.
file(GLOB VKMIST_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
list(FILTER VKMIST_FUZZ_TARGETS EXCLUDE REGEX "fuzz_util\\.c$")
set(VKMIST_FUZZ_UTIL ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/fuzz_util.c)

if(TARGET test_fuzz_regress)
  target_sources(test_fuzz_regress PRIVATE ${VKMIST_FUZZ_TARGETS} ${VKMIST_FUZZ_UTIL})
  target_compile_definitions(test_fuzz_regress PRIVATE VKMIST_FUZZ_REPLAY)
endif()

add_executable(fuzz_make_corpus EXCLUDE_FROM_ALL ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/make_corpus.c)
target_link_libraries(fuzz_make_corpus PRIVATE vkmist_lib)

if(VKMIST_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "VKMIST_FUZZ needs clang (libFuzzer): configure with CC=clang")
  endif()
  set(VKMIST_FUZZ_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  file(GLOB VKMIST_FUZZ_LIB_SOURCES CONFIGURE_DEPENDS io/*.c train/checkpoint*.c)
  add_library(vkmist_fuzzlib STATIC EXCLUDE_FROM_ALL ${VKMIST_FUZZ_LIB_SOURCES} ${VKMIST_FUZZ_UTIL})
  target_include_directories(vkmist_fuzzlib PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${CJSON_INCLUDE_DIR} ${NIFTI_INCLUDE_DIR})
  target_compile_options(vkmist_fuzzlib PUBLIC ${VKMIST_FUZZ_FLAGS} -fsanitize=fuzzer-no-link)
  target_link_libraries(vkmist_fuzzlib PUBLIC ${NIFTI2_LIBRARY} ${ZNZ_LIBRARY} PNG::PNG ZLIB::ZLIB ${CJSON_LIBRARY} m)
  add_custom_target(fuzz_all)
  foreach(src ${VKMIST_FUZZ_TARGETS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} EXCLUDE_FROM_ALL ${src})
    target_link_libraries(${name} PRIVATE vkmist_fuzzlib)
    target_link_options(${name} PRIVATE ${VKMIST_FUZZ_FLAGS} -fsanitize=fuzzer)
    add_dependencies(fuzz_all ${name})
  endforeach()
endif()
