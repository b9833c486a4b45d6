# cmake --install: headers, libraries, tools and a CMake package, so that a
# host application does
#   find_package(attn REQUIRED CONFIG)
#   target_link_libraries(app PRIVATE attn::jit)      # compiler + runtime
#   target_link_libraries(app PRIVATE attn::runtime)  # launching PTX only
# attn::jit needs LLVM/MLIR 22 (libMLIR.so), found through the package's
# find_dependency; attn::runtime needs nothing but libdl.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ATTN_INSTALL_LIBS AttnMask AttnDialect AttnTransforms AttnToHost AttnToGPU
    AttnGPUToNVVM AttnEmulatorRuntime AttnEmulatorTarget AttnLLVMPipeline
    AttnPTXTarget AttnJIT)
foreach(lib ${ATTN_INSTALL_LIBS})
  target_include_directories(${lib} INTERFACE
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
set_target_properties(AttnJIT PROPERTIES EXPORT_NAME jit)
install(TARGETS ${ATTN_INSTALL_LIBS} EXPORT attnJitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT attnJitTargets NAMESPACE attn::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/attn)

if(TARGET attn_runtime)
  set_target_properties(attn_runtime PROPERTIES EXPORT_NAME runtime)
  install(TARGETS attn_runtime EXPORT attnRuntimeTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT attnRuntimeTargets NAMESPACE attn::
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/attn)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/attn
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/attn/JIT
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/attn)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/emulator/include/attn/Emulator
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/attn)
install(TARGETS attn-opt attn-run attn-ptx
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/attnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/attnConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/attn)
install(FILES ${PROJECT_BINARY_DIR}/attnConfig.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/attn)
