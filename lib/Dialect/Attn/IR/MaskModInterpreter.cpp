//===- MaskModInterpreter.cpp - Evaluate mask_mod regions ------*- C++ -*-===//
//
// A mask_mod region that only does integer arithmetic on (b, h, i, j) can be
// evaluated at compile time on the tile grid, so its empty tiles are skipped
// like those of a built-in pattern (FlexAttention's create_block_mask does
// the same by running the Python function). This file compiles such a
// region into a flat register program and wraps it as a mask predicate.
// Regions that read captured tensors are not interpreted: their tiles are
// classified at run time.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

namespace {

enum class Opcode : uint8_t {
  Const,
  Add,
  Sub,
  Mul,
  DivS,
  DivU,
  RemS,
  RemU,
  FloorDivS,
  CeilDivS,
  CeilDivU,
  And,
  Or,
  Xor,
  Shl,
  ShrS,
  ShrU,
  MaxS,
  MinS,
  MaxU,
  MinU,
  Cmp,
  Select,
  Cast,
};

/// One instruction: dst = op(a, b, c). Every value is held as an int64_t
/// normalised to its bit width by sign extension (so i1 true is -1).
struct Instr {
  Opcode opcode;
  unsigned width;        // width of the result
  unsigned operandWidth; // width of the operands (Cmp, unsigned ops)
  int dst, a = -1, b = -1, c = -1;
  int64_t imm = 0;
  arith::CmpIPredicate pred = arith::CmpIPredicate::eq;
  bool signExtend = true; // Cast: sign- or zero-extend the source
};

struct Program {
  std::vector<Instr> instrs;
  int numRegisters = 0;
  int result = -1;
};

unsigned widthOf(Type type) {
  if (type.isIndex())
    return 64;
  return type.getIntOrFloatBitWidth();
}

int64_t normalize(int64_t v, unsigned width) {
  if (width >= 64)
    return v;
  uint64_t mask = (uint64_t{1} << width) - 1;
  uint64_t bits = static_cast<uint64_t>(v) & mask;
  uint64_t sign = uint64_t{1} << (width - 1);
  return static_cast<int64_t>((bits ^ sign) - sign);
}

uint64_t asUnsigned(int64_t v, unsigned width) {
  if (width >= 64)
    return static_cast<uint64_t>(v);
  return static_cast<uint64_t>(v) & ((uint64_t{1} << width) - 1);
}

// Wrapping arithmetic without signed-overflow UB.
int64_t wrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}
int64_t wrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) -
                              static_cast<uint64_t>(b));
}
int64_t wrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) *
                              static_cast<uint64_t>(b));
}

/// Division as attn defines it where MLIR does not (see attn.attention's
/// description; applyRegionSemantics gives the lowered ops the same
/// meaning): x / 0 = 0, x % 0 = x, and INT_MIN / -1 wraps to INT_MIN with
/// INT_MIN % -1 = 0. (Operands are sign-extended to 64 bits, so the wrap
/// of a narrower type comes out of the normalisation to its width.)
int64_t safeDivS(int64_t a, int64_t b) {
  if (b == 0)
    return 0;
  if (b == -1)
    return wrapSub(0, a);
  return a / b;
}
int64_t safeRemS(int64_t a, int64_t b) {
  if (b == 0)
    return a;
  if (b == -1)
    return 0;
  return a % b;
}

bool compare(arith::CmpIPredicate pred, int64_t a, int64_t b, unsigned w) {
  uint64_t ua = asUnsigned(a, w), ub = asUnsigned(b, w);
  switch (pred) {
  case arith::CmpIPredicate::eq:
    return a == b;
  case arith::CmpIPredicate::ne:
    return a != b;
  case arith::CmpIPredicate::slt:
    return a < b;
  case arith::CmpIPredicate::sle:
    return a <= b;
  case arith::CmpIPredicate::sgt:
    return a > b;
  case arith::CmpIPredicate::sge:
    return a >= b;
  case arith::CmpIPredicate::ult:
    return ua < ub;
  case arith::CmpIPredicate::ule:
    return ua <= ub;
  case arith::CmpIPredicate::ugt:
    return ua > ub;
  case arith::CmpIPredicate::uge:
    return ua >= ub;
  }
  return false;
}

int64_t execute(const Instr &in, const std::vector<int64_t> &r) {
  int64_t a = in.a >= 0 ? r[in.a] : 0, b = in.b >= 0 ? r[in.b] : 0;
  unsigned w = in.operandWidth;
  uint64_t ua = asUnsigned(a, w), ub = asUnsigned(b, w);
  switch (in.opcode) {
  case Opcode::Const:
    return in.imm;
  case Opcode::Add:
    return wrapAdd(a, b);
  case Opcode::Sub:
    return wrapSub(a, b);
  case Opcode::Mul:
    return wrapMul(a, b);
  case Opcode::DivS:
    return safeDivS(a, b);
  case Opcode::DivU:
    return ub == 0 ? 0 : static_cast<int64_t>(ua / ub);
  case Opcode::RemS:
    return safeRemS(a, b);
  case Opcode::RemU:
    return ub == 0 ? a : static_cast<int64_t>(ua % ub);
  case Opcode::FloorDivS: {
    int64_t q = safeDivS(a, b);
    return (b != 0 && safeRemS(a, b) != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
  }
  case Opcode::CeilDivS: {
    int64_t q = safeDivS(a, b);
    return (b != 0 && safeRemS(a, b) != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
  }
  case Opcode::CeilDivU:
    return ub == 0 ? 0 : static_cast<int64_t>(ua / ub + (ua % ub != 0));
  case Opcode::And:
    return a & b;
  case Opcode::Or:
    return a | b;
  case Opcode::Xor:
    return a ^ b;
  case Opcode::Shl:
    return ub >= w ? 0 : static_cast<int64_t>(static_cast<uint64_t>(a) << ub);
  case Opcode::ShrS:
    return ub >= w ? (a < 0 ? -1 : 0) : a >> ub;
  case Opcode::ShrU:
    return ub >= w ? 0 : static_cast<int64_t>(ua >> ub);
  case Opcode::MaxS:
    return std::max(a, b);
  case Opcode::MinS:
    return std::min(a, b);
  case Opcode::MaxU:
    return static_cast<int64_t>(std::max(ua, ub));
  case Opcode::MinU:
    return static_cast<int64_t>(std::min(ua, ub));
  case Opcode::Cmp:
    return compare(in.pred, a, b, w) ? 1 : 0;
  case Opcode::Select:
    return r[in.a] ? r[in.b] : r[in.c];
  case Opcode::Cast:
    return in.signExtend ? a : static_cast<int64_t>(asUnsigned(a, w));
  }
  return 0;
}

class RegionCompiler {
public:
  FailureOr<Program> compile(Region &region) {
    Block &block = region.front();
    if (block.getNumArguments() < 4)
      return failure();
    for (unsigned i = 0; i < 4; ++i)
      registers[block.getArgument(i)] = program.numRegisters++;
    for (Operation &op : block.without_terminator())
      if (failed(compileOp(op)))
        return failure();
    auto yield = dyn_cast<YieldOp>(block.getTerminator());
    if (!yield || yield.getValues().size() != 1)
      return failure();
    auto it = registers.find(yield.getValues().front());
    if (it == registers.end())
      return failure();
    program.result = it->second;
    return std::move(program);
  }

private:
  /// The register of `v`; fails for values the program cannot hold (block
  /// arguments beyond (b, h, i, j), i.e. captured tensors).
  FailureOr<int> reg(Value v) {
    auto it = registers.find(v);
    if (it == registers.end())
      return failure();
    return it->second;
  }

  /// Types the program holds exactly in an int64_t; wider integers are
  /// not interpreted (the region is then classified at run time).
  static bool isIntLike(Type type) {
    return type.isIndex() ||
           (type.isSignlessInteger() && type.getIntOrFloatBitWidth() <= 64);
  }

  LogicalResult compileOp(Operation &op) {
    if (op.getNumResults() != 1 || !isIntLike(op.getResult(0).getType()) ||
        op.getNumRegions() != 0)
      return failure();
    Instr in;
    in.width = widthOf(op.getResult(0).getType());
    in.operandWidth =
        op.getNumOperands()
            ? widthOf(op.getOperand(op.getNumOperands() - 1).getType())
            : in.width;
    for (Value operand : op.getOperands())
      if (!isIntLike(operand.getType()))
        return failure();
    SmallVector<int, 3> srcs;
    for (Value operand : op.getOperands()) {
      FailureOr<int> r = reg(operand);
      if (failed(r))
        return failure();
      srcs.push_back(*r);
    }
    if (!srcs.empty())
      in.a = srcs[0];
    if (srcs.size() > 1)
      in.b = srcs[1];
    if (srcs.size() > 2)
      in.c = srcs[2];

    std::optional<Opcode> opcode =
        llvm::TypeSwitch<Operation *, std::optional<Opcode>>(&op)
            .Case([&](arith::ConstantOp c) -> std::optional<Opcode> {
              auto attr = dyn_cast<IntegerAttr>(c.getValue());
              if (!attr)
                return std::nullopt;
              in.imm = normalize(attr.getValue().getSExtValue(), in.width);
              return Opcode::Const;
            })
            .Case([](arith::AddIOp) { return Opcode::Add; })
            .Case([](arith::SubIOp) { return Opcode::Sub; })
            .Case([](arith::MulIOp) { return Opcode::Mul; })
            .Case([](arith::DivSIOp) { return Opcode::DivS; })
            .Case([](arith::DivUIOp) { return Opcode::DivU; })
            .Case([](arith::RemSIOp) { return Opcode::RemS; })
            .Case([](arith::RemUIOp) { return Opcode::RemU; })
            .Case([](arith::FloorDivSIOp) { return Opcode::FloorDivS; })
            .Case([](arith::CeilDivSIOp) { return Opcode::CeilDivS; })
            .Case([](arith::CeilDivUIOp) { return Opcode::CeilDivU; })
            .Case([](arith::AndIOp) { return Opcode::And; })
            .Case([](arith::OrIOp) { return Opcode::Or; })
            .Case([](arith::XOrIOp) { return Opcode::Xor; })
            .Case([](arith::ShLIOp) { return Opcode::Shl; })
            .Case([](arith::ShRSIOp) { return Opcode::ShrS; })
            .Case([](arith::ShRUIOp) { return Opcode::ShrU; })
            .Case([](arith::MaxSIOp) { return Opcode::MaxS; })
            .Case([](arith::MinSIOp) { return Opcode::MinS; })
            .Case([](arith::MaxUIOp) { return Opcode::MaxU; })
            .Case([](arith::MinUIOp) { return Opcode::MinU; })
            .Case([&](arith::CmpIOp cmp) {
              in.pred = cmp.getPredicate();
              return Opcode::Cmp;
            })
            .Case([](arith::SelectOp) { return Opcode::Select; })
            .Case([&](arith::IndexCastOp) { return Opcode::Cast; })
            .Case([&](arith::ExtSIOp) { return Opcode::Cast; })
            .Case([&](arith::TruncIOp) { return Opcode::Cast; })
            .Case([&](arith::IndexCastUIOp) {
              in.signExtend = false;
              return Opcode::Cast;
            })
            .Case([&](arith::ExtUIOp) {
              in.signExtend = false;
              return Opcode::Cast;
            })
            .Default([](Operation *) { return std::nullopt; });
    if (!opcode)
      return failure();
    in.opcode = *opcode;
    in.dst = program.numRegisters++;
    registers[op.getResult(0)] = in.dst;
    program.instrs.push_back(in);
    return success();
  }

  Program program;
  llvm::DenseMap<Value, int> registers;
};

} // namespace

FailureOr<::mlir::attn::mask::Predicate>
mlir::attn::interpretMaskModRegion(Region &region) {
  if (region.empty())
    return failure();
  FailureOr<Program> compiled = RegionCompiler().compile(region);
  if (failed(compiled))
    return failure();
  auto program = std::make_shared<const Program>(std::move(*compiled));
  return ::mlir::attn::mask::Predicate(
      [program](int64_t b, int64_t h, int64_t i, int64_t j) {
        std::vector<int64_t> r(program->numRegisters);
        r[0] = b;
        r[1] = h;
        r[2] = i;
        r[3] = j;
        for (const Instr &in : program->instrs)
          r[in.dst] = normalize(execute(in, r), in.width);
        return r[program->result] != 0;
      });
}
