//===- AttnToGPU.cpp - Tiled attention to tensor-core GPU kernels ---------===//
//
// attn-tile-to-gpu (see Passes.td for the kernel's structure). The forall
// that attn-tile builds is outlined into a gpu.func whose block ids replace
// the forall's induction variables; its body, block-sparse kv loop
// included, is cloned unchanged, and only the attn.tile_* ops and their
// state buffers are rewritten, by the KernelEmitter (KernelEmitter.h), into
// warp-level code. Also here: the launch contract reader and the
// attn-to-gpu pipeline.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "LaunchContract.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Numerics.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Dialect/Attn/Transforms/TileElements.h"
#include "attn/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Utils/GPUUtils.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILETOGPU
#include "attn/Conversion/AttnToGPU/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
namespace nx = mlir::attn::numerics;

using mlir::attn::gpu_kernel::ContractBuilder;
using mlir::attn::gpu_kernel::KernelEmitter;

namespace {

/// The tile-table kernels run one thread per tile, in blocks of this many.
constexpr int64_t kTableThreads = 128;

/// Whether `v` is computed from constants by side-effect-free ops only, so
/// that the kernel can recompute it instead of taking it as a parameter.
bool isRematerializable(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getNumRegions() != 0 || !isMemoryEffectFree(def))
    return false;
  return llvm::all_of(def->getOperands(), isRematerializable);
}

/// The block dimension (0 = x, 1 = y, 2 = z) of each induction variable of
/// the attention grid, from its #gpu.block mapping.
FailureOr<SmallVector<unsigned>> blockDimensions(scf::ForallOp forall) {
  std::optional<ArrayAttr> blockMapping = forall.getMapping();
  if (!blockMapping || blockMapping->size() != 3 ||
      !llvm::all_of(*blockMapping, llvm::IsaPred<gpu::GPUBlockMappingAttr>))
    return forall.emitError("attn-tile-to-gpu: expected the attention grid "
                            "mapped to GPU blocks (#gpu.block<x/y/z>)");
  SmallVector<unsigned> dimOf;
  for (Attribute attr : *blockMapping) {
    auto dim =
        static_cast<unsigned>(cast<gpu::GPUBlockMappingAttr>(attr).getBlock());
    if (dim > 2)
      return forall.emitError("attn-tile-to-gpu: the attention grid maps to "
                              "the block dimensions x, y and z only");
    dimOf.push_back(dim);
  }
  return dimOf;
}

/// Expands the tile ops cloned into `kernel` with `emitter`; their state
/// buffers go away. Errors are reported at `first` (the host update).
LogicalResult expandTileOps(gpu::GPUFuncOp kernel, KernelEmitter &emitter,
                            TileUpdateOp first) {
  TileInitOp kInit;
  TileFinalizeOp kFinal;
  SmallVector<TileUpdateOp> kUpdates;
  kernel.walk([&](Operation *op) {
    if (auto i = dyn_cast<TileInitOp>(op))
      kInit = i;
    else if (auto f = dyn_cast<TileFinalizeOp>(op))
      kFinal = f;
    else if (auto u = dyn_cast<TileUpdateOp>(op))
      kUpdates.push_back(u);
  });
  llvm::SetVector<Operation *> stateBuffers;
  for (Value v : {kInit.getRowMax(), kInit.getRowSum(), kInit.getAcc()})
    stateBuffers.insert(v.getDefiningOp());
  // The query tile is loaded at tile_init, with the first update's indices.
  TileUpdateOp kFirst = kUpdates.front();
  DominanceInfo dominance(kernel);
  for (Value v : SmallVector<Value>{kFirst.getBatch(), kFirst.getQHead(),
                                    kFirst.getQBegin(), kFirst.getQuery()})
    if (!dominance.properlyDominates(v, kInit))
      return first.emitError("attn-tile-to-gpu: the query tile's indices are "
                             "not known at tile_init");
  emitter.emitInit(kInit, kFirst.getBatch(), kFirst.getQHead(),
                   kFirst.getQBegin(), kFirst.getQuery());
  for (TileUpdateOp u : kUpdates)
    if (failed(emitter.emitUpdate(u)))
      return failure();
  emitter.emitFinalize(kFinal);
  for (Operation *alloc : stateBuffers) {
    if (!alloc)
      continue;
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        user->erase();
    if (alloc->use_empty())
      alloc->erase();
  }

  return success();
}

/// exp2, log and tanh as the approximate instructions FlashAttention uses
/// (tanh: NVPTX selects tanh.approx.f32, sm_75+, for llvm.tanh with afn;
/// libdevice's tanhf branches and divides), and fma as the instruction.
void useApproximateMath(gpu::GPUFuncOp kernel) {
  kernel.walk([&](Operation *op) {
    OpBuilder rb(op);
    Type f32 = rb.getF32Type();
    if (auto exp2 = dyn_cast<math::Exp2Op>(op); exp2 && exp2.getType() == f32) {
      auto call = LLVM::CallIntrinsicOp::create(
          rb, op->getLoc(), f32, rb.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"),
          ValueRange{exp2.getOperand()});
      exp2.replaceAllUsesWith(call.getResult(0));
      exp2.erase();
    } else if (auto log = dyn_cast<math::LogOp>(op);
               log && log.getType() == f32) {
      auto call = LLVM::CallIntrinsicOp::create(
          rb, op->getLoc(), f32, rb.getStringAttr("llvm.nvvm.lg2.approx.f"),
          ValueRange{log.getOperand()});
      Value ln =
          arith::MulFOp::create(rb, op->getLoc(), call.getResult(0),
                                nx::f32Constant(rb, op->getLoc(), nx::kLn2));
      log.replaceAllUsesWith(ln);
      log.erase();
    } else if (auto tanh = dyn_cast<math::TanhOp>(op);
               tanh && tanh.getType() == f32) {
      auto approx =
          LLVM::TanhOp::create(rb, op->getLoc(), tanh.getOperand(),
                               LLVM::FastmathFlagsAttr::get(
                                   rb.getContext(), LLVM::FastmathFlags::afn));
      tanh.replaceAllUsesWith(approx.getResult());
      tanh.erase();
    } else if (auto fma = dyn_cast<math::FmaOp>(op)) {
      // The intrinsic (fma.rn), not libdevice's __nv_fmaf, which
      // convert-gpu-to-nvvm would call: a libdevice dependency for one
      // instruction.
      auto fused = LLVM::FMAOp::create(rb, op->getLoc(), fma.getA(), fma.getB(),
                                       fma.getC());
      fma.replaceAllUsesWith(fused.getResult());
      fma.erase();
    }
  });
}

class AttnTileToGPUPass final
    : public mlir::attn::impl::AttnTileToGPUBase<AttnTileToGPUPass> {
public:
  using AttnTileToGPUBase::AttnTileToGPUBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Foralls of attn-tile in program order: tile-table builders and the
    // attention grids. Nested foralls are left to their parents.
    SmallVector<scf::ForallOp> foralls;
    module.walk<WalkOrder::PreOrder>([&](scf::ForallOp forall) {
      if (forall->getParentOfType<scf::ForallOp>())
        return WalkResult::skip();
      foralls.push_back(forall);
      return WalkResult::skip();
    });
    for (scf::ForallOp forall : foralls) {
      if (forall->hasAttr(kRuntimeBlockLayoutAttr)) {
        forall.emitError("attn-tile-to-gpu: a run-time block layout "
                         "(block_sparse) is not lowered to the GPU yet");
        return signalPassFailure();
      }
      bool paged = false, packed = false, headPacked = false;
      forall.walk([&](TileUpdateOp op) {
        headPacked |= op.getQHeads().has_value();
        packed |= static_cast<bool>(op.getQStart());
        paged |= static_cast<bool>(op.getPageTable() || op.getKvLength());
      });
      if (headPacked) {
        forall.emitError("attn-tile-to-gpu: query heads packed into a tile "
                         "(attn-tile's pack-gqa-heads) are not lowered to "
                         "the GPU yet");
        return signalPassFailure();
      }
      if (packed) {
        forall.emitError("attn-tile-to-gpu: packed sequences (varlen) are "
                         "not lowered to the GPU yet");
        return signalPassFailure();
      }
      if (paged) {
        forall.emitError("attn-tile-to-gpu: a paged KV cache (paged) is not "
                         "lowered to the GPU yet");
        return signalPassFailure();
      }
      if (forall.getBody()->getOps<TileMergeOp>().empty())
        continue;
      forall.emitError("attn-tile-to-gpu: attn.tile_merge (split-KV with "
                       "attn-tile's kv-splits > 1, or an attn.merge) is not "
                       "lowered to the GPU yet; tile with kv-splits=1");
      return signalPassFailure();
    }
    for (scf::ForallOp forall : foralls) {
      bool attention = !forall.getBody()->getOps<TileInitOp>().empty();
      if (failed(attention ? outline(forall) : outlineTable(forall)))
        return signalPassFailure();
    }
    if (!contract)
      return;
    FailureOr<LaunchContractAttr> built = contract->build();
    if (failed(built))
      return signalPassFailure();
    module.lookupSymbol<gpu::GPUModuleOp>("attn_kernels")
        ->setAttr(kGpuLaunchContractAttr, *built);
  }

private:
  gpu::GPUModuleOp kernelModule(ModuleOp module) {
    if (auto existing = module.lookupSymbol<gpu::GPUModuleOp>("attn_kernels"))
      return existing;
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(module.getContext()));
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    return gpu::GPUModuleOp::create(b, module.getLoc(), "attn_kernels");
  }

  /// A gpu.func for `forall` taking the memrefs its body uses from the
  /// host (recorded with their roles) and recomputing the rest; the
  /// mapping leads from host values to kernel values, the builder is at
  /// the start of the kernel body.
  struct Outlined {
    gpu::GPUFuncOp kernel;
    SmallVector<Value> params;
    SmallVector<KernelParamAttr> roles; // per parameter
  };
  /// Builds a gpu.launch of `grid` x `threads` in place of `forall`, its
  /// body written by `fill` (given the launch and the mapping from host
  /// values), sinks what is computed from constants into it and outlines
  /// it with upstream's utilities (sinkOperationsIntoLaunchOp,
  /// outlineKernelFunc) into a gpu.func of the kernel module.
  using FillLaunch =
      function_ref<void(OpBuilder &, gpu::LaunchOp, IRMapping &)>;
  FailureOr<Outlined> createKernel(scf::ForallOp forall, StringRef suffix,
                                   ArrayRef<int64_t> grid, int64_t threads,
                                   FillLaunch fill);
  /// Copies the host constant tables the kernel reads into the GPU module.
  void copyGlobals(gpu::GPUFuncOp kernel);
  /// Records the kernel in the launch contract (its grid a function of
  /// the sizes, `gridMap`; `grid` its value at the static sizes) and
  /// replaces `forall` with the launch.
  LogicalResult launch(scf::ForallOp forall, Outlined &outlined,
                       AffineMap gridMap, ArrayRef<int64_t> grid,
                       int64_t threads, int64_t sharedBytes,
                       int64_t minBlocksPerSM);
  /// The contract of the function holding `forall` (one per module).
  FailureOr<ContractBuilder *> contractFor(scf::ForallOp forall);

  LogicalResult outline(scf::ForallOp forall);
  LogicalResult outlineTable(scf::ForallOp forall);

  std::optional<ContractBuilder> contract;
  unsigned kernelCount = 0;
};

FailureOr<ContractBuilder *>
AttnTileToGPUPass::contractFor(scf::ForallOp forall) {
  auto func = forall->getParentOfType<func::FuncOp>();
  if (!func)
    return forall.emitError("attn-tile-to-gpu: expected the forall in a "
                            "func.func");
  if (!contract) {
    FailureOr<ContractBuilder> built = ContractBuilder::forFunction(func);
    if (failed(built))
      return failure();
    contract.emplace(std::move(*built));
  }
  if (contract->getFunction() != func)
    return forall.emitError("attn-tile-to-gpu: the launch contract describes "
                            "one host function; this module has attentions in ")
           << "@" << contract->getFunction().getSymName() << " and @"
           << func.getSymName();
  return &*contract;
}

FailureOr<AttnTileToGPUPass::Outlined>
AttnTileToGPUPass::createKernel(scf::ForallOp forall, StringRef suffix,
                                ArrayRef<int64_t> grid, int64_t threads,
                                FillLaunch fill) {
  FailureOr<ContractBuilder *> builder = contractFor(forall);
  if (failed(builder))
    return failure();
  func::FuncOp func = (*builder)->getFunction();
  // The launch, filled with the forall's body.
  Location loc = forall.getLoc();
  OpBuilder hb(forall);
  auto c = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(hb, loc, v);
  };
  auto launch = gpu::LaunchOp::create(hb, loc, c(grid[0]), c(grid[1]),
                                      c(grid[2]), c(threads), c(1), c(1));
  {
    OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
    IRMapping mapping;
    fill(b, launch, mapping);
    gpu::TerminatorOp::create(b, loc);
  }
  if (failed(sinkOperationsIntoLaunchOp(launch, [](Operation *op) {
        return llvm::all_of(op->getResults(), isRematerializable);
      })))
    return forall.emitError("attn-tile-to-gpu: cannot sink the kernel's "
                            "constants into its launch");
  std::string name = (func.getSymName() + "_" + suffix +
                      (kernelCount ? "_" + std::to_string(kernelCount) : ""))
                         .str();
  ++kernelCount;
  Outlined outlined;
  gpu::GPUFuncOp kernel = outlineKernelFunc(launch, name, outlined.params);
  launch.erase();
  // The kernel serves every grid the contract states, not only this one.
  kernel->removeAttr(kernel.getKnownGridSizeAttrName());
  SymbolTable(kernelModule(getOperation())).insert(kernel);
  for (Value v : outlined.params) {
    KernelParamAttr role =
        isa<MemRefType>(v.getType()) ? (*builder)->paramOf(v) : nullptr;
    if (!isa<MemRefType>(v.getType()))
      return forall.emitError("attn-tile-to-gpu: the kernel would take a "
                              "non-memref value from the host: ")
             << v;
    if (!role)
      return forall.emitError("attn-tile-to-gpu: a kernel buffer is neither "
                              "an argument nor a result of the function, "
                              "nor a static host allocation");
    outlined.roles.push_back(role);
  }
  outlined.kernel = kernel;
  return outlined;
}

void AttnTileToGPUPass::copyGlobals(gpu::GPUFuncOp kernel) {
  ModuleOp module = getOperation();
  auto gpuModule = kernel->getParentOfType<gpu::GPUModuleOp>();
  SymbolTable gpuSymbols(gpuModule);
  kernel.walk([&](memref::GetGlobalOp get) {
    if (gpuSymbols.lookup(get.getName()))
      return;
    if (auto global = module.lookupSymbol<memref::GlobalOp>(get.getName())) {
      OpBuilder gb = OpBuilder::atBlockBegin(gpuModule.getBody());
      gpuSymbols.insert(gb.clone(*global));
    }
  });
}

LogicalResult AttnTileToGPUPass::launch(scf::ForallOp forall,
                                        Outlined &outlined, AffineMap gridMap,
                                        ArrayRef<int64_t> grid, int64_t threads,
                                        int64_t sharedBytes,
                                        int64_t minBlocksPerSM) {
  // The driver's grid limits (every chip attn targets): x < 2^31, y and z
  // at most 65535. The attention grid is (q tiles, heads, batch).
  constexpr int64_t kMaxGrid[3] = {(int64_t{1} << 31) - 1, 65535, 65535};
  static const char *const kGridRole[3] = {"query tiles (or table blocks)",
                                           "heads", "batch"};
  for (int d = 0; d < 3; ++d)
    if (grid[d] < 1 || grid[d] > kMaxGrid[d])
      return forall.emitError("attn-tile-to-gpu: the kernel's grid (")
             << grid[0] << ", " << grid[1] << ", " << grid[2]
             << ") is outside the GPU's limits: " << grid[d] << " "
             << kGridRole[d] << " in "
             << "xyz"[d] << ", at most " << kMaxGrid[d];
  gpu::GPUFuncOp kernel = outlined.kernel;
  auto launch =
      KernelLaunchAttr::get(&getContext(), kernel.getName(), gridMap,
                            {threads, 1, 1}, sharedBytes, outlined.roles);
  if (ArrayRef<int64_t>(launch.evaluateGrid(contract->getSizes())) != grid)
    return forall.emitError("attn-tile-to-gpu: internal error: the grid map ")
           << AffineMapAttr::get(gridMap) << " does not give the grid ("
           << grid[0] << ", " << grid[1] << ", " << grid[2] << ")";
  contract->addKernel(launch);
  Builder b(&getContext());
  // .minnctapersm: ptxas's own occupancy target can cap registers for a
  // third block per SM and spill (16 bytes at 168 registers on the dilated
  // D = 128 kernel) or rematerialise (9% more instructions on the window
  // D = 64 kernel). Two blocks of four warps per SM, or one of eight, as
  // FlashAttention-2 runs, leave it 255 registers.
  kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                  b.getI32IntegerAttr(minBlocksPerSM));
  OpBuilder hb(forall);
  Location loc = forall.getLoc();
  auto c = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(hb, loc, v);
  };
  Value smem = arith::ConstantIntOp::create(hb, loc, sharedBytes, 32);
  gpu::LaunchFuncOp::create(
      hb, loc, kernel, gpu::KernelDim3{c(grid[0]), c(grid[1]), c(grid[2])},
      gpu::KernelDim3{c(threads), c(1), c(1)}, smem, outlined.params);
  forall.erase();
  return success();
}

/// A run-time tile table: a forall over (batch, head, q tile, kv tile) that
/// counts each tile's kept elements. One thread per tile.
LogicalResult AttnTileToGPUPass::outlineTable(scf::ForallOp forall) {
  // The table's (static) shape is the kernel's index space; each forall
  // induction variable indexes one of its dimensions (canonicalization
  // may have dropped the unit ones).
  memref::StoreOp tableStore;
  forall.walk([&](memref::StoreOp store) {
    auto type = cast<MemRefType>(store.getMemRef().getType());
    if (type.hasStaticShape() && type.getRank() == 4)
      tableStore = store;
  });
  SmallVector<int64_t> dims;
  SmallVector<int> dimOfIv(forall.getRank(), -1);
  if (tableStore) {
    dims = SmallVector<int64_t>(tableStore.getMemRefType().getShape());
    for (auto [d, index] : llvm::enumerate(tableStore.getIndices()))
      if (auto iv = dyn_cast<BlockArgument>(index);
          iv && iv.getOwner() == forall.getBody())
        dimOfIv[iv.getArgNumber()] = d;
  }
  if (!tableStore || llvm::is_contained(dimOfIv, -1))
    return forall.emitError("attn-tile-to-gpu: expected a tile-table forall "
                            "over (batch, head, q tile, kv tile) with a "
                            "static shape");
  int64_t total = dims[0] * dims[1] * dims[2] * dims[3];
  auto fill = [&](OpBuilder &b, gpu::LaunchOp launch, IRMapping &mapping) {
    Location loc = forall.getLoc();
    auto c = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value id = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, launch.getBlockIds().x, c(kTableThreads)),
        launch.getThreadIds().x);
    Value inside =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, id, c(total));
    auto ifOp = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    // Delinearise (row-major over the table).
    Value index[4];
    Value rest = id;
    for (int d = 3; d >= 0; --d) {
      index[d] = arith::RemUIOp::create(b, loc, rest, c(dims[d]));
      rest = arith::DivUIOp::create(b, loc, rest, c(dims[d]));
    }
    for (auto [iv, d] : llvm::zip(forall.getInductionVars(), dimOfIv))
      mapping.map(iv, index[d]);
    for (Operation &op : forall.getBody()->without_terminator())
      b.clone(op, mapping);
  };
  SmallVector<int64_t> grid = {llvm::divideCeilSigned(total, kTableThreads), 1,
                               1};
  FailureOr<Outlined> outlined =
      createKernel(forall, "tile_table", grid, kTableThreads, fill);
  if (failed(outlined))
    return failure();
  copyGlobals(outlined->kernel);
  return launch(forall, *outlined, contract->tileTableGrid(kTableThreads), grid,
                kTableThreads, 0, /*minBlocksPerSM=*/1);
}

LogicalResult AttnTileToGPUPass::outline(scf::ForallOp forall) {
  auto func = forall->getParentOfType<func::FuncOp>();
  Block *body = forall.getBody();
  auto inits = llvm::to_vector(body->getOps<TileInitOp>());
  auto finals = llvm::to_vector(body->getOps<TileFinalizeOp>());
  SmallVector<TileUpdateOp> updates;
  forall.walk([&](TileUpdateOp op) { updates.push_back(op); });
  if (!func || forall.getRank() != 3 || inits.size() != 1 ||
      finals.size() != 1 || updates.empty())
    return forall.emitError("attn-tile-to-gpu: expected the forall of "
                            "attn-tile (batch, head, query tile) with one "
                            "tile_init, tile updates and one tile_finalize");
  TileUpdateOp first = updates.front();
  if (!first.hasBufferSemantics())
    return first.emitError("attn-tile-to-gpu: expects the tile ops on "
                           "memrefs; bufferize the tiled IR first "
                           "(attn-bufferize)");
  auto qType = cast<MemRefType>(first.getQuery().getType());
  auto kType = cast<MemRefType>(first.getKey().getType());
  auto vType = cast<MemRefType>(first.getValue().getType());
  Type elementType = qType.getElementType();
  if (!elementType.isF16() && !elementType.isBF16())
    return first.emitError("attn-tile-to-gpu: the GPU path takes f16 or bf16 "
                           "inputs, not ")
           << elementType;
  if (!qType.hasStaticShape() || !kType.hasStaticShape() ||
      !vType.hasStaticShape())
    return first.emitError("attn-tile-to-gpu: the GPU path needs static "
                           "shapes");
  int64_t dqk = qType.getDimSize(3), dv = vType.getDimSize(3);
  if (dqk % kGpuHeadDimMultiple != 0 || dv % kGpuHeadDimMultiple != 0 ||
      dqk > kGpuMaxHeadDim || dv > kGpuMaxHeadDim)
    return first.emitError("attn-tile-to-gpu: head dimensions must be "
                           "multiples of ")
           << kGpuHeadDimMultiple << " up to " << kGpuMaxHeadDim << ", not "
           << dqk << " and " << dv;
  // The tile shape is the tiled IR's, the warps the option's.
  GpuKernelConfig tiles{static_cast<int64_t>(first.getTileQ()),
                        static_cast<int64_t>(first.getTileKv()), warps,
                        qInRegisters};
  for (TileUpdateOp op : updates)
    if (op.getTileQ() != first.getTileQ() ||
        op.getTileKv() != first.getTileKv())
      return op.emitError("attn-tile-to-gpu: the tile updates of one "
                          "attention disagree on the tile shape");
  if (tiles.warps == 0) {
    tiles.warps =
        defaultGpuWarps(tiles.tileQ, tiles.tileKV, dqk, dv, chip.getValue());
    GpuKernelConfig table = defaultGpuKernelConfig(dqk, dv, chip.getValue());
    if (table.tileQ == tiles.tileQ && table.tileKV == tiles.tileKV)
      tiles.qInRegisters |= table.qInRegisters;
  }
  if (std::string why = checkGpuKernelConfig(tiles, dqk, dv, chip.getValue());
      !why.empty())
    return first.emitError("attn-tile-to-gpu: no GPU kernel ")
           << tiles.str() << " (tile_q x tile_kv, warps) for head dimensions "
           << dqk << "/" << dv << " on " << chip.getValue() << ": " << why;

  // The block ids the grid's mapping names (attn-tile: batch z, head y,
  // query tile x) stand for the forall's induction variables.
  FailureOr<SmallVector<unsigned>> dims = blockDimensions(forall);
  if (failed(dims))
    return failure();
  SmallVector<unsigned> dimOf = std::move(*dims);
  SmallVector<int64_t> grid(3, 1);
  int64_t extents[3] = {
      qType.getDimSize(0), qType.getDimSize(1),
      llvm::divideCeilSigned(qType.getDimSize(2), tiles.tileQ)};
  for (auto [i, dim] : llvm::enumerate(dimOf))
    grid[dim] = extents[i];
  auto fill = [&](OpBuilder &b, gpu::LaunchOp launch, IRMapping &mapping) {
    Value ids[3] = {launch.getBlockIds().x, launch.getBlockIds().y,
                    launch.getBlockIds().z};
    for (auto [iv, dim] : llvm::zip(forall.getInductionVars(), dimOf))
      mapping.map(iv, ids[dim]);
    for (Operation &op : body->without_terminator())
      b.clone(op, mapping);
  };
  FailureOr<Outlined> outlined =
      createKernel(forall, "kernel", grid, tiles.threads(), fill);
  if (failed(outlined))
    return failure();
  gpu::GPUFuncOp kernel = outlined->kernel;
  Location loc = forall.getLoc();
  KernelEmitter emitter(kernel, elementType, dqk, dv, tiles);
  OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
  emitter.emitPrologue(b, loc);
  copyGlobals(kernel);

  if (failed(expandTileOps(kernel, emitter, first)))
    return failure();
  useApproximateMath(kernel);
  // The launch contract, and the launch itself in place of the forall.
  return launch(forall, *outlined, contract->attentionGrid(), grid,
                tiles.threads(), tiles.sharedBytes(dqk, dv),
                tiles.minBlocksPerSM());
}

} // namespace

FailureOr<LaunchContractAttr>
mlir::attn::readLaunchContract(gpu::GPUModuleOp gpuModule) {
  auto contract =
      gpuModule->getAttrOfType<LaunchContractAttr>(kGpuLaunchContractAttr);
  if (!contract)
    return gpuModule.emitError("no attn-tile-to-gpu launch contract (")
           << kGpuLaunchContractAttr << ")";
  for (KernelLaunchAttr k : contract.getKernels()) {
    auto kernel = gpuModule.lookupSymbol<gpu::GPUFuncOp>(k.getName());
    if (!kernel || kernel.getNumArguments() != k.getParams().size())
      return gpuModule.emitError("the launch contract's kernel '")
             << k.getName() << "' is not a gpu.func of " << k.getParams().size()
             << " parameters in the module";
  }
  return contract;
}

std::string GpuKernelConfig::str() const {
  return (Twine(tileQ) + "x" + Twine(tileKV) + "w" + Twine(warps) +
          (qInRegisters ? "q" : ""))
      .str();
}

std::optional<GpuKernelConfig>
mlir::attn::parseGpuKernelConfig(StringRef text) {
  GpuKernelConfig config;
  StringRef rest = text;
  if (rest.consumeInteger(10, config.tileQ) || !rest.consume_front("x") ||
      rest.consumeInteger(10, config.tileKV))
    return std::nullopt;
  if (rest.consume_front("w") && rest.consumeInteger(10, config.warps))
    return std::nullopt;
  config.qInRegisters = rest.consume_front("q");
  if (!rest.empty() || config.tileQ <= 0 || config.tileKV <= 0 ||
      config.warps < 0)
    return std::nullopt;
  return config;
}

int64_t mlir::attn::gpuSharedBytesPerBlock(StringRef chip) {
  // cudaDevAttrMaxSharedMemoryPerBlockOptin: A100 163 KiB, H100 227 KiB.
  return chip == "sm_90" || chip == "sm_90a" ? 227 * 1024 : 163 * 1024;
}

GpuKernelConfig mlir::attn::defaultGpuKernelConfig(int64_t headDimQK,
                                                   int64_t headDimV,
                                                   StringRef chip) {
  // By the larger head dimension, after FlashAttention-2's forward
  // kernels on A100 and H100 (csrc/flash_attn/src/
  // flash_fwd_launch_template.h, run_mha_fwd_hdim*), within what ptxas
  // fits in 255 registers without spilling for every mask kind and score
  // modification of the PTX matrix (unittests/Target/PtxMatrixTest.cpp;
  // docs/gpu.md, "Kernel configurations"):
  // - up to 128: 128 x 32, 4 warps of two slabs (FA2's sm86 choice at
  //   128; its A100/H100 128 x 64 and, at 64, 128 x 128 take 192
  //   accumulator registers and spill here, and so does 128 x 64 at 64
  //   with a window or ALiBi); up to 64 with Q in registers (32 more
  //   registers; FA2 keeps Q in shared memory), so that a kv tile reads
  //   only K and V fragments;
  // - beyond: 64 x 64, 4 warps of one slab (FA2's H100 choice at 256; its
  //   128 x 64 with 8 warps spills with a compile-time tile table at
  //   192/128 on sm_90).
  int64_t d = std::max(headDimQK, headDimV);
  (void)chip; // the same on sm_80 and sm_90 today
  if (d <= 64)
    return {128, 32, 4, /*qInRegisters=*/true};
  if (d <= 128)
    return {128, 32, 4};
  return {64, 64, 4};
}

int64_t mlir::attn::defaultGpuWarps(int64_t tileQ, int64_t tileKV,
                                    int64_t headDimQK, int64_t headDimV,
                                    StringRef chip) {
  GpuKernelConfig table = defaultGpuKernelConfig(headDimQK, headDimV, chip);
  if (table.tileQ == tileQ && table.tileKV == tileKV)
    return table.warps;
  GpuKernelConfig two{tileQ, tileKV, tileQ / 32};
  if (tileQ % 32 == 0 &&
      two.accumulatorRegisters(headDimV) <= kGpuAccumulatorBudget)
    return two.warps;
  return std::max<int64_t>(tileQ / 16, 1);
}

std::string mlir::attn::checkGpuKernelConfig(const GpuKernelConfig &config,
                                             int64_t headDimQK,
                                             int64_t headDimV, StringRef chip) {
  std::string why;
  llvm::raw_string_ostream os(why);
  if (config.warps < 1 || config.warps > 8)
    os << "warps must be 1 to 8, not " << config.warps;
  else if (config.tileQ % config.warps != 0 ||
           (config.rowsPerWarp() != 16 && config.rowsPerWarp() != 32))
    os << "each warp owns tile_q / warps query rows, which must be 16 or "
          "32, not "
       << config.tileQ << " / " << config.warps;
  else if (config.tileKV % 16 != 0 || config.tileKV > 256)
    os << "tile_kv must be a multiple of 16 up to 256, not " << config.tileKV;
  else if (config.accumulatorRegisters(headDimV) +
               config.queryRegisters(headDimQK) >
           kGpuAccumulatorBudget)
    os << "its accumulators" << (config.qInRegisters ? " and Q fragments" : "")
       << " take "
       << config.accumulatorRegisters(headDimV) +
              config.queryRegisters(headDimQK)
       << " registers per thread, more than the " << kGpuAccumulatorBudget
       << " that fit; use one slab (16 rows) per warp or a smaller tile_kv"
       << (config.qInRegisters ? ", or Q in shared memory" : "");
  else if (config.sharedBytes(headDimQK, headDimV) >
           gpuSharedBytesPerBlock(chip))
    os << "its tiles take " << config.sharedBytes(headDimQK, headDimV)
       << " bytes of shared memory, more than the "
       << gpuSharedBytesPerBlock(chip) << " a block may have";
  else
    for (auto [rows, d] : {std::pair{config.tileQ, headDimQK},
                           std::pair{config.tileKV, headDimQK},
                           std::pair{config.tileKV, headDimV}})
      if (rows * d / 8 % config.threads() != 0) {
        os << "a " << rows << " x " << d
           << " tile does not split into 16-byte copies evenly over "
           << config.threads() << " threads";
        break;
      }
  return why;
}

void mlir::attn::buildAttnToGpuPipeline(OpPassManager &pm,
                                        std::optional<GpuKernelConfig> config,
                                        StringRef chip) {
  AttnTileToGPUOptions toGpu;
  toGpu.chip = chip.str();
  if (config) {
    AttnTileOptions tile;
    tile.tileQ = config->tileQ;
    tile.tileKV = config->tileKV;
    pm.addPass(createAttnTile(tile));
    toGpu.warps = config->warps;
    toGpu.qInRegisters = config->qInRegisters;
  } else {
    // Each attention's table entry; attn-tile-to-gpu finds its warps
    // again (defaultGpuWarps of the table's tile shape).
    std::string chipName = chip.str();
    pm.addPass(createAttnTile({}, [chipName](AttentionOp op) {
      AttentionShape shape = op.getShape();
      GpuKernelConfig c =
          defaultGpuKernelConfig(shape.headDimQK, shape.headDimV, chipName);
      return std::pair{c.tileQ, c.tileKV};
    }));
  }
  buildAttnBufferizePipeline(pm);
  pm.addPass(createAttnTileToGPU(toGpu));
}

void mlir::attn::registerAttnToGpuPipeline() {
  // registerPassPipeline rather than PassPipelineRegistration: a
  // kernel-config that does not parse is an error of the pipeline text.
  registerPassPipeline(
      "attn-to-gpu",
      "Tile attn.attention and outline it into tensor-core GPU kernels "
      "(attn-tile, attn-bufferize, attn-tile-to-gpu) of a kernel "
      "configuration (kernel-config: \"128x64w4\", or \"auto\" for the "
      "table's); configurations that do not fit are refused",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        AttnToGpuOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        std::optional<GpuKernelConfig> config;
        if (options.kernelConfig != "auto") {
          config = parseGpuKernelConfig(options.kernelConfig);
          if (!config)
            return errorHandler("attn-to-gpu: kernel-config '" +
                                options.kernelConfig + "' is not " +
                                kGpuKernelConfigSyntax + " or \"auto\"");
        }
        buildAttnToGpuPipeline(pm, config, options.chip);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optionsHandler) {
        optionsHandler(AttnToGpuOptions());
      });
}
