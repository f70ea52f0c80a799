# kura_layer(NAME): a static library kura_NAME from src/NAME/*.cc.
function(kura_layer name)
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  if(NOT srcs)
    set(srcs ${PROJECT_SOURCE_DIR}/cmake/empty.cc)
  endif()
  add_library(kura_${name} STATIC ${srcs})
  target_include_directories(kura_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
endfunction()

# Every test has one CTest label: "db" for suites that talk to real database servers
# (PostgreSQL, MariaDB), "slow" for long randomised/kill/disk-full scenarios (both by
# GoogleTest suite name, below), otherwise "unit" (layers below agent), "agent" (engine, agent
# and cli) or "e2e" (tests/e2e, tests/vault_e2e). `ctest -L unit` runs the quick ones, `ctest -LE 'db|slow'` all
# but the heavy ones.
set(KURA_DB_SUITES "Postgres*:Mysql*:Maria*:SqlHookTest.*:JobDb*:*DbTest.*")
set(KURA_SLOW_SUITES "CliKill*:CliDiskFull*:*Churn*:*Property*:*Random*:*Concurrent*")

# kura_test(LAYER [LIBS...]): one GoogleTest binary kura_LAYER_tests from
# tests/LAYER/*_test.cc, each test registered with CTest and labelled (see above).
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
  if(layer MATCHES "e2e$")
    set(base_label e2e)
  elseif(layer MATCHES "^(engine|agent|cli)$")
    set(base_label agent)
  else()
    set(base_label unit)
  endif()
  # One variable only: gtest_discover_tests flattens PROPERTIES into one list, so a second
  # "VAR=value" would become a property name of its own (and did, dropping the labels).
  # Tests find the source tree as their working directory (KURA_SOURCE_DIR overrides it).
  set(env "KURA_BIN=${CMAKE_BINARY_DIR}/bin/kura")
  # Three discoveries with disjoint filters give each test exactly one label (one only: the
  # PROPERTIES list is flattened, so a list value would split).
  gtest_discover_tests(kura_${layer}_tests
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    TEST_FILTER "-${KURA_DB_SUITES}:${KURA_SLOW_SUITES}"
    PROPERTIES ENVIRONMENT "${env}" LABELS "${base_label}"
    DISCOVERY_TIMEOUT 60)
  gtest_discover_tests(kura_${layer}_tests
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    TEST_FILTER "${KURA_DB_SUITES}"
    PROPERTIES ENVIRONMENT "${env}" LABELS db
    DISCOVERY_TIMEOUT 60)
  gtest_discover_tests(kura_${layer}_tests
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    TEST_FILTER "${KURA_SLOW_SUITES}-${KURA_DB_SUITES}"
    PROPERTIES ENVIRONMENT "${env}" LABELS slow
    DISCOVERY_TIMEOUT 60)
endfunction()
