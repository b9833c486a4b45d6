//===- Bf16MmaToNVVM.cpp - bf16 nvgpu.mma.sync to nvvm.mma.sync -----------===//
//
// convert-nvgpu-to-nvvm handles f16 multiplicands but fails on bf16 ("failed
// to deduce operand PTX types"); nvvm.mma.sync takes bf16 pairs as i32
// registers with explicit PTX types. The A, B and C fragments are unpacked
// from their nvgpu vectors, the result repacked, so that everything around
// the op is unchanged.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUToNVVM/GPUToNVVM.h"

#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNBF16MMATONVVM
#include "attn/Conversion/GPUToNVVM/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// The rows of an nvgpu fragment vector<Nx2xT>, each as one 32-bit value
/// (i32 for 16-bit pairs, the element itself for f32 pairs' halves).
SmallVector<Value> packedRows(OpBuilder &b, Location loc, Value fragment) {
  auto type = cast<VectorType>(fragment.getType());
  SmallVector<Value> rows;
  Type i32 = b.getI32Type();
  for (int64_t r = 0; r < type.getDimSize(0); ++r) {
    Value row = vector::ExtractOp::create(b, loc, fragment, r);
    Value asVector =
        vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), row);
    rows.push_back(vector::ExtractOp::create(b, loc, asVector, 0));
  }
  return rows;
}

} // namespace

LogicalResult mlir::attn::rewriteBf16MmaSync(Operation *mmaSync) {
  auto op = cast<nvgpu::MmaSyncOp>(mmaSync);
  auto aType = cast<VectorType>(op.getMatrixA().getType());
  auto cType = cast<VectorType>(op.getMatrixC().getType());
  if (!aType.getElementType().isBF16())
    return success(); // convert-nvgpu-to-nvvm's business
  SmallVector<int64_t> mnk;
  for (Attribute a : op.getMmaShape())
    mnk.push_back(cast<IntegerAttr>(a).getInt());
  if (mnk.size() != 3 || mnk[0] != 16 || mnk[1] != 8 ||
      (mnk[2] != 16 && mnk[2] != 8))
    return op.emitError("attn-bf16-mma-to-nvvm: bf16 mma.sync needs shape "
                        "16x8x16 or 16x8x8");
  if (!cType.getElementType().isF32() || cType.getNumElements() != 4)
    return op.emitError("attn-bf16-mma-to-nvvm: bf16 mma.sync needs f32 "
                        "accumulators");
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> a = packedRows(b, loc, op.getMatrixA());
  SmallVector<Value> bRegs = packedRows(b, loc, op.getMatrixB());
  SmallVector<Value> c;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t col = 0; col < 2; ++col)
      c.push_back(vector::ExtractOp::create(b, loc, op.getMatrixC(),
                                            ArrayRef<int64_t>{r, col}));
  Type f32 = b.getF32Type();
  auto resultType = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                     SmallVector<Type>(4, f32));
  auto mma = NVVM::MmaOp::create(
      b, loc, resultType, a, bRegs, c,
      ArrayRef<int64_t>{mnk[0], mnk[1], mnk[2]},
      /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> d;
  for (int64_t i = 0; i < 4; ++i)
    d.push_back(LLVM::ExtractValueOp::create(b, loc, mma, i));
  Value result = vector::FromElementsOp::create(b, loc, cType, d);
  op.getResult().replaceAllUsesWith(result);
  op.erase();
  return success();
}

namespace {

class Bf16MmaToNVVMPass final
    : public mlir::attn::impl::AttnBf16MmaToNVVMBase<Bf16MmaToNVVMPass> {
public:
  using AttnBf16MmaToNVVMBase::AttnBf16MmaToNVVMBase;

  void runOnOperation() override {
    SmallVector<nvgpu::MmaSyncOp> ops;
    getOperation()->walk([&](nvgpu::MmaSyncOp op) { ops.push_back(op); });
    for (nvgpu::MmaSyncOp op : ops)
      if (failed(attn::rewriteBf16MmaSync(op)))
        return signalPassFailure();
  }
};

} // namespace
