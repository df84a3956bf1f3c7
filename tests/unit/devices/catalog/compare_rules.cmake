# Fails when the committed udev rules differ from the ones generated from the catalog.
# cmake -DCOMMITTED=... -DGENERATED=... -DBUILD_DIR=... -P compare_rules.cmake
if(NOT EXISTS "${GENERATED}")
  message(FATAL_ERROR "${GENERATED} does not exist: build the project first (ninja -C ${BUILD_DIR}).")
endif()
file(READ "${COMMITTED}" committed)
file(READ "${GENERATED}" generated)
if(NOT committed STREQUAL generated)
  message(FATAL_ERROR
    "udev/70-touchpass.rules differs from the rules generated from devices/catalog/tokens.json.\n"
    "Never edit the rules by hand: change tokens.json, then regenerate with\n"
    "  cmake --build ${BUILD_DIR} --target update-udev-rules\n"
    "and commit both files.")
endif()
message(STATUS "udev/70-touchpass.rules matches the catalog.")
