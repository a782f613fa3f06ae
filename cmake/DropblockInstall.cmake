# Install the header, an exported CMake package and a pkg-config file.
# Everything is architecture independent, so it goes under the data dir.
include(CMakePackageConfigHelpers)

set(DROPBLOCK_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/dropblock")
set(DROPBLOCK_PKGCONFIG_DIR "${CMAKE_INSTALL_DATADIR}/pkgconfig")

install(FILES "${PROJECT_SOURCE_DIR}/include/dropblock.h" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DOCDIR}" OPTIONAL)
install(TARGETS dropblock EXPORT dropblockTargets)
install(EXPORT dropblockTargets NAMESPACE dropblock:: DESTINATION "${DROPBLOCK_CMAKE_DIR}")

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/dropblockConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/dropblockConfig.cmake"
  INSTALL_DESTINATION "${DROPBLOCK_CMAKE_DIR}")
# AnyNewerVersion: 2.x keeps the whole 1.x API, so find_package(dropblock 1.0)
# must accept 2.x; a request for a later version than installed fails.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/dropblockConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY AnyNewerVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/dropblockConfig.cmake"
              "${PROJECT_BINARY_DIR}/dropblockConfigVersion.cmake"
        DESTINATION "${DROPBLOCK_CMAKE_DIR}")

# The .pc names the prefix given at install time (`cmake --install --prefix
# <elsewhere>` differs from the configured CMAKE_INSTALL_PREFIX), so it is
# written then: configuring fills in everything else and leaves
# @CMAKE_INSTALL_PREFIX@ for the install step.
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(DROPBLOCK_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(DROPBLOCK_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(DROPBLOCK_PC_PREFIX "@CMAKE_INSTALL_PREFIX@")
configure_file("${CMAKE_CURRENT_LIST_DIR}/dropblock.pc.in" "${PROJECT_BINARY_DIR}/dropblock.pc.install" @ONLY)
install(CODE "configure_file(\"${PROJECT_BINARY_DIR}/dropblock.pc.install\" \"${PROJECT_BINARY_DIR}/dropblock.pc\" @ONLY)")
install(FILES "${PROJECT_BINARY_DIR}/dropblock.pc" DESTINATION "${DROPBLOCK_PKGCONFIG_DIR}")
