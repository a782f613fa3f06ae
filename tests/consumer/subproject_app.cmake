# Shared by the add_subdirectory() and FetchContent consumers: dropblock is
# not the top-level project there, so its tests, examples, bench, fuzz and
# install must stay off; then the app links dropblock::dropblock.
foreach(_opt DROPBLOCK_BUILD_TESTS DROPBLOCK_BUILD_EXAMPLES DROPBLOCK_BUILD_BENCH DROPBLOCK_BUILD_FUZZ DROPBLOCK_INSTALL)
  if(${_opt})
    message(FATAL_ERROR "${_opt} is ON in a subproject")
  endif()
endforeach()

add_executable(app "${CMAKE_CURRENT_LIST_DIR}/main.c")
target_link_libraries(app PRIVATE dropblock::dropblock)
