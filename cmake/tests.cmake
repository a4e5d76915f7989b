# Every tests/test_*.c is one ctest executable named after its file. Tests that
# touch Vulkan run with the Khronos validation layer (VKMIST_VALIDATE=1) and
# fail on any message; VKMIST_SHARED points at ../shared when it exists. Exit
# code 77 is a skip (a test whose prerequisite, e.g. MPI, is not built in).
# In a VKMIST_SANITIZE build the sanitizers' options come from here, so the
# vkmist processes the tests start get them too; leaks are suppressed only
# in the Vulkan driver stack (tools/lsan.supp says why, line by line).
file(GLOB VKMIST_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/test_*.c)
get_filename_component(VKMIST_SHARED_DIR ${CMAKE_CURRENT_SOURCE_DIR}/../shared ABSOLUTE)
set(VKMIST_TEST_ENV "VKMIST_VALIDATE=1;VKMIST_SHARED=${VKMIST_SHARED_DIR};VKMIST_SOURCE=${CMAKE_CURRENT_SOURCE_DIR};VKMIST_BIN=$<TARGET_FILE:vkmist>")
if(VKMIST_SANITIZE)
  list(APPEND VKMIST_TEST_ENV
    "ASAN_OPTIONS=detect_leaks=1:halt_on_error=1"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/tools/lsan.supp:print_suppressions=0")
endif()
foreach(src ${VKMIST_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/tests/testutil.c)
  target_link_libraries(${name} PRIVATE vkmist_lib)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${VKMIST_TEST_ENV}" TIMEOUT 1500 SKIP_RETURN_CODE 77)
endforeach()
# test_soak at 2,000 iterations (tools/test.sh) takes ~20 min on a loaded 2-core machine
set_tests_properties(test_soak PROPERTIES TIMEOUT 3600)
