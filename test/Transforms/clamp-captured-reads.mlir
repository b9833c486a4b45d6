// RUN: attn-opt %s --attn-tile="tile-q=16 tile-kv=16" --attn-clamp-captured-reads | FileCheck %s
// RUN: attn-opt %s --attn-to-host | FileCheck %s --check-prefix=HOST

// A score_mod region reads a captured table at an index it computes
// (j + 100, past the table's 64 entries for most j): every index of the
// read is clamped into [0, 63] before it, so the host never reads outside
// the tensor.
// CHECK-LABEL: func.func @out_of_bounds_index
// CHECK:       %[[LAST:.+]] = arith.constant 63 : index
// CHECK-NEXT:  %[[LOW:.+]] = arith.maxsi %{{.+}}, %[[ZERO:c0(_[0-9]+)?]] : index
// CHECK-NEXT:  %[[IDX:.+]] = arith.minsi %[[LOW]], %[[LAST]] : index
// CHECK-NEXT:  tensor.extract %{{.+}}[%[[IDX]]] : tensor<64xf32>

// The host pipeline runs it: the load that reads the table is bounded.
// HOST-LABEL: llvm.func @out_of_bounds_index
// HOST:       %[[GT:.+]] = llvm.icmp "sgt" %[[AT:.+]], %[[Z:.+]] : i64
// HOST-NEXT:  %[[LOW:.+]] = llvm.select %[[GT]], %[[AT]], %[[Z]] : i1, i64
// HOST-NEXT:  %[[LT:.+]] = llvm.icmp "slt" %[[LOW]], %[[L:.+]] : i64
// HOST-NEXT:  %[[IDX:.+]] = llvm.select %[[LT]], %[[LOW]], %[[L]] : i1, i64
// HOST:       %[[AT:.+]] = llvm.getelementptr {{.*}}[%[[IDX]]]
// HOST-NEXT:  llvm.load %[[AT]]
func.func @out_of_bounds_index(%q: tensor<1x2x64x16xf32>, %k: tensor<1x2x64x16xf32>,
                               %v: tensor<1x2x64x16xf32>, %t: tensor<64xf32>)
    -> tensor<1x2x64x16xf32> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<64xf32>)
      score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %table: tensor<64xf32>):
      %c100 = arith.constant 100 : index
      %at = arith.addi %j, %c100 : index
      %x = tensor.extract %table[%at] : tensor<64xf32>
      %r = arith.addf %s, %x : f32
      attn.yield %r : f32
    }
      : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>
      -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}
