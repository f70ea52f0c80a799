# kura_layer(NAME): a static library kura_NAME from src/NAME/*.cc.
function(kura_layer name)
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  if(NOT srcs)
    set(srcs ${PROJECT_SOURCE_DIR}/cmake/empty.cc)
  endif()
  add_library(kura_${name} STATIC ${srcs})
  target_include_directories(kura_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
endfunction()

# kura_test(LAYER): one GoogleTest binary kura_LAYER_tests from tests/LAYER/*_test.cc,
# each test registered with CTest. Extra link libraries may follow.
function(kura_test layer)
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${layer}/*_test.cc
                                   ${PROJECT_SOURCE_DIR}/tests/${layer}/*_support.cc)
  if(NOT srcs)
    return()
  endif()
  add_executable(kura_${layer}_tests ${srcs})
  if(TARGET kura_${layer})
    target_link_libraries(kura_${layer}_tests PRIVATE kura_${layer})
  endif()
  target_link_libraries(kura_${layer}_tests PRIVATE kura_testsupport ${ARGN}
                        GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(kura_${layer}_tests
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES ENVIRONMENT "KURA_BIN=${CMAKE_BINARY_DIR}/bin/kura;KURA_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    DISCOVERY_TIMEOUT 60)
endfunction()
