//===- Runtime.cpp - Run GPU kernels on the CPU, thread by thread ---------===//
//
// Each block's threads are ucontext fibers driven by a scheduler: a fiber
// runs until it reaches a barrier or a warp collective, or ends; when every
// thread a barrier or collective waits for has arrived, the scheduler
// completes it and makes them runnable again. Anything else (a barrier some
// threads never reach, lanes disagreeing on a collective, nobody runnable)
// is an error that ends the launch.
//
//===----------------------------------------------------------------------===//

#include "attn/Emulator/Runtime.h"

#include <cstring>
#include <memory>
#include <sstream>
#include <ucontext.h>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATTN_EMU_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ATTN_EMU_ASAN 1
#endif

#ifdef ATTN_EMU_ASAN
extern "C" void __sanitizer_start_switch_fiber(void **fakeStackSave,
                                               const void *bottom, size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void *fakeStackSave,
                                                const void **bottomOld,
                                                size_t *sizeOld);
#endif

using namespace mlir::attn::emu;

namespace {

enum class State { Runnable, AtBarrier, AtCollective, Done };

/// One lane's view of a warp collective it waits in.
struct CollectiveArgs {
  uint32_t mode = 0, memberMask = 0, value = 0, laneOrOffset = 0, clamp = 0;
  uint32_t result = 0;
  bool inRange = false;
};

struct Thread {
  ucontext_t context;
  std::unique_ptr<char[]> stack;
  State state = State::Runnable;
  uint32_t tid[3] = {0, 0, 0};
  uint32_t linear = 0;
  CollectiveArgs collective;
  void *fakeStack = nullptr; // ASan's bookkeeping while switched out
};

struct Block {
  const LaunchConfig *config = nullptr;
  KernelFn kernel = nullptr;
  void **args = nullptr;
  uint32_t ctaid[3] = {0, 0, 0};
  std::vector<Thread> threads;
  std::vector<uint8_t> shared;
  std::vector<uint8_t> staticShared;
  ucontext_t scheduler;
  const void *schedulerStack = nullptr;
  size_t schedulerStackSize = 0;
  void *schedulerFakeStack = nullptr;
  std::string error;
  Counters *counters = nullptr;

  std::string where(const Thread &t) const {
    std::ostringstream os;
    os << "block (" << ctaid[0] << ", " << ctaid[1] << ", " << ctaid[2]
       << ") thread (" << t.tid[0] << ", " << t.tid[1] << ", " << t.tid[2]
       << ")";
    return os.str();
  }
  void fail(const std::string &message) {
    if (error.empty())
      error = message;
  }
};

thread_local Block *currentBlock = nullptr;
thread_local Thread *currentThread = nullptr;

/// Switches from the running fiber back to the scheduler; returns when the
/// scheduler resumes this fiber. `finished` fibers never resume.
void switchToScheduler(bool finished) {
  Block *block = currentBlock;
  Thread *self = currentThread;
#ifdef ATTN_EMU_ASAN
  __sanitizer_start_switch_fiber(finished ? nullptr : &self->fakeStack,
                                 block->schedulerStack,
                                 block->schedulerStackSize);
#endif
  (void)finished;
  swapcontext(&self->context, &block->scheduler);
#ifdef ATTN_EMU_ASAN
  __sanitizer_finish_switch_fiber(self->fakeStack, nullptr, nullptr);
#endif
}

void fiberEntry() {
  Block *block = currentBlock;
#ifdef ATTN_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &block->schedulerStack,
                                  &block->schedulerStackSize);
#endif
  block->kernel(block->args);
  currentThread->state = State::Done;
  switchToScheduler(/*finished=*/true);
}

/// Resumes `t` until it yields back.
void resume(Block &block, Thread &t) {
  currentThread = &t;
#ifdef ATTN_EMU_ASAN
  __sanitizer_start_switch_fiber(&block.schedulerFakeStack, t.stack.get(),
                                 block.config->stackBytes);
#endif
  swapcontext(&block.scheduler, &t.context);
#ifdef ATTN_EMU_ASAN
  __sanitizer_finish_switch_fiber(block.schedulerFakeStack, nullptr, nullptr);
#endif
  currentThread = nullptr;
}

/// PTX ISA shfl.sync semantics for one lane.
void completeShuffle(std::vector<Thread *> &warp, Thread &t, uint32_t lane,
                     Block &block) {
  const CollectiveArgs &a = t.collective;
  uint32_t segmask = (a.clamp >> 8) & 0x1f;
  uint32_t cval = a.clamp & 0x1f;
  int maxLane = static_cast<int>((lane & segmask) | (cval & ~segmask));
  int minLane = static_cast<int>(lane & segmask);
  int b = static_cast<int>(a.laneOrOffset & 0x1f);
  int j = 0;
  bool pval = false;
  switch (a.mode) {
  case 0: // idx
    j = minLane | (b & ~static_cast<int>(segmask));
    pval = j <= maxLane;
    break;
  case 1: // up
    j = static_cast<int>(lane) - b;
    pval = j >= maxLane;
    break;
  case 2: // down
    j = static_cast<int>(lane) + b;
    pval = j <= maxLane;
    break;
  default: // bfly
    j = static_cast<int>(lane) ^ b;
    pval = j <= maxLane;
    break;
  }
  if (!pval)
    j = static_cast<int>(lane);
  if (j < 0 || j >= static_cast<int>(warp.size()) || !warp[j] ||
      !(a.memberMask & (1u << j))) {
    block.fail("shfl.sync in " + block.where(t) + " reads lane " +
               std::to_string(j) + ", which is not in the member mask");
    return;
  }
  t.collective.result = warp[j]->collective.value;
  t.collective.inRange = pval;
}

/// Completes the warp collectives whose lanes have all arrived. Returns
/// true if any thread became runnable.
bool resolveCollectives(Block &block) {
  bool progressed = false;
  size_t numWarps = (block.threads.size() + 31) / 32;
  for (size_t w = 0; w < numWarps; ++w) {
    std::vector<Thread *> warp(32, nullptr);
    for (size_t l = 0; l < 32 && w * 32 + l < block.threads.size(); ++l)
      warp[l] = &block.threads[w * 32 + l];
    // The first waiting lane defines the collective.
    Thread *first = nullptr;
    for (Thread *t : warp)
      if (t && t->state == State::AtCollective) {
        first = t;
        break;
      }
    if (!first)
      continue;
    uint32_t mask = first->collective.memberMask;
    bool complete = true;
    for (uint32_t l = 0; l < 32; ++l) {
      if (!(mask & (1u << l)))
        continue;
      Thread *t = warp[l];
      if (!t) {
        block.fail("warp collective in " + block.where(*first) +
                   " names lane " + std::to_string(l) +
                   " in its member mask, which does not exist");
        return false;
      }
      if (t->state != State::AtCollective) {
        complete = false;
        continue;
      }
      if (t->collective.mode != first->collective.mode ||
          t->collective.memberMask != mask) {
        block.fail("divergent warp collective: " + block.where(*t) + " and " +
                   block.where(*first) + " execute different shuffles");
        return false;
      }
    }
    if (!complete)
      continue;
    for (uint32_t l = 0; l < 32; ++l)
      if (mask & (1u << l))
        completeShuffle(warp, *warp[l], l, block);
    if (!block.error.empty())
      return false;
    for (uint32_t l = 0; l < 32; ++l)
      if (mask & (1u << l))
        warp[l]->state = State::Runnable;
    ++block.counters->warpCollectives;
    progressed = true;
  }
  return progressed;
}

/// Releases a block barrier once every thread waits at it.
bool resolveBarrier(Block &block) {
  size_t atBarrier = 0, done = 0;
  for (const Thread &t : block.threads) {
    atBarrier += t.state == State::AtBarrier;
    done += t.state == State::Done;
  }
  if (atBarrier == 0 || atBarrier + done != block.threads.size())
    return false;
  if (done) {
    const Thread *waiting = nullptr, *exited = nullptr;
    for (const Thread &t : block.threads) {
      if (!waiting && t.state == State::AtBarrier)
        waiting = &t;
      if (!exited && t.state == State::Done)
        exited = &t;
    }
    block.fail("barrier not reached by every thread: " + block.where(*waiting) +
               " waits at it but " + block.where(*exited) + " has exited");
    return false;
  }
  for (Thread &t : block.threads)
    t.state = State::Runnable;
  ++block.counters->barriers;
  return true;
}

std::string describeDeadlock(const Block &block) {
  std::ostringstream os;
  os << "deadlock in block (" << block.ctaid[0] << ", " << block.ctaid[1]
     << ", " << block.ctaid[2] << "): ";
  size_t counts[4] = {0, 0, 0, 0};
  for (const Thread &t : block.threads)
    ++counts[static_cast<int>(t.state)];
  os << counts[1] << " threads at a barrier, " << counts[2]
     << " at a warp collective, " << counts[3] << " exited";
  return os.str();
}

void runBlock(Block &block) {
  const LaunchConfig &config = *block.config;
  const Dim3 &dim = config.block;
  block.threads = std::vector<Thread>(dim.count());
  uint32_t linear = 0;
  for (uint32_t z = 0; z < dim.z; ++z)
    for (uint32_t y = 0; y < dim.y; ++y)
      for (uint32_t x = 0; x < dim.x; ++x, ++linear) {
        Thread &t = block.threads[linear];
        t.tid[0] = x;
        t.tid[1] = y;
        t.tid[2] = z;
        t.linear = linear;
        t.stack = std::make_unique<char[]>(config.stackBytes);
        getcontext(&t.context);
        t.context.uc_stack.ss_sp = t.stack.get();
        t.context.uc_stack.ss_size = config.stackBytes;
        t.context.uc_link = nullptr;
        makecontext(&t.context, fiberEntry, 0);
      }
  block.shared.assign(config.dynamicSharedBytes, 0);
  block.staticShared.assign(config.staticSharedBytes, 0);
  currentBlock = &block;
  while (block.error.empty()) {
    bool ran = false;
    for (Thread &t : block.threads)
      if (t.state == State::Runnable) {
        resume(block, t);
        ran = true;
        if (!block.error.empty())
          break;
      }
    if (!block.error.empty())
      break;
    bool allDone = true;
    for (const Thread &t : block.threads)
      allDone &= t.state == State::Done;
    if (allDone)
      break;
    bool progressed = resolveCollectives(block);
    if (!block.error.empty())
      break;
    progressed |= resolveBarrier(block);
    if (!block.error.empty())
      break;
    if (!progressed && !ran)
      block.fail(describeDeadlock(block));
  }
  currentBlock = nullptr;
}

Block &requireBlock(const char *what) {
  // Kernels only call the ABI inside a launch; a call outside is a bug in
  // the caller, reported by a null dereference rather than silently.
  (void)what;
  return *currentBlock;
}

} // namespace

LaunchResult mlir::attn::emu::launch(const LaunchConfig &config,
                                     KernelFn kernel, void **args) {
  LaunchResult result;
  if (config.block.count() == 0 || config.grid.count() == 0) {
    result.ok = false;
    result.error = "empty grid or block";
    return result;
  }
  if (config.block.count() > 1024) {
    result.ok = false;
    result.error = "block of " + std::to_string(config.block.count()) +
                   " threads exceeds the 1024 that CUDA allows";
    return result;
  }
  const Dim3 &grid = config.grid;
  for (uint32_t z = 0; z < grid.z; ++z)
    for (uint32_t y = 0; y < grid.y; ++y)
      for (uint32_t x = 0; x < grid.x; ++x) {
        Block block;
        block.config = &config;
        block.kernel = kernel;
        block.args = args;
        block.ctaid[0] = x;
        block.ctaid[1] = y;
        block.ctaid[2] = z;
        block.counters = &result.counters;
        runBlock(block);
        if (!block.error.empty()) {
          result.ok = false;
          result.error = block.error;
          return result;
        }
      }
  return result;
}

extern "C" {

uint32_t attn_emu_tid(uint32_t dim) { return currentThread->tid[dim % 3]; }

uint32_t attn_emu_ntid(uint32_t dim) {
  const Dim3 &d = requireBlock("ntid").config->block;
  return dim == 0 ? d.x : dim == 1 ? d.y : d.z;
}

uint32_t attn_emu_ctaid(uint32_t dim) {
  return requireBlock("ctaid").ctaid[dim % 3];
}

uint32_t attn_emu_nctaid(uint32_t dim) {
  const Dim3 &d = requireBlock("nctaid").config->grid;
  return dim == 0 ? d.x : dim == 1 ? d.y : d.z;
}

uint32_t attn_emu_laneid() { return currentThread->linear % 32; }

uint32_t attn_emu_warpid() { return currentThread->linear / 32; }

void attn_emu_barrier0() {
  currentThread->state = State::AtBarrier;
  switchToScheduler(/*finished=*/false);
}

uint32_t attn_emu_shfl_sync(uint32_t mode, uint32_t memberMask, uint32_t value,
                            uint32_t laneOrOffset, uint32_t clamp,
                            bool *inRange) {
  Thread &self = *currentThread;
  self.collective =
      CollectiveArgs{mode, memberMask, value, laneOrOffset, clamp, 0, false};
  self.state = State::AtCollective;
  switchToScheduler(/*finished=*/false);
  if (inRange)
    *inRange = self.collective.inRange;
  return self.collective.result;
}

uint64_t attn_emu_shfl_sync_packed(uint32_t mode, uint32_t memberMask,
                                   uint32_t value, uint32_t laneOrOffset,
                                   uint32_t clamp) {
  bool inRange = false;
  uint32_t result = attn_emu_shfl_sync(mode, memberMask, value, laneOrOffset,
                                       clamp, &inRange);
  return uint64_t{result} | (uint64_t{inRange} << 32);
}

void *attn_emu_static_shared() {
  Block &block = requireBlock("static shared memory");
  return block.staticShared.empty() ? nullptr : block.staticShared.data();
}

void *attn_emu_dynamic_shared() {
  Block &block = requireBlock("dynamic shared memory");
  return block.shared.empty() ? nullptr : block.shared.data();
}

} // extern "C"
