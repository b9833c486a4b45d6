//===- Runtime.cpp - Run GPU kernels on the CPU, thread by thread ---------===//
//
// Each block's threads are ucontext fibers driven by a scheduler: a fiber
// runs until it reaches a barrier or a warp collective, or ends; when every
// thread a barrier or collective waits for has arrived, the scheduler
// completes it and makes them runnable again. Anything else (a barrier some
// threads never reach, lanes disagreeing on a collective, nobody runnable)
// is an error that ends the launch. Blocks are independent and may run on
// several host threads.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

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
using namespace mlir::attn::emu::detail;

namespace mlir::attn::emu::detail {

thread_local Block *currentBlock = nullptr;
thread_local Thread *currentThread = nullptr;

std::string Block::where(const Thread &t) const {
  std::ostringstream os;
  os << "kernel '" << config->kernelName << "' block (" << ctaid[0] << ", "
     << ctaid[1] << ", " << ctaid[2] << ") thread (" << t.tid[0] << ", "
     << t.tid[1] << ", " << t.tid[2] << ")";
  return os.str();
}

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

void enterCollective(const CollectiveArgs &args) {
  if (!(args.memberMask & (1u << (currentThread->linear % 32)))) {
    currentBlock->fail("warp collective in " +
                       currentBlock->where(*currentThread) +
                       ": the member mask does not include the executing lane");
    switchToScheduler(/*finished=*/false); // never resumed: the launch ends
  }
  currentThread->collective = args;
  currentThread->state = State::AtCollective;
  switchToScheduler(/*finished=*/false);
}

} // namespace mlir::attn::emu::detail

Counters &Counters::operator+=(const Counters &other) {
  barriers += other.barriers;
  warpCollectives += other.warpCollectives;
  mmaInstructions += other.mmaInstructions;
  ldmatrixInstructions += other.ldmatrixInstructions;
  cpAsyncBytes += other.cpAsyncBytes;
  globalBytesRead += other.globalBytesRead;
  globalBytesWritten += other.globalBytesWritten;
  sharedBytesRead += other.sharedBytesRead;
  sharedBytesWritten += other.sharedBytesWritten;
  return *this;
}

namespace {

void fiberEntry() {
  Block *block = currentBlock;
#ifdef ATTN_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &block->schedulerStack,
                                  &block->schedulerStackSize);
#endif
  block->kernel(block->args);
  // Copies still in flight land when the thread exits.
  currentThread->pendingGroups.push_back(std::move(currentThread->openGroup));
  currentThread->openGroup.clear();
  completeAsyncCopies(*block, *currentThread, 0);
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
  flushDeferredReports(block);
  for (Thread &t : block.threads)
    t.state = State::Runnable;
  ++block.counters.barriers;
  ++block.epoch;
  return true;
}

std::string describeDeadlock(const Block &block) {
  std::ostringstream os;
  os << "deadlock in kernel '" << block.config->kernelName << "' block ("
     << block.ctaid[0] << ", " << block.ctaid[1] << ", " << block.ctaid[2]
     << "): ";
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
  // Shared memory starts as garbage on the GPU: fill it with a NaN pattern
  // so that an unchecked read of it shows.
  block.dynamicOffset = (config.staticSharedBytes + 15) / 16 * 16;
  block.shared.assign(block.dynamicOffset + config.dynamicSharedBytes, 0xff);
  block.shadow.assign(block.shared.size(), ShadowByte{});
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
  flushDeferredReports(block);
  currentBlock = nullptr;
}

LaunchResult failed(std::string message) {
  LaunchResult result;
  result.ok = false;
  result.error = std::move(message);
  return result;
}

} // namespace

LaunchResult mlir::attn::emu::launch(const LaunchConfig &config,
                                     KernelFn kernel, void **args) {
  std::string refused = checkLaunchRules(config);
  if (!refused.empty())
    return failed(std::move(refused));
  const Dim3 &grid = config.grid;
  uint64_t numBlocks = grid.count();
  unsigned workers = static_cast<unsigned>(
      std::max<uint64_t>(1, std::min<uint64_t>(config.hostThreads, numBlocks)));

  // Blocks are handed out in order; the error of the lowest failing block
  // is reported, so the message does not depend on the host threads.
  std::mutex mutex;
  uint64_t next = 0;
  uint64_t firstFailure = UINT64_MAX;
  LaunchResult result;
  auto work = [&] {
    Counters local;
    while (true) {
      uint64_t index;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (next >= numBlocks || next > firstFailure)
          break;
        index = next++;
      }
      Block block;
      block.config = &config;
      block.kernel = kernel;
      block.args = args;
      block.ctaid[0] = static_cast<uint32_t>(index % grid.x);
      block.ctaid[1] = static_cast<uint32_t>(index / grid.x % grid.y);
      block.ctaid[2] = static_cast<uint32_t>(index / grid.x / grid.y);
      runBlock(block);
      local += block.counters;
      if (!block.error.empty()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (index < firstFailure) {
          firstFailure = index;
          result.error = block.error;
        }
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    result.counters += local;
  };
  if (workers == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < workers; ++i)
      pool.emplace_back(work);
    for (std::thread &t : pool)
      t.join();
  }
  result.ok = result.error.empty();
  return result;
}

extern "C" {

uint32_t attn_emu_tid(uint32_t dim) { return currentThread->tid[dim % 3]; }

uint32_t attn_emu_ntid(uint32_t dim) {
  const Dim3 &d = currentBlock->config->block;
  return dim == 0 ? d.x : dim == 1 ? d.y : d.z;
}

uint32_t attn_emu_ctaid(uint32_t dim) { return currentBlock->ctaid[dim % 3]; }

uint32_t attn_emu_nctaid(uint32_t dim) {
  const Dim3 &d = currentBlock->config->grid;
  return dim == 0 ? d.x : dim == 1 ? d.y : d.z;
}

uint32_t attn_emu_laneid() { return currentThread->linear % 32; }

uint32_t attn_emu_warpid() { return currentThread->linear / 32; }

void attn_emu_barrier0() {
  currentThread->state = State::AtBarrier;
  switchToScheduler(/*finished=*/false);
}

void *attn_emu_static_shared() {
  Block &block = *currentBlock;
  return block.config->staticSharedBytes ? block.shared.data() : nullptr;
}

void *attn_emu_dynamic_shared() {
  Block &block = *currentBlock;
  return block.config->dynamicSharedBytes
             ? block.shared.data() + block.dynamicOffset
             : nullptr;
}

} // extern "C"
