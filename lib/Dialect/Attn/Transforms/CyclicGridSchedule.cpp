//===- CyclicGridSchedule.cpp - q tiles dealt to threads in turn ----------===//
//
// attn-cyclic-grid-schedule (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCYCLICGRIDSCHEDULE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

class CyclicGridSchedulePass final
    : public mlir::attn::impl::AttnCyclicGridScheduleBase<
          CyclicGridSchedulePass> {
public:
  void runOnOperation() override {
    getOperation()->walk([](omp::WsloopOp loop) {
      OpBuilder b(loop);
      Value one = arith::ConstantIntOp::create(b, loop.getLoc(), 1, 32);
      loop.setScheduleKind(omp::ClauseScheduleKind::Static);
      loop.getScheduleChunkMutable().assign(one);
    });
  }
};

} // namespace
