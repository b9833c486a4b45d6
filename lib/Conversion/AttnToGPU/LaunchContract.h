//===- LaunchContract.h - Building #attn.launch_contract --------*- C++ -*-===//
//
// What attn-tile-to-gpu records while it outlines the kernels of one host
// function: the roles of the function's buffers (read from its tile ops),
// each kernel's typed parameters and grid (a function of the run-time
// sizes), and the temporaries. Internal to lib/Conversion/AttnToGPU.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOGPU_LAUNCHCONTRACT_H
#define ATTN_LIB_CONVERSION_ATTNTOGPU_LAUNCHCONTRACT_H

#include "attn/Conversion/AttnToGPU/AttnToGPU.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::attn::gpu_kernel {

class ContractBuilder {
public:
  /// The roles of `func`'s arguments and results, from its tile ops:
  /// query, key, value, bias and segment ids from the tile updates, output
  /// and lse from the finalizers; the other tensor arguments are the
  /// captures, numbered in argument order. Fails (with a diagnostic) when
  /// the function has no tile update.
  static FailureOr<ContractBuilder> forFunction(func::FuncOp func);

  func::FuncOp getFunction() const { return func; }
  /// The tile shape and the static sizes [batch, heads, seq_q, seq_kv] of
  /// the function's attention.
  GpuKernelConfig getTiles() const { return tiles; }
  ArrayRef<int64_t> getSizes() const { return sizes; }

  /// The parameter a kernel takes for the host value `v`: a host argument
  /// or result by role, or a new temporary for a static host allocation
  /// that is neither. Null when `v` is none of these.
  KernelParamAttr paramOf(Value v);

  /// Grids as functions of the sizes [batch, heads, seq_q, seq_kv]: the
  /// attention's (query tiles, heads, batch), and one block of `threads`
  /// per (batch, head, q tile, kv tile) for a tile table.
  AffineMap attentionGrid() const;
  AffineMap tileTableGrid(int64_t threads) const;

  void addKernel(KernelLaunchAttr kernel) { kernels.push_back(kernel); }
  /// The contract; fails with a diagnostic at the function when it does
  /// not verify.
  FailureOr<LaunchContractAttr> build() const;

private:
  explicit ContractBuilder(func::FuncOp func) : func(func) {}

  mutable func::FuncOp func;
  GpuKernelConfig tiles;
  SmallVector<int64_t, 4> sizes;
  SmallVector<KernelParamAttr> argRoles, resultRoles;
  SmallVector<KernelLaunchAttr> kernels;
  SmallVector<TemporaryAttr> temporaries;
  DenseMap<Value, unsigned> temporaryOf;
};

} // namespace mlir::attn::gpu_kernel

#endif // ATTN_LIB_CONVERSION_ATTNTOGPU_LAUNCHCONTRACT_H
