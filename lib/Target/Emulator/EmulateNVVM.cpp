//===- EmulateNVVM.cpp - NVVM kernels as host code for the emulator -------===//
//
// attn-emulate-nvvm: the GPU kernels' LLVM + NVVM dialect IR (exactly what
// gpu-module-to-binary would assemble into PTX) is moved into the host
// module with each NVVM operation turned into a call into the emulation
// runtime (emulator/), shared-memory globals into offsets of a per-block
// buffer, libdevice calls into the runtime's replacements, and every load
// and store the rewrite cannot prove local preceded by a memory check. The
// rewrite is the only difference between the emulated and the real kernel.
// Each kernel's .maxntid and static shared bytes are exported as a constant
// (emu::KernelAttributes) so that launches obey the driver's rules.
//
//===----------------------------------------------------------------------===//

#include "attn/Target/Emulator/Passes.h"

#include "attn/Emulator/Runtime.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEMULATENVVM
#include "attn/Target/Emulator/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
namespace emu = mlir::attn::emu;

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

emu::VoteKind voteKind(NVVM::VoteSyncKind kind) {
  switch (kind) {
  case NVVM::VoteSyncKind::any:
    return emu::VoteKind::Any;
  case NVVM::VoteSyncKind::all:
    return emu::VoteKind::All;
  case NVVM::VoteSyncKind::uni:
    return emu::VoteKind::Uni;
  case NVVM::VoteSyncKind::ballot:
    return emu::VoteKind::Ballot;
  }
  return emu::VoteKind::Any;
}

/// The value inserted at `position` of the struct `container` by a chain
/// of llvm.insertvalue ops (how lowered memref descriptors are built), or
/// null.
Value insertedValue(Value container, ArrayRef<int64_t> position) {
  while (auto insert = container.getDefiningOp<LLVM::InsertValueOp>()) {
    if (insert.getPosition() == position)
      return insert.getValue();
    container = insert.getContainer();
  }
  return Value();
}

/// Whether a pointer provably addresses the thread's own stack or a
/// module constant, so that its accesses need no check: a chain of GEPs,
/// casts and memref-descriptor fields from an alloca or a (non-shared)
/// global.
bool needsNoCheck(Value ptr) {
  while (ptr) {
    Operation *def = ptr.getDefiningOp();
    if (!def)
      return false; // a kernel argument
    if (isa<LLVM::AllocaOp, LLVM::AddressOfOp>(def))
      return true;
    if (auto gep = dyn_cast<LLVM::GEPOp>(def))
      ptr = gep.getBase();
    else if (auto cast = dyn_cast<LLVM::AddrSpaceCastOp>(def))
      ptr = cast.getArg();
    else if (auto extract = dyn_cast<LLVM::ExtractValueOp>(def))
      ptr = insertedValue(extract.getContainer(), extract.getPosition());
    else
      return false;
  }
  return false;
}

/// Rewrites the NVVM operations of one kernel function.
class FunctionEmulator {
public:
  FunctionEmulator(LLVM::LLVMFuncOp func, ModuleOp module)
      : func(func), module(module), ctx(func.getContext()),
        i32(IntegerType::get(ctx, 32)), i64(IntegerType::get(ctx, 64)),
        f32(Float32Type::get(ctx)), ptr(LLVM::LLVMPointerType::get(ctx)),
        voidType(LLVM::LLVMVoidType::get(ctx)) {}

  LogicalResult run();

private:
  Value call(OpBuilder &b, Location loc, StringRef name, Type result,
             ValueRange args) {
    SmallVector<Type> argTypes(args.getTypes());
    auto call = LLVM::CallOp::create(
        b, loc, runtimeFunction(module, name, result, argTypes), args);
    return call.getNumResults() ? call.getResult() : Value();
  }
  Value constI32(OpBuilder &b, Location loc, uint32_t v) {
    return LLVM::ConstantOp::create(
        b, loc, i32, b.getI32IntegerAttr(static_cast<int32_t>(v)));
  }
  Value generic(OpBuilder &b, Location loc, Value p) {
    if (cast<LLVM::LLVMPointerType>(p.getType()).getAddressSpace() == 0)
      return p;
    return LLVM::AddrSpaceCastOp::create(b, loc, ptr, p);
  }
  /// Per-function scratch arrays (entry-block allocas, reused by every
  /// collective: their contents are consumed right after each call).
  Value scratch(unsigned slot, Type element) {
    if (!scratchSlots[slot]) {
      OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
      Value four = constI32(b, func.getLoc(), 4);
      scratchSlots[slot] =
          LLVM::AllocaOp::create(b, func.getLoc(), ptr, element, four, 16);
    }
    return scratchSlots[slot];
  }
  void storeAt(OpBuilder &b, Location loc, Value base, Type element,
               int32_t index, Value v) {
    Value at = LLVM::GEPOp::create(b, loc, ptr, element, base,
                                   ArrayRef<LLVM::GEPArg>{index});
    LLVM::StoreOp::create(b, loc, v, at);
  }
  Value loadAt(OpBuilder &b, Location loc, Value base, Type element,
               int32_t index) {
    Value at = LLVM::GEPOp::create(b, loc, ptr, element, base,
                                   ArrayRef<LLVM::GEPArg>{index});
    return LLVM::LoadOp::create(b, loc, element, at);
  }
  /// An LLVM struct of `type` holding `elements` in order.
  Value packStruct(OpBuilder &b, Location loc, Type type, ValueRange elements) {
    Value result = LLVM::PoisonOp::create(b, loc, type);
    for (auto [i, v] : llvm::enumerate(elements))
      result = LLVM::InsertValueOp::create(
          b, loc, result, v, ArrayRef<int64_t>{static_cast<int64_t>(i)});
    return result;
  }
  Value asI32(OpBuilder &b, Location loc, Value v) {
    if (v.getType() == i32)
      return v;
    return LLVM::BitcastOp::create(b, loc, i32, v);
  }

  LogicalResult instrument(Operation *op, Value address, Type type, bool write);
  LogicalResult emulate(Operation *op);
  LogicalResult emulateShuffle(NVVM::ShflOp op);
  LogicalResult emulateVote(NVVM::VoteSyncOp op);
  LogicalResult emulateLdmatrix(NVVM::LdMatrixOp op);
  LogicalResult emulateMma(NVVM::MmaOp op);
  LogicalResult emulateCpAsync(NVVM::CpAsyncOp op);
  LogicalResult emulateIntrinsic(LLVM::CallIntrinsicOp op);
  LogicalResult emulateTanh(LLVM::TanhOp op);

  LLVM::LLVMFuncOp func;
  ModuleOp module;
  MLIRContext *ctx;
  Type i32, i64, f32, ptr, voidType;
  Value scratchSlots[4];
};

LogicalResult FunctionEmulator::instrument(Operation *op, Value address,
                                           Type type, bool write) {
  if (needsNoCheck(address))
    return success();
  OpBuilder b(op);
  Location loc = op->getLoc();
  unsigned space =
      cast<LLVM::LLVMPointerType>(address.getType()).getAddressSpace();
  int64_t bytes = DataLayout::closest(op).getTypeSize(type);
  call(b, loc, "attn_emu_access", voidType,
       {generic(b, loc, address),
        LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(bytes)),
        constI32(b, loc, write ? 1 : 0), constI32(b, loc, space)});
  return success();
}

LogicalResult FunctionEmulator::emulateShuffle(NVVM::ShflOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value val = op.getVal();
  Type valType = val.getType();
  if (valType.getIntOrFloatBitWidth() != 32)
    return op.emitError("attn-emulate-nvvm: shfl.sync of ")
           << valType << " is not emulated (32-bit values only)";
  Value packed =
      call(b, loc, "attn_emu_shfl_sync_packed", i64,
           {constI32(b, loc, shuffleMode(op.getKind())), op.getThreadMask(),
            asI32(b, loc, val), op.getOffset(), op.getMaskAndClamp()});
  Value result = LLVM::TruncOp::create(b, loc, i32, packed);
  if (valType != i32)
    result = LLVM::BitcastOp::create(b, loc, valType, result);
  if (op.getReturnValueAndIsValid().value_or(false)) {
    Value shifted = LLVM::LShrOp::create(
        b, loc, packed,
        LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(32)));
    Value valid = LLVM::TruncOp::create(b, loc, b.getI1Type(), shifted);
    result = packStruct(b, loc, op.getType(), {result, valid});
  }
  op.getResult().replaceAllUsesWith(result);
  op.erase();
  return success();
}

LogicalResult FunctionEmulator::emulateVote(NVVM::VoteSyncOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value pred = LLVM::ZExtOp::create(b, loc, i32, op.getPred());
  Value r =
      call(b, loc, "attn_emu_vote_sync", i32,
           {constI32(b, loc, static_cast<uint32_t>(voteKind(op.getKind()))),
            op.getMask(), pred});
  if (op.getType() != i32)
    r = LLVM::TruncOp::create(b, loc, op.getType(), r);
  op.getResult().replaceAllUsesWith(r);
  op.erase();
  return success();
}

LogicalResult FunctionEmulator::emulateLdmatrix(NVVM::LdMatrixOp op) {
  NVVM::LdStMatrixShapeAttr shape = op.getShape();
  if (shape.getM() != 8 || shape.getN() != 8 ||
      op.getEltType() != NVVM::LdStMatrixEltType::B16)
    return op.emitError("attn-emulate-nvvm: only ldmatrix .m8n8 .b16 is "
                        "emulated");
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value out = scratch(0, i32);
  uint32_t num = op.getNum();
  bool trans = op.getLayout() == NVVM::MMALayout::col;
  call(b, loc, "attn_emu_ldmatrix", voidType,
       {generic(b, loc, op.getPtr()), constI32(b, loc, num),
        constI32(b, loc, trans ? 1 : 0), out});
  SmallVector<Value, 4> regs;
  for (uint32_t i = 0; i < num; ++i)
    regs.push_back(loadAt(b, loc, out, i32, static_cast<int32_t>(i)));
  Value result =
      num == 1 ? regs.front() : packStruct(b, loc, op.getType(), regs);
  op.getResult().replaceAllUsesWith(result);
  op.erase();
  return success();
}

LogicalResult FunctionEmulator::emulateMma(NVVM::MmaOp op) {
  NVVM::MMAShapeAttr shape = op.getShape();
  emu::MmaShape emuShape;
  if (shape.getM() == 16 && shape.getN() == 8 && shape.getK() == 16)
    emuShape = emu::MmaShape::M16N8K16;
  else if (shape.getM() == 16 && shape.getN() == 8 && shape.getK() == 8)
    emuShape = emu::MmaShape::M16N8K8;
  else
    return op.emitError("attn-emulate-nvvm: mma.sync shape m")
           << shape.getM() << "n" << shape.getN() << "k" << shape.getK()
           << " is not emulated (m16n8k16 and m16n8k8 are)";
  if (op.getLayoutA() != NVVM::MMALayout::row ||
      op.getLayoutB() != NVVM::MMALayout::col)
    return op.emitError("attn-emulate-nvvm: only mma.sync .row.col is "
                        "emulated");
  emu::MmaType type;
  Type aType = op.getOperandA().front().getType();
  std::optional<NVVM::MMATypes> ptxType = op.getMultiplicandAPtxType();
  if (ptxType == NVVM::MMATypes::bf16)
    type = emu::MmaType::BF16;
  else if ((!ptxType || ptxType == NVVM::MMATypes::f16) &&
           aType == VectorType::get({2}, Float16Type::get(ctx)))
    type = emu::MmaType::F16;
  else
    return op.emitError("attn-emulate-nvvm: mma.sync multiplicands of ")
           << aType << " are not emulated (f16 and bf16 are)";
  ValueRange c = op.getOperandC();
  if (c.size() != 4 ||
      !llvm::all_of(c.getTypes(), [&](Type t) { return t == f32; }))
    return op.emitError("attn-emulate-nvvm: only f32 accumulators are "
                        "emulated for mma.sync");
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value aBuf = scratch(0, i32), bBuf = scratch(1, i32), cBuf = scratch(2, f32),
        dBuf = scratch(3, f32);
  for (auto [i, v] : llvm::enumerate(op.getOperandA()))
    storeAt(b, loc, aBuf, i32, static_cast<int32_t>(i), asI32(b, loc, v));
  for (auto [i, v] : llvm::enumerate(op.getOperandB()))
    storeAt(b, loc, bBuf, i32, static_cast<int32_t>(i), asI32(b, loc, v));
  for (auto [i, v] : llvm::enumerate(c))
    storeAt(b, loc, cBuf, f32, static_cast<int32_t>(i), v);
  call(b, loc, "attn_emu_mma", voidType,
       {constI32(b, loc, static_cast<uint32_t>(emuShape)),
        constI32(b, loc, static_cast<uint32_t>(type)), aBuf, bBuf, cBuf, dBuf});
  SmallVector<Value, 4> d;
  for (int32_t i = 0; i < 4; ++i)
    d.push_back(loadAt(b, loc, dBuf, f32, i));
  Value result = packStruct(b, loc, op.getType(), d);
  op.getResult().replaceAllUsesWith(result);
  op.erase();
  return success();
}

LogicalResult FunctionEmulator::emulateCpAsync(NVVM::CpAsyncOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value bytes = constI32(b, loc, op.getSize());
  Value srcBytes = op.getCpSize() ? op.getCpSize() : bytes;
  call(b, loc, "attn_emu_cp_async", voidType,
       {generic(b, loc, op.getDst()), generic(b, loc, op.getSrc()), bytes,
        srcBytes});
  op.erase();
  return success();
}

LogicalResult FunctionEmulator::emulateIntrinsic(LLVM::CallIntrinsicOp op) {
  StringRef name = op.getIntrin();
  if (!name.starts_with("llvm.nvvm."))
    return success(); // a target-independent intrinsic runs on the host
  OpBuilder b(op);
  Location loc = op.getLoc();
  StringRef fn =
      llvm::StringSwitch<StringRef>(name)
          .Cases({"llvm.nvvm.ex2.approx.f", "llvm.nvvm.ex2.approx.ftz.f"},
                 "attn_emu_ex2_approx")
          .Cases({"llvm.nvvm.rcp.approx.f", "llvm.nvvm.rcp.approx.ftz.f"},
                 "attn_emu_rcp_approx")
          .Cases({"llvm.nvvm.lg2.approx.f", "llvm.nvvm.lg2.approx.ftz.f"},
                 "attn_emu_lg2_approx")
          .Default("");
  if (fn.empty() || op.getArgs().size() != 1 ||
      op.getArgs().front().getType() != f32)
    return op.emitError("attn-emulate-nvvm: no emulation for intrinsic '")
           << name << "'";
  Value r = call(
      b, loc, fn, f32,
      {op.getArgs().front(), constI32(b, loc, name.contains(".ftz.") ? 1 : 0)});
  op.getResult(0).replaceAllUsesWith(r);
  op.erase();
  return success();
}

/// llvm.tanh with afn on f32 is tanh.approx.f32 on the GPU, modelled at
/// its error bound; without afn NVPTX cannot select it, so the kernel
/// would not compile: the emulator refuses it too.
LogicalResult FunctionEmulator::emulateTanh(LLVM::TanhOp op) {
  if (op.getType() != f32 ||
      !bitEnumContainsAll(op.getFastmathFlags(), LLVM::FastmathFlags::afn))
    return op.emitError("attn-emulate-nvvm: llvm.tanh is emulated only as "
                        "tanh.approx.f32 (f32, afn)");
  OpBuilder b(op);
  Value r =
      call(b, op.getLoc(), "attn_emu_tanh_approx", f32, {op.getOperand()});
  op.getResult().replaceAllUsesWith(r);
  op.erase();
  return success();
}

LogicalResult FunctionEmulator::emulate(Operation *op) {
  StringRef name = op->getName().getStringRef();
  OpBuilder b(op);
  Location loc = op->getLoc();
  if (auto reg = specialRegister(name)) {
    SmallVector<Value> args;
    if (reg->first != "attn_emu_laneid" && reg->first != "attn_emu_warpid")
      args.push_back(constI32(b, loc, reg->second));
    op->getResult(0).replaceAllUsesWith(call(b, loc, reg->first, i32, args));
    op->erase();
    return success();
  }
  if (auto barrier = dyn_cast<NVVM::BarrierOp>(op)) {
    if (barrier->getNumOperands() || barrier->getNumResults())
      return op->emitError("attn-emulate-nvvm: only nvvm.barrier without "
                           "id, thread count or reduction is emulated");
  }
  if (isa<NVVM::Barrier0Op, NVVM::BarrierOp>(op)) {
    call(b, loc, "attn_emu_barrier0", voidType, {});
    op->erase();
    return success();
  }
  // Threads interleave only at barriers and warp collectives, so every
  // emulated access is sequentially consistent: fences have nothing to do.
  if (isa<NVVM::MembarOp, NVVM::FenceScClusterOp, NVVM::FenceProxyOp>(op)) {
    op->erase();
    return success();
  }
  if (auto shfl = dyn_cast<NVVM::ShflOp>(op))
    return emulateShuffle(shfl);
  if (auto vote = dyn_cast<NVVM::VoteSyncOp>(op))
    return emulateVote(vote);
  if (auto ld = dyn_cast<NVVM::LdMatrixOp>(op))
    return emulateLdmatrix(ld);
  if (auto mma = dyn_cast<NVVM::MmaOp>(op))
    return emulateMma(mma);
  if (auto cp = dyn_cast<NVVM::CpAsyncOp>(op))
    return emulateCpAsync(cp);
  if (isa<NVVM::CpAsyncCommitGroupOp>(op)) {
    call(b, loc, "attn_emu_cp_async_commit", voidType, {});
    op->erase();
    return success();
  }
  if (auto wait = dyn_cast<NVVM::CpAsyncWaitGroupOp>(op)) {
    call(b, loc, "attn_emu_cp_async_wait", voidType,
         {constI32(b, loc, wait.getN())});
    op->erase();
    return success();
  }
  if (auto rcp = dyn_cast<NVVM::RcpApproxFtzF32Op>(op)) {
    Value r = call(b, loc, "attn_emu_rcp_approx", f32,
                   {rcp.getArg(), constI32(b, loc, 1)});
    rcp.getResult().replaceAllUsesWith(r);
    op->erase();
    return success();
  }
  return op->emitError("attn-emulate-nvvm: no emulation for '") << name << "'";
}

LogicalResult FunctionEmulator::run() {
  // Memory checks first, so that the runtime calls' own scratch accesses
  // (allocas) are not among them.
  SmallVector<Operation *> accesses, nvvmOps;
  func.walk([&](Operation *op) {
    if (isa<LLVM::LoadOp, LLVM::StoreOp, LLVM::AtomicRMWOp,
            LLVM::AtomicCmpXchgOp>(op))
      accesses.push_back(op);
    else if (isa<NVVM::NVVMDialect>(op->getDialect()) ||
             isa<LLVM::CallIntrinsicOp, LLVM::TanhOp>(op))
      nvvmOps.push_back(op);
  });
  for (Operation *op : accesses) {
    LogicalResult result = success();
    if (auto load = dyn_cast<LLVM::LoadOp>(op))
      result = instrument(op, load.getAddr(), load.getType(), false);
    else if (auto store = dyn_cast<LLVM::StoreOp>(op))
      result =
          instrument(op, store.getAddr(), store.getValue().getType(), true);
    else if (auto rmw = dyn_cast<LLVM::AtomicRMWOp>(op))
      result = instrument(op, rmw.getPtr(), rmw.getVal().getType(), true);
    else if (auto cas = dyn_cast<LLVM::AtomicCmpXchgOp>(op))
      result = instrument(op, cas.getPtr(), cas.getVal().getType(), true);
    if (failed(result))
      return failure();
  }
  for (Operation *op : nvvmOps) {
    LogicalResult result = success();
    if (auto intrinsic = dyn_cast<LLVM::CallIntrinsicOp>(op))
      result = emulateIntrinsic(intrinsic);
    else if (auto tanh = dyn_cast<LLVM::TanhOp>(op))
      result = emulateTanh(tanh);
    else
      result = emulate(op);
    if (failed(result))
      return failure();
  }
  return success();
}

/// Shared-memory globals become offsets into the block's buffer: static
/// ones from attn_emu_static_shared, zero-sized ones (dynamic shared
/// memory) at attn_emu_dynamic_shared. Returns the static bytes.
int64_t placeSharedGlobals(gpu::GPUModuleOp gpuModule, ModuleOp module) {
  llvm::StringMap<std::pair<StringRef, int64_t>> placement;
  SmallVector<LLVM::GlobalOp> sharedGlobals;
  int64_t staticBytes = 0;
  for (auto global : gpuModule.getOps<LLVM::GlobalOp>()) {
    if (global.getAddrSpace() != 3)
      continue;
    DataLayout layout = DataLayout::closest(global);
    int64_t size =
        static_cast<int64_t>(layout.getTypeSize(global.getGlobalType()));
    if (size == 0) {
      placement[global.getSymName()] = {"attn_emu_dynamic_shared", 0};
    } else {
      staticBytes = llvm::alignTo(staticBytes, 16);
      placement[global.getSymName()] = {"attn_emu_static_shared", staticBytes};
      staticBytes += size;
    }
    sharedGlobals.push_back(global);
  }
  SmallVector<LLVM::AddressOfOp> addressOfs;
  gpuModule.walk([&](LLVM::AddressOfOp op) { addressOfs.push_back(op); });
  auto ptr = LLVM::LLVMPointerType::get(module.getContext());
  for (LLVM::AddressOfOp op : addressOfs) {
    auto it = placement.find(op.getGlobalName());
    if (it == placement.end())
      continue;
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto fn = runtimeFunction(module, it->second.first, ptr, {});
    Value base = LLVM::CallOp::create(b, loc, fn, ValueRange{}).getResult();
    Value at = LLVM::GEPOp::create(
        b, loc, ptr, b.getI8Type(), base,
        ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(it->second.second)});
    Value cast = LLVM::AddrSpaceCastOp::create(b, loc, op.getType(), at);
    op.getResult().replaceAllUsesWith(cast);
    op.erase();
  }
  for (LLVM::GlobalOp global : sharedGlobals)
    global.erase();
  return staticBytes;
}

/// Renames libdevice declarations to the runtime's replacements and
/// module-level symbols that would clash with host symbols.
LogicalResult renameSymbols(gpu::GPUModuleOp gpuModule, ModuleOp module) {
  unsigned counter = 0;
  for (Operation &op : gpuModule.getBody()->getOperations()) {
    auto symbol = dyn_cast<SymbolOpInterface>(op);
    if (!symbol)
      continue;
    std::string name = symbol.getName().str();
    std::string newName;
    auto func = dyn_cast<LLVM::LLVMFuncOp>(op);
    if (func && func.isExternal()) {
      if (StringRef(name).starts_with("attn_emu_"))
        continue;
      if (!StringRef(name).starts_with("__nv_"))
        return op.emitError("attn-emulate-nvvm: external function '")
               << name << "' has no emulation";
      if (!emu::hasLibdeviceEmulation(name))
        return op.emitError("attn-emulate-nvvm: libdevice function '")
               << name << "' has no emulation";
      newName = "attn_emu_nv_" + name.substr(5);
    } else if (module.lookupSymbol(name)) {
      do
        newName = name + "_gpu" + std::to_string(counter++);
      while (module.lookupSymbol(newName) || gpuModule.lookupSymbol(newName));
    } else {
      continue;
    }
    if (failed(SymbolTable::replaceAllSymbolUses(
            &op, StringAttr::get(op.getContext(), newName), gpuModule)))
      return op.emitError("attn-emulate-nvvm: cannot rename '") << name << "'";
    symbol.setName(StringAttr::get(op.getContext(), newName));
  }
  return success();
}

/// What cuFuncGetAttribute would say of `kernel` (emu::KernelAttributes:
/// its .maxntid, from nvvm.maxntid or nvvm.reqntid, and its static shared
/// bytes), as a constant global the launcher reads to apply the driver's
/// launch rules.
void exportKernelAttributes(LLVM::LLVMFuncOp kernel, ModuleOp module,
                            int64_t staticSharedBytes) {
  uint64_t maxThreads = emu::KernelAttributes().maxThreadsPerBlock;
  for (StringRef name : {"nvvm.maxntid", "nvvm.reqntid"})
    if (auto dims = kernel->getAttrOfType<DenseI32ArrayAttr>(name)) {
      uint64_t threads = 1;
      for (int32_t d : dims.asArrayRef())
        threads *= static_cast<uint64_t>(std::max<int32_t>(d, 0));
      maxThreads = std::min(maxThreads, threads);
    }
  MLIRContext *context = module.getContext();
  auto i64 = IntegerType::get(context, 64);
  static_assert(sizeof(emu::KernelAttributes) == 2 * sizeof(uint64_t),
                "the global below is laid out as emu::KernelAttributes");
  auto value = DenseElementsAttr::get(
      RankedTensorType::get({2}, i64),
      ArrayRef<int64_t>{static_cast<int64_t>(maxThreads), staticSharedBytes});
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  LLVM::GlobalOp::create(b, kernel.getLoc(), LLVM::LLVMArrayType::get(i64, 2),
                         /*isConstant=*/true, LLVM::Linkage::External,
                         emu::kernelAttributesSymbol(kernel.getSymName().str()),
                         value);
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
      int64_t staticBytes = placeSharedGlobals(gpuModule, module);
      sharedBytes = std::max(sharedBytes, staticBytes);
      if (failed(renameSymbols(gpuModule, module)))
        return signalPassFailure();
      // Move every function and global into the host module.
      for (Operation &op :
           llvm::make_early_inc_range(gpuModule.getBody()->getOperations())) {
        if (op.hasTrait<OpTrait::IsTerminator>())
          continue;
        auto func = dyn_cast<LLVM::LLVMFuncOp>(op);
        if (!func && !isa<LLVM::GlobalOp>(op)) {
          op.emitError("attn-emulate-nvvm: cannot move '")
              << op.getName() << "' out of the GPU module";
          return signalPassFailure();
        }
        if (func && module.lookupSymbol(func.getSymName())) {
          // A runtime declaration made earlier; keep the host one.
          if (func.isExternal()) {
            func.erase();
            continue;
          }
        }
        op.moveBefore(module.getBody(), module.getBody()->end());
        if (!func)
          continue;
        if (func->hasAttr("gpu.kernel") || func->hasAttr("nvvm.kernel"))
          exportKernelAttributes(func, module, staticBytes);
        func->removeAttr("gpu.kernel");
        func->removeAttr("nvvm.kernel");
        if (!func.isExternal() && failed(FunctionEmulator(func, module).run()))
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
