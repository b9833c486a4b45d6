//===- AttentionSpec.cpp - AttentionSpec as attn dialect text --*- C++ -*-===//
//
// The JIT's declarative spec printed as a func.func around one
// attn.attention, the text every compile path parses.
//
//===----------------------------------------------------------------------===//

#include "attn/JIT/Compiler.h"

#include "llvm/ADT/StringRef.h"

#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

using namespace mlir;
using llvm::StringRef;
using namespace mlir::attn::jit;

namespace {

const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  }
  return "f32";
}

// Not a size a spec can state (a negative one prints as itself, and the
// parser refuses it).
constexpr int64_t kDynamicDim = std::numeric_limits<int64_t>::min();

std::string tensorType(std::initializer_list<int64_t> dims, StringRef elt) {
  std::string s = "tensor<";
  for (int64_t d : dims)
    s += (d == kDynamicDim ? std::string("?") : std::to_string(d)) + "x";
  return s + elt.str() + ">";
}

} // namespace

std::string AttentionSpec::toMLIR() const {
  std::string elt = elementTypeName(elementType);
  // '?' for the sizes stated at run time.
  int64_t batch = dynamicSizes ? kDynamicDim : this->batch;
  int64_t seqQ = dynamicSizes ? kDynamicDim : this->seqQ;
  int64_t seqKV = dynamicSizes ? kDynamicDim : this->seqKV;
  std::string q = varlen ? tensorType({seqQ, numQHeads, headDimQK}, elt)
                         : tensorType({batch, numQHeads, seqQ, headDimQK}, elt);
  bool paged = pageSize > 0;
  // Paged: [numPages, pageSize, Hkv, D], or heads-major [numPages, Hkv,
  // pageSize, D].
  auto kvType = [&](int64_t depth) {
    if (varlen)
      return tensorType({seqKV, numKVHeads, depth}, elt);
    if (!paged)
      return tensorType({batch, numKVHeads, seqKV, depth}, elt);
    if (headsMajorPages)
      return tensorType({numPages, numKVHeads, pageSize, depth}, elt);
    return tensorType({numPages, pageSize, numKVHeads, depth}, elt);
  };
  std::string k = kvType(headDimQK);
  std::string v = kvType(headDimV);
  // The page table's pages hold the longest sequence (a static count).
  std::string pageTable, kvLengths;
  if (paged) {
    pageTable =
        tensorType({batch, (this->seqKV + pageSize - 1) / pageSize}, "i32");
    kvLengths = tensorType({batch}, "i32");
  }
  std::string o = varlen ? tensorType({seqQ, numQHeads, headDimV}, elt)
                         : tensorType({batch, numQHeads, seqQ, headDimV}, elt);
  std::string lse = varlen ? tensorType({seqQ, numQHeads}, "f32")
                           : tensorType({batch, numQHeads, seqQ}, "f32");
  // Packed sequences' offsets, B + 1 of them.
  std::string offsets =
      tensorType({batch == kDynamicDim ? kDynamicDim : batch + 1}, "i32");
  std::string biasType = tensorType({batch, numQHeads, seqQ, seqKV}, "f32");
  std::string qIds = tensorType({batch, seqQ}, "i32");
  std::string kvIds = tensorType({batch, seqKV}, "i32");

  // The block layout's counts and indices (sized by the lengths).
  bool layout = sparseBlockQ > 0 && sparseBlockKV > 0;
  auto blocks = [](int64_t n, int64_t block) {
    return n == kDynamicDim ? kDynamicDim : (n + block - 1) / block;
  };
  std::string counts, indices;
  if (layout) {
    counts = tensorType({batch, numQHeads, blocks(seqQ, sparseBlockQ)}, "i32");
    indices = tensorType({batch, numQHeads, blocks(seqQ, sparseBlockQ),
                          blocks(seqKV, sparseBlockKV)},
                         "i32");
  }

  std::ostringstream os;
  os << "func.func @attention(%q: " << q << ", %k: " << k << ", %v: " << v;
  if (hasBias)
    os << ", %bias: " << biasType;
  if (hasSegmentIds)
    os << ", %qids: " << qIds << ", %kvids: " << kvIds;
  if (layout)
    os << ", %kvn: " << counts << ", %kvx: " << indices;
  if (layout && fullBlocks)
    os << ", %fkvn: " << counts << ", %fkvx: " << indices;
  if (paged)
    os << ", %pages: " << pageTable << ", %kvlens: " << kvLengths;
  if (varlen)
    os << ", %cuq: " << offsets << ", %cuk: " << offsets;
  os << ") -> (" << o << (withLogsumexp ? ", " + lse : "") << ") {\n  ";
  os << (withLogsumexp ? "%o, %lse" : "%o") << " = attn.attention %q, %k, %v";
  if (hasBias)
    os << " bias(%bias : " << biasType << ")";
  if (hasSegmentIds)
    os << " segments(%qids, %kvids : " << qIds << ", " << kvIds << ")";
  if (layout)
    os << " block_sparse(%kvn, %kvx : " << counts << ", " << indices << ")";
  if (layout && fullBlocks)
    os << " full_blocks(%fkvn, %fkvx : " << counts << ", " << indices << ")";
  if (paged)
    os << " paged(%pages, %kvlens : " << pageTable << ", " << kvLengths << ")";
  if (varlen)
    os << " varlen(%cuq, %cuk : " << offsets << ", " << offsets << ")";
  std::vector<std::string> attrs;
  if (scale) {
    std::ostringstream s;
    s.precision(9);
    s << std::scientific << *scale;
    attrs.push_back("scale = " + s.str() + " : f32");
  }
  if (!mask.empty())
    attrs.push_back("mask = " + mask);
  if (!scoreMod.empty())
    attrs.push_back("score_mod = " + scoreMod);
  if (paged && headsMajorPages)
    attrs.push_back("kv_layout = \"hnd\"");
  if (layout)
    attrs.push_back(
        "sparse_block = array<i64: " + std::to_string(sparseBlockQ) + ", " +
        std::to_string(sparseBlockKV) + ">");
  if (!attrs.empty()) {
    os << " {";
    for (size_t i = 0; i < attrs.size(); ++i)
      os << (i ? ", " : "") << attrs[i];
    os << "}";
  }
  if (!maskModBody.empty())
    os << "\n    mask_mod {\n    ^bb0(%b: index, %h: index, %i: index, %j: "
          "index):\n"
       << maskModBody << "\n    }";
  if (!scoreModBody.empty())
    os << "\n    score_mod {\n    ^bb0(%s: f32, %b: index, %h: index, %i: "
          "index, %j: index):\n"
       << scoreModBody << "\n    }";
  os << "\n    : " << q << ", " << k << ", " << v << " -> " << o
     << (withLogsumexp ? ", " + lse : "") << "\n";
  os << "  return "
     << (withLogsumexp ? "%o, %lse : " + o + ", " + lse : "%o : " + o)
     << "\n}\n";
  return os.str();
}
