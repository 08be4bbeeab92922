# Helpers shared by every folder's CMakeLists.txt.

# ovllm_add_module(<name> [DEPS <targets...>])
# Builds the static library ovllm_<name> from every .cpp under the calling folder.
# A folder with no sources yet becomes an INTERFACE library, so dependents still link.
function(ovllm_add_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  set(_target ovllm_${name})
  if(_srcs)
    add_library(${_target} STATIC ${_srcs})
    set(_scope PUBLIC)
    target_compile_options(${_target} PRIVATE ${OVLLM_WARNINGS})
  else()
    add_library(${_target} INTERFACE)
    set(_scope INTERFACE)
  endif()
  target_include_directories(${_target} ${_scope}
    ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/generated)
  target_compile_features(${_target} ${_scope} cxx_std_20)
  if(ARG_DEPS)
    target_link_libraries(${_target} ${_scope} ${ARG_DEPS})
  endif()
endfunction()

# ovllm_add_test(<module> [DEPS <targets...>])
# Builds test_<module> from every .cpp in tests/<module> and registers each GoogleTest case with ctest.
function(ovllm_add_test module)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${module}/*.cpp)
  if(NOT _srcs)
    return()
  endif()
  set(_target test_${module})
  add_executable(${_target} ${_srcs})
  target_compile_options(${_target} PRIVATE ${OVLLM_WARNINGS})
  target_link_libraries(${_target} PRIVATE ${ARG_DEPS} ovllm_test_support GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${_target} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS ${module} TIMEOUT 900)
endfunction()
