//===- LaunchContract.cpp - Building #attn.launch_contract ----------------===//

#include "LaunchContract.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/AffineExpr.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::gpu_kernel;

namespace {

/// Where a host buffer comes from in the bufferized function: its
/// argument `index`, or its result `index` (an allocation it returns).
struct HostOrigin {
  bool result = false;
  unsigned index = 0;
};

std::optional<HostOrigin> hostOrigin(Value value, func::FuncOp func) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    if (arg.getOwner() != &func.getBody().front())
      return std::nullopt;
    return HostOrigin{false, arg.getArgNumber()};
  }
  if (!value.getDefiningOp<memref::AllocOp>())
    return std::nullopt;
  for (OpOperand &use : value.getUses())
    if (isa<func::ReturnOp>(use.getOwner()))
      return HostOrigin{true, use.getOperandNumber()};
  return std::nullopt;
}

/// The buffer a tile's output rows are a view of (a subview, perhaps cast
/// to the dynamic row count where canonicalization made it static).
Value viewedBuffer(Value rows) {
  while (true) {
    if (auto cast = rows.getDefiningOp<memref::CastOp>())
      rows = cast.getSource();
    else if (auto view = rows.getDefiningOp<memref::SubViewOp>())
      rows = view.getSource();
    else
      return rows;
  }
}

} // namespace

FailureOr<ContractBuilder> ContractBuilder::forFunction(func::FuncOp func) {
  SmallVector<TileUpdateOp> updates;
  func.walk([&](TileUpdateOp op) { updates.push_back(op); });
  if (updates.empty())
    return func.emitError("attn-tile-to-gpu: no attn.tile_update in the "
                          "function: nothing to launch");
  ContractBuilder c(func);
  MLIRContext *ctx = func.getContext();
  TileUpdateOp first = updates.front();
  auto q = cast<MemRefType>(first.getQuery().getType());
  auto k = cast<MemRefType>(first.getKey().getType());
  c.tiles = {static_cast<int64_t>(first.getTileQ()),
             static_cast<int64_t>(first.getTileKv())};
  c.sizes = {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2),
             k.getDimSize(2)};
  c.argRoles.resize(func.getNumArguments());
  c.resultRoles.resize(func.getNumResults());
  auto assign = [&](Value v, ParamRole role) {
    std::optional<HostOrigin> origin = v ? hostOrigin(v, func) : std::nullopt;
    if (!origin)
      return;
    KernelParamAttr &slot = origin->result ? c.resultRoles[origin->index]
                                           : c.argRoles[origin->index];
    if (!slot)
      slot = KernelParamAttr::get(ctx, role, 0);
  };
  for (TileUpdateOp u : updates) {
    assign(u.getQuery(), ParamRole::Query);
    assign(u.getKey(), ParamRole::Key);
    assign(u.getValue(), ParamRole::Value);
    assign(u.getBias(), ParamRole::Bias);
    assign(u.getQSegmentIds(), ParamRole::QSegmentIds);
    assign(u.getKvSegmentIds(), ParamRole::KvSegmentIds);
  }
  func.walk([&](TileFinalizeOp f) {
    assign(viewedBuffer(f.getOutput()), ParamRole::Output);
    if (Value lse = f.getLogsumexp())
      assign(viewedBuffer(lse), ParamRole::Lse);
  });
  // The other arguments are what the regions capture, in argument order.
  int64_t captures = 0;
  for (KernelParamAttr &slot : c.argRoles)
    if (!slot)
      slot = KernelParamAttr::get(ctx, ParamRole::Capture, captures++);
  for (auto [i, slot] : llvm::enumerate(c.resultRoles))
    if (!slot)
      return func.emitError("attn-tile-to-gpu: result ")
             << i << " of the function is neither an attention's output nor "
             << "its logsumexp";
  return c;
}

KernelParamAttr ContractBuilder::paramOf(Value v) {
  if (std::optional<HostOrigin> origin = hostOrigin(v, func))
    return origin->result ? resultRoles[origin->index]
                          : argRoles[origin->index];
  auto alloc = v.getDefiningOp<memref::AllocOp>();
  auto type = cast<MemRefType>(v.getType());
  if (!alloc || !type.hasStaticShape())
    return {};
  MLIRContext *ctx = func.getContext();
  auto [it, inserted] = temporaryOf.try_emplace(v, temporaries.size());
  if (inserted)
    temporaries.push_back(
        TemporaryAttr::get(ctx, type.getShape(), type.getElementType()));
  return KernelParamAttr::get(ctx, ParamRole::Temporary, it->second);
}

/// The grid symbols [batch, heads, seq_q, seq_kv].
static SmallVector<AffineExpr, 4> gridSymbols(MLIRContext *ctx) {
  SmallVector<AffineExpr, 4> s;
  for (unsigned i = 0; i < static_cast<unsigned>(GridSymbol::Count); ++i)
    s.push_back(getAffineSymbolExpr(i, ctx));
  return s;
}

AffineMap ContractBuilder::attentionGrid() const {
  MLIRContext *ctx = func.getContext();
  SmallVector<AffineExpr, 4> s = gridSymbols(ctx);
  return AffineMap::get(0, s.size(), {s[2].ceilDiv(tiles.tileQ), s[1], s[0]},
                        ctx);
}

AffineMap ContractBuilder::tileTableGrid(int64_t threads) const {
  MLIRContext *ctx = func.getContext();
  SmallVector<AffineExpr, 4> s = gridSymbols(ctx);
  AffineExpr tilesOfTable =
      s[0] * s[1] * s[2].ceilDiv(tiles.tileQ) * s[3].ceilDiv(tiles.tileKV);
  AffineExpr one = getAffineConstantExpr(1, ctx);
  return AffineMap::get(0, s.size(), {tilesOfTable.ceilDiv(threads), one, one},
                        ctx);
}

FailureOr<LaunchContractAttr> ContractBuilder::build() const {
  auto emitError = [&] {
    return func.emitError("attn-tile-to-gpu: invalid launch contract: ");
  };
  auto contract = LaunchContractAttr::getChecked(
      function_ref<InFlightDiagnostic()>(emitError), func.getContext(),
      ArrayRef<KernelParamAttr>(argRoles),
      ArrayRef<KernelParamAttr>(resultRoles),
      ArrayRef<int64_t>{tiles.tileQ, tiles.tileKV},
      ArrayRef<KernelLaunchAttr>(kernels),
      ArrayRef<TemporaryAttr>(temporaries));
  if (!contract)
    return failure();
  return contract;
}
