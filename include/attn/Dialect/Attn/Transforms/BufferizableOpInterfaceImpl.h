//===- BufferizableOpInterfaceImpl.h - Bufferizing the tile ops -*- C++ -*-===//
//
// BufferizableOpInterface for attn.tile_init, attn.tile_update and
// attn.tile_finalize, so that one-shot bufferization turns the tensor form
// attn-tile emits into the memref form the back ends expand.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;

namespace attn {
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
