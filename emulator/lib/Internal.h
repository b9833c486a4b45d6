//===- Internal.h - The emulator's blocks, threads and shadow memory ------===//
//
// Shared by the scheduler (Runtime.cpp), the memory checks (Memory.cpp) and
// the warp collectives (WarpOps.cpp). Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_EMULATOR_LIB_INTERNAL_H
#define ATTN_EMULATOR_LIB_INTERNAL_H

#include "attn/Emulator/Runtime.h"

#include <deque>
#include <memory>
#include <string>
#include <ucontext.h>
#include <vector>

namespace mlir::attn::emu::detail {

enum class State { Runnable, AtBarrier, AtCollective, Done };

enum class CollectiveKind : uint32_t { Shuffle, Vote, Ldmatrix, Mma };

/// One lane's part in a warp collective it waits in. The pointers refer to
/// the lane's own (suspended) stack.
struct CollectiveArgs {
  CollectiveKind kind = CollectiveKind::Shuffle;
  uint32_t variant = 0; // shuffle mode, vote kind, ldmatrix num/trans, ...
  uint32_t memberMask = 0;
  uint32_t value = 0, laneOrOffset = 0, clamp = 0;
  const void *address = nullptr;
  const uint32_t *a = nullptr, *b = nullptr;
  const float *c = nullptr;
  uint32_t *out32 = nullptr;
  float *outF32 = nullptr;
  uint32_t result = 0;
  bool inRange = false;
};

/// A cp.async that has been issued but whose group has not completed.
struct AsyncCopy {
  uint8_t *dst;
  const uint8_t *src;
  uint32_t bytes, srcBytes;
};

struct Thread {
  ucontext_t context;
  std::unique_ptr<char[]> stack;
  State state = State::Runnable;
  uint32_t tid[3] = {0, 0, 0};
  uint32_t linear = 0;
  CollectiveArgs collective;
  std::vector<AsyncCopy> openGroup;                 // not yet committed
  std::deque<std::vector<AsyncCopy>> pendingGroups; // committed, in flight
  void *fakeStack = nullptr; // ASan's bookkeeping while switched out
};

/// What the race and initialisation checks remember per shared byte.
struct ShadowByte {
  uint32_t writer = 0;     // linear thread id + 1 of the last writer
  uint32_t writeEpoch = 0; // barrier epoch of that write
  uint32_t reader = 0;     // a reader in readEpoch (linear id + 1)
  uint32_t readEpoch = 0;
  uint8_t flags = 0; // kInitialized | kManyReaders | kPending
};
constexpr uint8_t kInitialized = 1, kManyReaders = 2, kPending = 4;

struct Block {
  const LaunchConfig *config = nullptr;
  KernelFn kernel = nullptr;
  void **args = nullptr;
  uint32_t ctaid[3] = {0, 0, 0};
  std::vector<Thread> threads;
  /// Static shared memory, then dynamic shared memory at dynamicOffset.
  std::vector<uint8_t> shared;
  size_t dynamicOffset = 0;
  std::vector<ShadowByte> shadow;
  uint32_t epoch = 1;                // incremented by every completed barrier
  std::string deferredUninitialized; // reported at the end of the epoch
  ucontext_t scheduler;
  const void *schedulerStack = nullptr;
  size_t schedulerStackSize = 0;
  void *schedulerFakeStack = nullptr;
  std::string error;
  Counters counters;

  std::string where(const Thread &t) const;
  void fail(const std::string &message) {
    if (error.empty())
      error = message;
  }
};

extern thread_local Block *currentBlock;
extern thread_local Thread *currentThread;

/// Suspends the running fiber until the scheduler resumes it.
void switchToScheduler(bool finished);
/// Waits in a warp collective described by `args`.
void enterCollective(const CollectiveArgs &args);

/// Completes the warp collectives whose lanes have all arrived
/// (WarpOps.cpp). Returns true if any thread became runnable.
bool resolveCollectives(Block &block);

/// Memory checks (Memory.cpp). `t` is the accessing thread.
void checkAccess(Block &block, Thread &t, const void *address, uint64_t bytes,
                 bool write, uint32_t space);
/// Completes `t`'s cp.async groups until at most `keep` remain in flight.
void completeAsyncCopies(Block &block, Thread &t, size_t keep);
/// Reports a read of uninitialised shared memory deferred to the epoch end.
void flushDeferredReports(Block &block);
std::string hex(const void *address);

} // namespace mlir::attn::emu::detail

#endif // ATTN_EMULATOR_LIB_INTERNAL_H
