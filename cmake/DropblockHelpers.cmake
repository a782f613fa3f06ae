# Helpers for the project's own targets (tests, examples, bench, fuzz).
# They are not applied to the dropblock INTERFACE target, so a consumer never
# inherits -Werror.

# Cache knobs used by the presets:
#   DROPBLOCK_TEST_LAUNCHER  command list prepended to every test program
#                            (the valgrind preset sets valgrind and its options)
#   DROPBLOCK_TEST_TIMEOUT   seconds before ctest kills a test
set(DROPBLOCK_TEST_LAUNCHER "" CACHE STRING "Command prepended to every test program (e.g. valgrind)")
set(DROPBLOCK_TEST_TIMEOUT 300 CACHE STRING "ctest TIMEOUT, in seconds, of every test")

# dropblock_strict(<target>...): C99 without extensions, warnings as errors.
function(dropblock_strict)
  foreach(_t IN LISTS ARGN)
    set_target_properties(${_t} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
    if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
      target_compile_options(${_t} PRIVATE
        "$<$<COMPILE_LANGUAGE:C>:-Wall;-Wextra;-Wpedantic;-Werror>")
    endif()
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
      target_compile_options(${_t} PRIVATE
        "$<$<COMPILE_LANGUAGE:CXX>:-Wall;-Wextra;-Wpedantic;-Werror>")
    endif()
  endforeach()
endfunction()

# dropblock_add_test(<name> <target> [args...]): add_test through the launcher,
# with the project's timeout. Extra test properties can be set afterwards.
function(dropblock_add_test name target)
  add_test(NAME ${name} COMMAND ${DROPBLOCK_TEST_LAUNCHER} $<TARGET_FILE:${target}> ${ARGN})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${DROPBLOCK_TEST_TIMEOUT})
endfunction()
