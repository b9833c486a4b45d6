//===- LaunchRules.cpp - The CUDA driver's launch rules, on the CPU -------===//
//
// What cuLaunchKernel and cuFuncSetAttribute refuse, with the limits an
// A100 (sm_80) and an H100 (sm_90) report: the same numbers as attn's
// runtime (runtime/lib/Runtime.cpp) and the stand-in driver
// (runtime/test/fake-cuda/FakeCuda.cpp), so that a kernel the driver would
// reject fails its emulated tests too.
//
//===----------------------------------------------------------------------===//

#include "attn/Emulator/Runtime.h"

#include <algorithm>
#include <sstream>

using namespace mlir::attn::emu;

namespace {

constexpr size_t kSharedPerBlock = 48 * 1024; // without the opt-in

const ChipLimits kSm80 = {"sm_80",
                          "A100",
                          163 * 1024,
                          kSharedPerBlock,
                          1024,
                          {1024, 1024, 64},
                          {0x7fffffffu, 65535, 65535}};
const ChipLimits kSm90 = {"sm_90",
                          "H100",
                          227 * 1024,
                          kSharedPerBlock,
                          1024,
                          {1024, 1024, 64},
                          {0x7fffffffu, 65535, 65535}};

std::string dims(const Dim3 &d) {
  std::ostringstream os;
  os << "(" << d.x << ", " << d.y << ", " << d.z << ")";
  return os.str();
}

uint32_t component(const Dim3 &d, int axis) {
  return axis == 0 ? d.x : axis == 1 ? d.y : d.z;
}

} // namespace

const ChipLimits &mlir::attn::emu::limitsOf(Chip chip) {
  return chip == Chip::SM90 ? kSm90 : kSm80;
}

std::optional<Chip> mlir::attn::emu::chipNamed(const std::string &name) {
  if (name == "sm_80")
    return Chip::SM80;
  if (name == "sm_90")
    return Chip::SM90;
  return std::nullopt;
}

std::string mlir::attn::emu::kernelAttributesSymbol(const std::string &kernel) {
  return "attn_emu_attributes." + kernel;
}

size_t mlir::attn::emu::maxDynamicSharedBytes(const LaunchConfig &config) {
  if (config.maxDynamicSharedBytes)
    return *config.maxDynamicSharedBytes;
  size_t limit = limitsOf(config.chip).sharedPerBlock;
  return config.staticSharedBytes < limit ? limit - config.staticSharedBytes
                                          : 0;
}

void mlir::attn::emu::optInSharedMemory(LaunchConfig &config) {
  if (config.staticSharedBytes + config.dynamicSharedBytes >
          limitsOf(config.chip).sharedPerBlock &&
      maxDynamicSharedBytes(config) < config.dynamicSharedBytes)
    config.maxDynamicSharedBytes = config.dynamicSharedBytes;
}

std::string mlir::attn::emu::checkLaunchRules(const LaunchConfig &config) {
  const ChipLimits &chip = limitsOf(config.chip);
  const std::string kernel = "kernel '" + config.kernelName + "'";
  const std::string device =
      std::string(chip.name) + " (" + chip.gpu + ") allows at most ";
  const Dim3 &grid = config.grid, &block = config.block;
  for (int d = 0; d < 3; ++d)
    if (component(grid, d) == 0 || component(block, d) == 0)
      return kernel + " is launched with grid " + dims(grid) + " and block " +
             dims(block) + "; every dimension must be at least 1";

  size_t staticBytes = config.staticSharedBytes;
  size_t dynamicBytes = config.dynamicSharedBytes;
  std::string shared = std::to_string(staticBytes) + " static + " +
                       std::to_string(dynamicBytes) +
                       " dynamic bytes of shared memory";
  if (staticBytes > chip.sharedPerBlock)
    return kernel + " has " + std::to_string(staticBytes) +
           " bytes of static shared memory; ptxas allows at most " +
           std::to_string(chip.sharedPerBlock) + " (more must be dynamic)";
  if (staticBytes + dynamicBytes > chip.sharedPerBlockOptin)
    return kernel + " needs " + shared + "; " + device +
           std::to_string(chip.sharedPerBlockOptin) + " per block";
  // cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES) refuses an opt-in
  // beyond the chip's maximum, before any launch.
  if (config.maxDynamicSharedBytes &&
      staticBytes + *config.maxDynamicSharedBytes > chip.sharedPerBlockOptin)
    return kernel + ": the opt-in to " +
           std::to_string(*config.maxDynamicSharedBytes) +
           " bytes of dynamic shared memory (MAX_DYNAMIC_SHARED_SIZE_BYTES) "
           "with " +
           std::to_string(staticBytes) + " static exceeds what " + device +
           std::to_string(chip.sharedPerBlockOptin) +
           " per block; cuFuncSetAttribute refuses it";

  static const char axis[] = "xyz";
  for (int d = 0; d < 3; ++d) {
    if (component(block, d) > chip.maxBlock[d])
      return kernel + " is launched with block " + dims(block) + "; " + device +
             std::to_string(chip.maxBlock[d]) + " threads in " + axis[d];
    if (component(grid, d) > chip.maxGrid[d])
      return kernel + " is launched with grid " + dims(grid) + "; " + device +
             std::to_string(chip.maxGrid[d]) + " blocks in " + axis[d];
  }
  uint64_t threads = block.count();
  if (threads > chip.threadsPerBlock)
    return kernel + " is launched with " + std::to_string(threads) +
           " threads per block " + dims(block) + "; " + device +
           std::to_string(chip.threadsPerBlock);
  if (threads > config.maxThreadsPerBlock)
    return kernel + " is launched with " + std::to_string(threads) +
           " threads per block " + dims(block) + "; it allows at most " +
           std::to_string(config.maxThreadsPerBlock) + " (its .maxntid)";

  // Without the opt-in the limit is 48 KiB - static, so 48 KiB of dynamic
  // shared memory and a single static byte already fail.
  size_t maxDynamic = maxDynamicSharedBytes(config);
  if (dynamicBytes > maxDynamic)
    return kernel + " needs " + shared +
           "; its MAX_DYNAMIC_SHARED_SIZE_BYTES is " +
           std::to_string(maxDynamic) +
           (config.maxDynamicSharedBytes
                ? std::string(" (its opt-in)")
                : " (no opt-in: static + dynamic may not exceed " +
                      std::to_string(chip.sharedPerBlock) + ")");
  return std::string();
}
