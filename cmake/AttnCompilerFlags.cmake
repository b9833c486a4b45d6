# Warning and sanitizer flags for attn's own targets. LLVM's headers are
# included as system headers so -Werror applies to our code only.

# Like LLVM itself: generated ODS code leaves parameters unused.
set(ATTN_WARNING_FLAGS -Wall -Wextra -Wno-unused-parameter)
if(ATTN_WERROR)
  list(APPEND ATTN_WARNING_FLAGS -Werror)
endif()

if(ATTN_ENABLE_SANITIZERS)
  set(ATTN_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                           -fno-omit-frame-pointer)
  add_compile_options(${ATTN_SANITIZER_FLAGS})
  add_link_options(-fsanitize=address,undefined)
endif()

# Environment of every test. LLVM's headers poison BumpPtrAllocator slabs
# in instrumented code (LLVM_ADDRESS_SANITIZER_BUILD) while the packaged,
# uninstrumented libMLIR.so never unpoisons them, so user poisoning is off;
# all of ASan's own checks stay on.
set(ATTN_TEST_ENVIRONMENT
    "ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=1:abort_on_error=0"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

set(ATTN_ASAN_DEFAULTS_SOURCE ${CMAKE_CURRENT_LIST_DIR}/AsanDefaults.cpp)

# Applies attn's warning flags to a target of ours; in the sanitizer build
# an executable also gets ASan's defaults (cmake/AsanDefaults.cpp), which
# hold under `env -i` too.
function(attn_target_warnings target)
  target_compile_options(${target} PRIVATE ${ATTN_WARNING_FLAGS})
  get_target_property(type ${target} TYPE)
  if(ATTN_ENABLE_SANITIZERS AND type STREQUAL "EXECUTABLE")
    target_sources(${target} PRIVATE ${ATTN_ASAN_DEFAULTS_SOURCE})
  endif()
endfunction()
