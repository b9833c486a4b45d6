//===- EmulateNVVM.cpp - NVVM kernels as host code for the emulator -------===//
//
// attn-emulate-nvvm: the GPU kernels' LLVM + NVVM dialect IR (exactly what
// gpu-module-to-binary would assemble into PTX) is moved into the host
// module with each NVVM operation turned into a call into the emulation
// runtime, and shared-memory globals into offsets of a per-block buffer.
// The rewrite is the only difference between the emulated and the real
// kernel.
//
//===----------------------------------------------------------------------===//

#include "attn/Target/Emulator/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEMULATENVVM
#include "attn/Target/Emulator/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// Declares (once) an external runtime function in the host module.
LLVM::LLVMFuncOp runtimeFunction(ModuleOp module, StringRef name, Type result,
                                 ArrayRef<Type> args) {
  if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  return LLVM::LLVMFuncOp::create(b, module.getLoc(), name,
                                  LLVM::LLVMFunctionType::get(result, args));
}

Value callRuntime(OpBuilder &b, Location loc, ModuleOp module, StringRef name,
                  Type result, ValueRange args) {
  SmallVector<Type> argTypes(args.getTypes());
  LLVM::LLVMFuncOp fn = runtimeFunction(module, name, result, argTypes);
  auto call = LLVM::CallOp::create(b, loc, fn, args);
  return call.getNumResults() ? call.getResult() : Value();
}

/// The runtime function and dimension of a special-register read, e.g.
/// "nvvm.read.ptx.sreg.tid.y" -> ("attn_emu_tid", 1).
std::optional<std::pair<StringRef, uint32_t>> specialRegister(StringRef op) {
  if (!op.consume_front("nvvm.read.ptx.sreg."))
    return std::nullopt;
  if (op == "laneid")
    return std::pair<StringRef, uint32_t>{"attn_emu_laneid", 0};
  if (op == "warpid")
    return std::pair<StringRef, uint32_t>{"attn_emu_warpid", 0};
  auto [reg, dim] = op.split('.');
  StringRef fn = llvm::StringSwitch<StringRef>(reg)
                     .Case("tid", "attn_emu_tid")
                     .Case("ntid", "attn_emu_ntid")
                     .Case("ctaid", "attn_emu_ctaid")
                     .Case("nctaid", "attn_emu_nctaid")
                     .Default("");
  if (fn.empty() || (dim != "x" && dim != "y" && dim != "z"))
    return std::nullopt;
  return std::pair<StringRef, uint32_t>{fn, dim == "x"   ? 0
                                            : dim == "y" ? 1
                                                         : 2};
}

/// The runtime's shuffle mode numbering (idx, up, down, bfly).
uint32_t shuffleMode(NVVM::ShflKind kind) {
  switch (kind) {
  case NVVM::ShflKind::idx:
    return 0;
  case NVVM::ShflKind::up:
    return 1;
  case NVVM::ShflKind::down:
    return 2;
  case NVVM::ShflKind::bfly:
    return 3;
  }
  return 0;
}

LogicalResult emulateShuffle(NVVM::ShflOp op, ModuleOp module) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  Value val = op.getVal();
  Type valType = val.getType();
  if (valType.getIntOrFloatBitWidth() != 32)
    return op.emitError("attn-emulate-nvvm: shfl.sync of ")
           << valType << " is not emulated (32-bit values only)";
  if (!valType.isInteger(32))
    val = LLVM::BitcastOp::create(b, loc, i32, val);
  Value mode = LLVM::ConstantOp::create(
      b, loc, i32, b.getI32IntegerAttr(shuffleMode(op.getKind())));
  Value packed = callRuntime(
      b, loc, module, "attn_emu_shfl_sync_packed", i64,
      {mode, op.getThreadMask(), val, op.getOffset(), op.getMaskAndClamp()});
  Value result = LLVM::TruncOp::create(b, loc, i32, packed);
  if (!valType.isInteger(32))
    result = LLVM::BitcastOp::create(b, loc, valType, result);
  if (op.getReturnValueAndIsValid().value_or(false)) {
    Value shifted = LLVM::LShrOp::create(
        b, loc, packed,
        LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(32)));
    Value valid = LLVM::TruncOp::create(b, loc, b.getI1Type(), shifted);
    Value pair = LLVM::PoisonOp::create(b, loc, op.getType());
    pair =
        LLVM::InsertValueOp::create(b, loc, pair, result, ArrayRef<int64_t>{0});
    pair =
        LLVM::InsertValueOp::create(b, loc, pair, valid, ArrayRef<int64_t>{1});
    result = pair;
  }
  op.getResult().replaceAllUsesWith(result);
  op.erase();
  return success();
}

/// Replaces the NVVM operations of `func` with runtime calls.
LogicalResult emulateFunction(LLVM::LLVMFuncOp func, ModuleOp module) {
  SmallVector<Operation *> nvvmOps;
  func.walk([&](Operation *op) {
    if (isa<NVVM::NVVMDialect>(op->getDialect()))
      nvvmOps.push_back(op);
  });
  Type i32 = IntegerType::get(func.getContext(), 32);
  for (Operation *op : nvvmOps) {
    StringRef name = op->getName().getStringRef();
    OpBuilder b(op);
    if (auto reg = specialRegister(name)) {
      SmallVector<Value> args;
      if (reg->first != "attn_emu_laneid" && reg->first != "attn_emu_warpid")
        args.push_back(LLVM::ConstantOp::create(
            b, op->getLoc(), i32, b.getI32IntegerAttr(reg->second)));
      Value v = callRuntime(b, op->getLoc(), module, reg->first, i32, args);
      op->getResult(0).replaceAllUsesWith(v);
      op->erase();
      continue;
    }
    if (name == "nvvm.barrier0") {
      callRuntime(b, op->getLoc(), module, "attn_emu_barrier0",
                  LLVM::LLVMVoidType::get(func.getContext()), {});
      op->erase();
      continue;
    }
    if (auto shfl = dyn_cast<NVVM::ShflOp>(op)) {
      if (failed(emulateShuffle(shfl, module)))
        return failure();
      continue;
    }
    return op->emitError("attn-emulate-nvvm: no emulation for '")
           << name << "'";
  }
  return success();
}

class EmulateNVVMPass final
    : public mlir::attn::impl::AttnEmulateNVVMBase<EmulateNVVMPass> {
public:
  using AttnEmulateNVVMBase::AttnEmulateNVVMBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
    int64_t sharedBytes = 0;
    for (gpu::GPUModuleOp gpuModule : gpuModules) {
      // Shared-memory globals become offsets into the block's buffer.
      llvm::StringMap<int64_t> sharedOffsets;
      SmallVector<LLVM::GlobalOp> sharedGlobals;
      for (auto global : gpuModule.getOps<LLVM::GlobalOp>()) {
        if (global.getAddrSpace() != 3)
          continue;
        DataLayout layout = DataLayout::closest(global);
        int64_t size = layout.getTypeSize(global.getGlobalType());
        sharedBytes = llvm::alignTo(sharedBytes, 16);
        sharedOffsets[global.getSymName()] = sharedBytes;
        sharedBytes += size;
        sharedGlobals.push_back(global);
      }
      SmallVector<LLVM::AddressOfOp> addressOfs;
      gpuModule.walk([&](LLVM::AddressOfOp op) { addressOfs.push_back(op); });
      for (LLVM::AddressOfOp op : addressOfs) {
        auto it = sharedOffsets.find(op.getGlobalName());
        if (it == sharedOffsets.end())
          continue;
        OpBuilder b(op);
        Location loc = op.getLoc();
        auto ptr = LLVM::LLVMPointerType::get(&getContext());
        Value base =
            callRuntime(b, loc, module, "attn_emu_static_shared", ptr, {});
        Value at = LLVM::GEPOp::create(
            b, loc, ptr, b.getI8Type(), base,
            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(it->second)});
        Value cast = LLVM::AddrSpaceCastOp::create(b, loc, op.getType(), at);
        op.getResult().replaceAllUsesWith(cast);
        op.erase();
      }
      for (LLVM::GlobalOp global : sharedGlobals)
        global.erase();

      // Move every function into the host module, emulating NVVM ops.
      for (Operation &op :
           llvm::make_early_inc_range(gpuModule.getBody()->getOperations())) {
        if (op.hasTrait<OpTrait::IsTerminator>())
          continue;
        auto func = dyn_cast<LLVM::LLVMFuncOp>(op);
        if (!func) {
          op.emitError("attn-emulate-nvvm: cannot move '")
              << op.getName() << "' out of the GPU module";
          return signalPassFailure();
        }
        func->removeAttr("gpu.kernel");
        func->removeAttr("nvvm.kernel");
        func->moveBefore(module.getBody(), module.getBody()->end());
        if (!func.isExternal() && failed(emulateFunction(func, module)))
          return signalPassFailure();
      }
      gpuModule.erase();
    }
    module->setAttr(
        mlir::attn::kEmuStaticSharedAttr,
        IntegerAttr::get(IntegerType::get(&getContext(), 64), sharedBytes));
  }
};

} // namespace
