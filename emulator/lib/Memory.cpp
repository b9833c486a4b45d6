//===- Memory.cpp - Bounds, race and initialisation checks; cp.async ------===//
//
// Every load and store the rewrite cannot prove thread-local calls
// attn_emu_access first. A shared address is checked byte by byte against
// a shadow that remembers the last writer and a reader per barrier epoch
// (compute-sanitizer's racecheck: two threads touching a byte between two
// barriers, one of them writing, is a race) and whether the byte was ever
// written. A global address must lie inside one of the launch's buffers
// when the launch names them. cp.async marks its destination pending until
// a wait completes its group; reading pending bytes is an error.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <cstring>
#include <sstream>

using namespace mlir::attn::emu;
using namespace mlir::attn::emu::detail;

namespace mlir::attn::emu::detail {

std::string hex(const void *address) {
  std::ostringstream os;
  os << address;
  return os.str();
}

void flushDeferredReports(Block &block) {
  if (!block.deferredUninitialized.empty())
    block.fail(block.deferredUninitialized);
  block.deferredUninitialized.clear();
}

} // namespace mlir::attn::emu::detail

namespace {

const char *accessWord(bool write) { return write ? "write" : "read"; }

std::string threadName(const Block &block, uint32_t linearPlusOne) {
  const Thread &t = block.threads[linearPlusOne - 1];
  std::ostringstream os;
  os << "thread (" << t.tid[0] << ", " << t.tid[1] << ", " << t.tid[2] << ")";
  return os.str();
}

/// Race and initialisation checks on shared bytes [offset, offset + bytes).
void checkShared(Block &block, Thread &t, size_t offset, uint64_t bytes,
                 bool write, const void *address) {
  const Checks &checks = block.config->checks;
  uint32_t me = t.linear + 1;
  for (uint64_t i = 0; i < bytes; ++i) {
    ShadowByte &s = block.shadow[offset + i];
    const void *at = static_cast<const uint8_t *>(address) + i;
    if (!write && (s.flags & kPending)) {
      block.fail("shared-memory " + std::string(accessWord(false)) + " at " +
                 hex(at) + " by " + block.where(t) +
                 " reads bytes that a cp.async of " +
                 threadName(block, s.writer) +
                 " has not completed (missing cp.async.wait_group or "
                 "barrier)");
      return;
    }
    if (checks.races) {
      if (s.writeEpoch == block.epoch && s.writer != me && s.writer != 0) {
        block.fail("shared-memory race at " + hex(at) + ": " + block.where(t) +
                   " " + (write ? "writes" : "reads") + " a byte that " +
                   threadName(block, s.writer) +
                   " wrote since the last barrier");
        return;
      }
      if (write && s.readEpoch == block.epoch &&
          ((s.flags & kManyReaders) || s.reader != me)) {
        uint32_t other = s.reader != me ? s.reader : 0;
        block.fail("shared-memory race at " + hex(at) + ": " + block.where(t) +
                   " writes a byte that " +
                   (other ? threadName(block, other) : "another thread") +
                   " read since the last barrier");
        return;
      }
    }
    if (write) {
      s.writer = me;
      s.writeEpoch = block.epoch;
      s.flags |= kInitialized;
    } else {
      if (!(s.flags & kInitialized) && checks.uninitializedShared &&
          block.deferredUninitialized.empty())
        block.deferredUninitialized =
            "read of uninitialised shared memory at " + hex(at) + " by " +
            block.where(t);
      if (s.readEpoch != block.epoch) {
        s.reader = me;
        s.readEpoch = block.epoch;
        s.flags &= static_cast<uint8_t>(~kManyReaders);
      } else if (s.reader != me) {
        s.flags |= kManyReaders;
      }
    }
  }
}

/// The buffer that holds [p, p + bytes), or the nearest one for messages.
const Buffer *findBuffer(const LaunchConfig &config, uintptr_t p,
                         uint64_t bytes, const Buffer **nearest) {
  uintptr_t bestDistance = UINTPTR_MAX;
  for (const Buffer &buffer : config.buffers) {
    auto base = reinterpret_cast<uintptr_t>(buffer.base);
    if (p >= base && p + bytes <= base + buffer.bytes)
      return &buffer;
    uintptr_t distance = p < base ? base - p : p - (base + buffer.bytes);
    if (distance < bestDistance) {
      bestDistance = distance;
      *nearest = &buffer;
    }
  }
  return nullptr;
}

std::string describeOutside(const Buffer *nearest, uintptr_t p) {
  if (!nearest)
    return "outside every buffer of the launch";
  auto base = reinterpret_cast<uintptr_t>(nearest->base);
  std::ostringstream os;
  if (p < base)
    os << (base - p) << " bytes before";
  else
    os << (p - base) << " bytes from the start of";
  os << " buffer '" << nearest->name << "' (" << nearest->bytes << " bytes)";
  return os.str();
}

} // namespace

namespace mlir::attn::emu::detail {

void checkAccess(Block &block, Thread &t, const void *address, uint64_t bytes,
                 bool write, uint32_t space) {
  if (bytes == 0)
    return;
  auto p = reinterpret_cast<uintptr_t>(address);
  auto sharedBase = reinterpret_cast<uintptr_t>(block.shared.data());
  bool inShared = !block.shared.empty() && p >= sharedBase &&
                  p < sharedBase + block.shared.size();
  if (inShared || space == AddressSpace::Shared) {
    if (!inShared || p + bytes > sharedBase + block.shared.size()) {
      block.fail(
          "out-of-bounds shared-memory " + std::string(accessWord(write)) +
          " of " + std::to_string(bytes) + " bytes at " + hex(address) +
          " by " + block.where(t) + ": the block has " +
          std::to_string(block.shared.size()) + " bytes of shared memory");
      return;
    }
    (write ? block.counters.sharedBytesWritten
           : block.counters.sharedBytesRead) += bytes;
    checkShared(block, t, p - sharedBase, bytes, write, address);
    return;
  }
  auto stackBase = reinterpret_cast<uintptr_t>(t.stack.get());
  if (p >= stackBase && p + bytes <= stackBase + block.config->stackBytes &&
      space != AddressSpace::Global)
    return; // the thread's local memory
  (write ? block.counters.globalBytesWritten
         : block.counters.globalBytesRead) += bytes;
  const LaunchConfig &config = *block.config;
  if (!config.checks.bounds || config.buffers.empty())
    return;
  const Buffer *nearest = nullptr;
  if (findBuffer(config, p, bytes, &nearest))
    return;
  block.fail("out-of-bounds global " + std::string(accessWord(write)) + " of " +
             std::to_string(bytes) + " bytes at " + hex(address) + " by " +
             block.where(t) + ": " + describeOutside(nearest, p));
}

void completeAsyncCopies(Block &block, Thread &t, size_t keep) {
  while (t.pendingGroups.size() > keep) {
    for (const AsyncCopy &copy : t.pendingGroups.front()) {
      std::memcpy(copy.dst, copy.src, copy.srcBytes);
      std::memset(copy.dst + copy.srcBytes, 0, copy.bytes - copy.srcBytes);
      size_t offset = static_cast<size_t>(copy.dst - block.shared.data());
      for (uint32_t i = 0; i < copy.bytes; ++i) {
        ShadowByte &s = block.shadow[offset + i];
        s.flags = static_cast<uint8_t>((s.flags & ~kPending) | kInitialized);
        s.writer = t.linear + 1;
        s.writeEpoch = block.epoch;
      }
    }
    t.pendingGroups.pop_front();
  }
}

} // namespace mlir::attn::emu::detail

extern "C" {

void attn_emu_access(const void *address, uint64_t bytes, uint32_t flags,
                     uint32_t space) {
  checkAccess(*currentBlock, *currentThread, address, bytes, flags & 1, space);
  if (!currentBlock->error.empty())
    switchToScheduler(/*finished=*/false); // never resumed: the launch ends
}

void attn_emu_cp_async(void *dst, const void *src, uint32_t bytes,
                       uint32_t srcBytes) {
  Block &block = *currentBlock;
  Thread &t = *currentThread;
  // The message is recorded before the fiber is abandoned, so that no
  // temporary of this frame outlives it (the fiber never resumes).
  auto fail = [&](const std::string &message) {
    block.fail("cp.async by " + block.where(t) + ": " + message);
  };
  if (bytes != 4 && bytes != 8 && bytes != 16) {
    fail("copy size " + std::to_string(bytes) + " is not 4, 8 or 16");
    return switchToScheduler(/*finished=*/false);
  }
  if (srcBytes > bytes) {
    fail("source size " + std::to_string(srcBytes) + " exceeds the copy size " +
         std::to_string(bytes));
    return switchToScheduler(/*finished=*/false);
  }
  if (reinterpret_cast<uintptr_t>(dst) % bytes ||
      reinterpret_cast<uintptr_t>(src) % bytes) {
    fail("addresses " + hex(dst) + " <- " + hex(src) +
         " are not aligned to the copy size " + std::to_string(bytes));
    return switchToScheduler(/*finished=*/false);
  }
  checkAccess(block, t, src, srcBytes, /*write=*/false, AddressSpace::Global);
  if (block.error.empty())
    checkAccess(block, t, dst, bytes, /*write=*/true, AddressSpace::Shared);
  if (!block.error.empty())
    return switchToScheduler(/*finished=*/false);
  block.counters.cpAsyncBytes += bytes;
  auto *d = static_cast<uint8_t *>(dst);
  size_t offset = static_cast<size_t>(d - block.shared.data());
  for (uint32_t i = 0; i < bytes; ++i)
    block.shadow[offset + i].flags |= kPending;
  t.openGroup.push_back(
      AsyncCopy{d, static_cast<const uint8_t *>(src), bytes, srcBytes});
}

void attn_emu_cp_async_commit() {
  Thread &t = *currentThread;
  t.pendingGroups.push_back(std::move(t.openGroup));
  t.openGroup.clear();
}

void attn_emu_cp_async_wait(uint32_t n) {
  completeAsyncCopies(*currentBlock, *currentThread, n);
}

} // extern "C"
