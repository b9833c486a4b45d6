# lit configuration of attn's regression tests: attn-opt, FileCheck and
# friends from LLVM 22, one test per .mlir file.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "attn"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "test")

config.substitutions.append(("%attn_src_root", config.attn_src_root))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%mlir_include", config.mlir_include_dir))
config.substitutions.append(("%attn_bin_dir", config.attn_tools_dir))

llvm_config.use_default_substitutions()
llvm_config.with_system_environment(["ASAN_OPTIONS", "UBSAN_OPTIONS"])
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["attn-opt", "attn-run", "attn-ptx"],
                                   [config.attn_tools_dir])
