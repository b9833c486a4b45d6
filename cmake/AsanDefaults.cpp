//===- AsanDefaults.cpp - ASan's defaults for attn's executables ----------===//
//
// Linked into every executable of the ASan + UBSan build
// (ATTN_ENABLE_SANITIZERS). LLVM's headers poison BumpPtrAllocator slabs
// in instrumented code while the packaged, uninstrumented libMLIR.so never
// unpoisons them (cmake/AttnCompilerFlags.cmake), so user poisoning is off
// by default here, not only in the tests' ASAN_OPTIONS: a scrubbed
// environment (`env -i attn-ptx ...`, the tests of what a user's machine
// may lack) keeps it. ASAN_OPTIONS still overrides.
//
// LeakSanitizer ignores what LLVM's OpenMP runtime (libomp, the host
// kernels' threads) allocates: it keeps the descriptors of host threads
// that forked a team and then exited (HostJIT.ConcurrentRunsOfOneKernel's
// callers) until its own shutdown, which comes after LSan's check at exit.
//
//===----------------------------------------------------------------------===//

extern "C" __attribute__((visibility("default"), used)) const char *
__asan_default_options() {
  return "allow_user_poisoning=0";
}

extern "C" __attribute__((visibility("default"), used)) const char *
__lsan_default_suppressions() {
  return "leak:libomp.so\n";
}
