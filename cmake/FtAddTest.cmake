# ft_add_test(NAME <name> COMMAND <cmd> [args...]
#             [LABELS <label>...] [TIMEOUT <s>]
#             [EXPECT_EXIT <code>] [EXPECT_OUTPUT <regex>...] [REJECT_OUTPUT <regex>...])
#
# One place for LABELS, TIMEOUT and SKIP_RETURN_CODE.  A test
# that must fail in a particular way (a negative control) names the exit
# code and the text it expects; it then runs under tests/expect.sh, so a
# usage error or a crash can never pass for the expected detection.
# TSan reports fail every test: TSan's exit code (66) is not expected
# unless a test says so.
function(ft_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT;EXPECT_EXIT"
                        "COMMAND;LABELS;EXPECT_OUTPUT;REJECT_OUTPUT" ${ARGN})
  if(NOT T_NAME OR NOT T_COMMAND)
    message(FATAL_ERROR "ft_add_test: NAME and COMMAND are required")
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  # add_test() maps a target name to its file only as the first word, and
  # the wrapper below moves it: map it here.
  list(GET T_COMMAND 0 prog)
  if(TARGET ${prog})
    list(REMOVE_AT T_COMMAND 0)
    list(PREPEND T_COMMAND $<TARGET_FILE:${prog}>)
  endif()
  set(cmd ${T_COMMAND})
  if(DEFINED T_EXPECT_EXIT OR T_EXPECT_OUTPUT OR T_REJECT_OUTPUT)
    if(NOT DEFINED T_EXPECT_EXIT)
      set(T_EXPECT_EXIT 0)
    endif()
    set(cmd ${PROJECT_SOURCE_DIR}/tests/expect.sh --exit ${T_EXPECT_EXIT})
    foreach(re IN LISTS T_EXPECT_OUTPUT)
      list(APPEND cmd --match "${re}")
    endforeach()
    foreach(re IN LISTS T_REJECT_OUTPUT)
      list(APPEND cmd --reject "${re}")
    endforeach()
    list(APPEND cmd -- ${T_COMMAND})
  endif()
  add_test(NAME ${T_NAME} COMMAND ${cmd})
  set_tests_properties(${T_NAME} PROPERTIES
    LABELS "${T_LABELS}"
    TIMEOUT ${T_TIMEOUT}
    SKIP_RETURN_CODE 77
    ENVIRONMENT "TSAN_OPTIONS=halt_on_error=0 exitcode=66 second_deadlock_stack=1")
endfunction()
