//===- KernelEmitter.h - The warp-level FlashAttention-2 body ---*- C++ -*-===//
//
// What attn-tile-to-gpu writes in place of the attn.tile_* ops inside an
// outlined kernel (AttnToGPU.cpp outlines; this emits): cp.async staging
// of Q/K/V tiles into swizzled dynamic shared memory, ldmatrix fragments,
// mma.sync m16n8k16 for QK^T and PV, and the online softmax with its state
// in per-thread fragments (private arrays with constant indices, which
// LLVM promotes to registers). A warp owns one or two m16 slabs of query
// rows (GpuKernelConfig::slabs): with two, every K and V fragment it loads
// feeds two mma. K and V are single-buffered and pipelined as in
// FlashAttention-2: V(j) lands during QK^T(j), K(j+1) during softmax(j)
// and PV(j); two block barriers per kv tile.
//
// The fragment layouts, the ldmatrix.x4 loads and the swizzle, and the
// identities the index arithmetic below relies on, are stated (and tested
// against the PTX ISA) once, in attn/Conversion/AttnToGPU/FragmentLayouts.h.
//
// Internal to lib/Conversion/AttnToGPU.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELEMITTER_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELEMITTER_H

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/Conversion/AttnToGPU/FragmentLayouts.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mlir::attn::gpu_kernel {

/// Builds the warp-level code of one kernel.
class KernelEmitter {
public:
  KernelEmitter(gpu::GPUFuncOp kernel, Type elementType, int64_t headDimQK,
                int64_t headDimV, GpuKernelConfig config)
      : kernel(kernel), ctx(kernel.getContext()), elementType(elementType),
        dqk(headDimQK), dv(headDimV), tileQ(config.tileQ),
        tileKV(config.tileKV), threads(config.threads()), slabs(config.slabs()),
        qInRegisters(config.qInRegisters) {}

  /// Thread ids, shared-memory views and the private state, at the kernel
  /// entry.
  void emitPrologue(OpBuilder &b, Location loc);
  void emitInit(TileInitOp op, Value batch, Value qHead, Value qBegin,
                Value query);
  /// Expands `op`. A tile that may be full or partial (a `full` flag
  /// known only at run time) branches around the scoring alone: the
  /// copies, mma and softmax are emitted once.
  LogicalResult emitUpdate(TileUpdateOp op);
  /// The base-2 scores of this lane from the QK^T accumulators of every
  /// slab (slab-major, tileKV / 2 per slab), tested against the mask when
  /// `applyMask`; for an op with a deferredScale, the masked dot products
  /// (emitSoftmax applies the factor).
  FailureOr<SmallVector<Value>> emitScores(OpBuilder &b, Location loc,
                                           TileUpdateOp op,
                                           ArrayRef<SmallVector<Value>> s,
                                           bool applyMask);
  void emitFinalize(TileFinalizeOp op);

  /// How the tile the next iteration of an update's kv loop updates is
  /// computed (none: it is not known, and each tile copies its own K):
  /// the loop, and the conditions of the scf.if ops between the loop body
  /// and the update (true: the update is in the then region).
  struct NextTilePlan {
    scf::ForOp loop;
    SmallVector<std::pair<Value, bool>> guards;
    /// Whether the K tile in shared memory is tracked (loadedK): when an
    /// iteration may skip the update (guards) or holds other updates.
    /// Otherwise the first iteration copies its K and every other finds
    /// it prefetched.
    bool tracked = false;
  };

  /// The steps of emitUpdate.
  /// Makes K(j) land: copies it unless the previous tile prefetched it
  /// (by `plan`), waits, and passes the barrier after which V's buffer is
  /// free (every warp is past PV(j-1)); then issues V(j) and returns its
  /// group.
  Value emitKVCopies(OpBuilder &b, Location loc, TileUpdateOp op,
                     const std::optional<NextTilePlan> &plan);
  /// After the barrier that frees K's buffer: K of the tile the next
  /// iteration of op's kv loop updates, when `plan` knows it and the tile
  /// is visited.
  void emitPrefetchNextK(OpBuilder &b, Location loc, TileUpdateOp op,
                         const std::optional<NextTilePlan> &plan);
  /// QK^T of this warp's rows: per slab, tileKV / 8 accumulator tiles.
  SmallVector<SmallVector<Value>> emitQK(OpBuilder &b, Location loc);
  /// The scores of the tile, branching on its run-time full flag.
  FailureOr<SmallVector<Value>> emitTileScores(OpBuilder &b, Location loc,
                                               TileUpdateOp op,
                                               ArrayRef<SmallVector<Value>> s);
  /// The online-softmax step: P = exp2(t - m_new) per accumulator tile,
  /// the updated row state, and the accumulator rescaled by
  /// exp2(m_old - m_new). With `scale` (deferredScale), `scores` are dot
  /// products: the row maximum is taken on them and scaled once per row,
  /// and each exponent's argument is one fma(dot, scale, -m_new).
  /// P in the input type as the A fragments of PV (one per k16 step:
  /// converted as soon as it is computed, half the registers of f32), and
  /// the rescaled accumulator.
  struct TileProbabilities {
    SmallVector<Value> a;
    SmallVector<Value> acc;
  };
  TileProbabilities emitSoftmax(OpBuilder &b, Location loc, int64_t slab,
                                ArrayRef<Value> scores,
                                std::optional<double> scale);
  /// acc += P V of every slab (V has landed); stores the state.
  void emitPV(OpBuilder &b, Location loc,
              ArrayRef<TileProbabilities> probabilities);

  int64_t sharedBytes() const {
    return (tileQ * dqk + tileKV * dqk + tileKV * dv) * 2;
  }

private:
  // Small builders.
  /// Index constants are made once, at the kernel entry.
  Value idx(OpBuilder &b, Location loc, int64_t v);
  Value add(OpBuilder &b, Location loc, Value x, Value y) {
    return arith::AddIOp::create(b, loc, x, y);
  }
  Value addC(OpBuilder &b, Location loc, Value x, int64_t c) {
    return c ? add(b, loc, x, idx(b, loc, c)) : x;
  }
  Value mulC(OpBuilder &b, Location loc, Value x, int64_t c) {
    return arith::MulIOp::create(b, loc, x, idx(b, loc, c));
  }
  Value divC(OpBuilder &b, Location loc, Value x, int64_t c) {
    return arith::DivUIOp::create(b, loc, x, idx(b, loc, c));
  }
  Value remC(OpBuilder &b, Location loc, Value x, int64_t c) {
    return arith::RemUIOp::create(b, loc, x, idx(b, loc, c));
  }
  VectorType fragType(int64_t rows) {
    return VectorType::get({rows, 2}, elementType);
  }
  VectorType accType() {
    return VectorType::get({2, 2}, Float32Type::get(ctx));
  }

  /// layout::swizzledOffset(row, chunk, d) built from index ops: shared
  /// tiles are row-major [rows][d] with chunk c of row r at c ^ (r % 8).
  Value swizzledOffset(OpBuilder &b, Location loc, Value row, Value chunk,
                       int64_t d);

  /// How one lane addresses a tile for one kind of ldmatrix.x4 load
  /// (layout::X4Use): it gives the row `rowLane + 16 i` and the chunk
  /// `laneChunk + 2 j` of region (i, j), laneChunk < 2. `base` is its
  /// swizzled offset in region (0, 0), computed once at the kernel entry;
  /// layout::x4RegionStep gives the others from it.
  struct FragmentAccess {
    Value smem;
    int64_t d = 0;
    bool transpose = false;
    Value base;
  };
  FragmentAccess fragmentAccess(OpBuilder &b, Location loc, Value smem,
                                int64_t d, const layout::X4Use &use,
                                Value rowLane, Value laneChunk);
  /// ldmatrix.x4 of region (i, j) (rows 16i.., chunks 2j..).
  Value ldmatrix(OpBuilder &b, Location loc, const FragmentAccess &access,
                 int64_t i, int64_t j);

  /// How this thread stages a [rows][d] tile. In the linear case
  /// (`shared` set), `perRow` threads share a row, the thread owning chunk
  /// `chunk + perRow g` of it for every g < d / 8 / perRow, in rows
  /// `row + rowStep i` for i < rows / rowStep: with perRow a multiple of
  /// the swizzle's width (layout::swizzleChunks) and rowStep of its
  /// period, every chunk's shared and global offsets are the thread's
  /// first plus a constant (one address register and immediates), as
  /// FlashAttention-2's copies of 64-element panels. Otherwise chunk
  /// `tid + threads i` of the tile, each addressed on its own.
  struct TileCopy {
    int64_t rows = 0, d = 0, perRow = 0, rowStep = 0;
    Value smem;
    Value row, col; // lane row and element column (linear case)
    Value shared;   // lane's shared offset (linear case)
  };
  TileCopy tileCopy(OpBuilder &b, Location loc, Value smem, int64_t rows,
                    int64_t d);
  /// Issues the cp.async copies of rows [row0, row0 + copy.rows) of
  /// memref[batch, head, :, :] into the tile; rows at or past the sequence
  /// end are zero-filled. Commits one group and returns its token.
  Value copyTile(OpBuilder &b, Location loc, const TileCopy &copy, Value global,
                 Value batch, Value head, Value row0);
  /// The two B fragments (vector<2x2xT>) in an ldmatrix.x4 result
  /// (layout::x4Destination).
  std::pair<Value, Value> splitB(OpBuilder &b, Location loc, Value x4);
  Value mma(OpBuilder &b, Location loc, Value a, Value bFrag, Value c) {
    return nvgpu::MmaSyncOp::create(b, loc, a, bFrag, c,
                                    b.getI64ArrayAttr({16, 8, 16}));
  }
  Value shuffleXor(OpBuilder &b, Location loc, Value v, int32_t offset) {
    Value off = arith::ConstantIntOp::create(b, loc, offset, 32);
    Value width = arith::ConstantIntOp::create(b, loc, 32, 32);
    return gpu::ShuffleOp::create(b, loc, v, off, width, gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }
  Value loadState(OpBuilder &b, Location loc, Value mem, ArrayRef<int64_t> at) {
    SmallVector<Value> indices;
    for (int64_t i : at)
      indices.push_back(idx(b, loc, i));
    return memref::LoadOp::create(b, loc, mem, indices);
  }
  void storeState(OpBuilder &b, Location loc, Value v, Value mem,
                  ArrayRef<int64_t> at) {
    SmallVector<Value> indices;
    for (int64_t i : at)
      indices.push_back(idx(b, loc, i));
    memref::StoreOp::create(b, loc, v, mem, indices);
  }
  /// The query row (from qBegin) of accumulator row slot r
  /// (layout::accRowSlot) of this lane in slab `slab`.
  Value laneRow(OpBuilder &b, Location loc, Value qBegin, int64_t slab,
                int64_t r) {
    return addC(b, loc, add(b, loc, qBegin, add(b, loc, warpRow, g)),
                layout::kMmaRows * slab + layout::accSlotRow(r));
  }
  /// Waits for every cp.async group of this thread and passes a block
  /// barrier: what one thread copied is then visible to all.
  void waitAllAndSync(OpBuilder &b, Location loc) {
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
    gpu::BarrierOp::create(b, loc);
  }

  gpu::GPUFuncOp kernel;
  MLIRContext *ctx;
  Type elementType;
  int64_t dqk, dv;
  int64_t tileQ, tileKV, threads, slabs;
  bool qInRegisters;
  /// With qInRegisters: Q's A fragments per slab and k16 step, loaded at
  /// tile_init.
  SmallVector<SmallVector<Value>> queryFragments;
  DenseMap<int64_t, Value> constants;
  Value tid, warpRow, lane, g, t4;
  Value sharedQ, sharedK, sharedV; // 1-D views of [rows][d] tiles
  FragmentAccess fragQ, fragK, fragV;
  TileCopy copyQ, copyK, copyV;
  // Private: [slabs * 2] (slab, row slot), the same, and
  // [slabs * dv / 8, 4] (slab, value tile; element).
  Value rowMax, rowSum, acc;
  /// The kv_begin of the K tile in shared memory or in flight (private,
  /// [1]; -1 before the first).
  Value loadedK;
};

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_KERNELEMITTER_H
