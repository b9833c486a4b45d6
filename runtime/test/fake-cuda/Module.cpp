//===- Module.cpp - The stand-in driver's modules: PTX and ptxas ----------===//
//
// The module side of fake-cuda's libcuda.so.1 (see Module.h): reading the
// `.entry` functions out of PTX text, assembling it with the real ptxas and
// reading its `-v` report, and filling the JIT log buffers. No driver
// state lives here; FakeCuda.cpp passes in what it needs (the chip's ptxas
// architecture).
//
//===----------------------------------------------------------------------===//

#include "Module.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef ATTN_FAKE_CUDA_DEFAULT_PTXAS
#define ATTN_FAKE_CUDA_DEFAULT_PTXAS ""
#endif

namespace attn_fake_cuda {

//===----------------------------------------------------------------------===//
// PTX: the entries' parameters and thread limits
//===----------------------------------------------------------------------===//

namespace {

std::string withoutComments(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "//") == 0) {
      while (i < text.size() && text[i] != '\n')
        ++i;
      out += '\n';
    } else if (text.compare(i, 2, "/*") == 0) {
      size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

bool isIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         c == '%' || c == '.';
}

size_t typeBytes(const std::string &type) {
  static const std::map<std::string, size_t> sizes = {
      {".b8", 1},  {".u8", 1},  {".s8", 1},  {".b16", 2},
      {".u16", 2}, {".s16", 2}, {".f16", 2}, {".b32", 4},
      {".u32", 4}, {".s32", 4}, {".f32", 4}, {".b64", 8},
      {".u64", 8}, {".s64", 8}, {".f64", 8}, {".b128", 16}};
  auto it = sizes.find(type);
  return it == sizes.end() ? 0 : it->second;
}

/// One parameter declaration: `.param .u64 .ptr .global .align 16 name`,
/// `.param .align 8 .b8 name[16]`.
Param parseParam(const std::string &text) {
  Param param;
  std::vector<std::string> words;
  std::string word;
  for (char c : text + " ") {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty())
        words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  size_t element = 0, count = 1;
  for (const std::string &w : words) {
    if (w == ".ptr")
      param.pointer = true;
    else if (size_t bytes = typeBytes(w))
      element = bytes;
    else if (size_t open = w.find('['); open != std::string::npos)
      count = std::strtoull(w.c_str() + open + 1, nullptr, 10);
  }
  param.bytes = element * count;
  return param;
}

int parseDims(const std::string &text, size_t &i) {
  int product = 1;
  for (;;) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i])))
      break;
    product *= static_cast<int>(std::strtol(text.c_str() + i, nullptr, 10));
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
      ++i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i < text.size() && text[i] == ',')
      ++i;
    else
      break;
  }
  return product;
}

} // namespace

std::map<std::string, Entry> parseEntries(const std::string &ptx,
                                          int &ptxVersion) {
  std::string text = withoutComments(ptx);
  std::map<std::string, Entry> entries;
  ptxVersion = 0;
  if (size_t v = text.find(".version"); v != std::string::npos) {
    char *end;
    long major = std::strtol(text.c_str() + v + 8, &end, 10);
    long minor = *end == '.' ? std::strtol(end + 1, nullptr, 10) : 0;
    ptxVersion = static_cast<int>(major * 10 + minor);
  }
  for (size_t at = text.find(".entry"); at != std::string::npos;
       at = text.find(".entry", at + 6)) {
    if ((at > 0 && isIdentifierChar(text[at - 1])) ||
        (at + 6 < text.size() && isIdentifierChar(text[at + 6])))
      continue;
    size_t i = at + 6;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    size_t nameStart = i;
    while (i < text.size() && isIdentifierChar(text[i]))
      ++i;
    std::string name = text.substr(nameStart, i - nameStart);
    Entry entry;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i < text.size() && text[i] == '(') {
      size_t close = text.find(')', i);
      if (close == std::string::npos)
        break;
      std::string list = text.substr(i + 1, close - i - 1);
      size_t start = 0;
      while (start <= list.size()) {
        size_t comma = list.find(',', start);
        std::string one =
            list.substr(start, comma == std::string::npos ? std::string::npos
                                                          : comma - start);
        if (one.find(".param") != std::string::npos)
          entry.params.push_back(parseParam(one));
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
      i = close + 1;
    }
    // Performance directives up to the body.
    size_t body = text.find_first_of("{;", i);
    if (body == std::string::npos || text[body] == ';')
      continue;
    std::string directives = text.substr(i, body - i);
    for (const char *directive : {".maxntid", ".reqntid"}) {
      size_t d = directives.find(directive);
      if (d == std::string::npos)
        continue;
      size_t pos = d + std::strlen(directive);
      entry.maxntid = parseDims(directives, pos);
      entry.reqntid = directive[1] == 'r';
    }
    entries[name] = entry;
  }
  return entries;
}

void readPtxasInfo(const std::string &log,
                   std::map<std::string, Entry> &entries) {
  Entry *entry = nullptr;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos)
      end = log.size();
    std::string line = log.substr(start, end - start);
    start = end + 1;
    if (size_t c = line.find("Compiling entry function '");
        c != std::string::npos) {
      size_t nameStart = c + std::strlen("Compiling entry function '");
      std::string name =
          line.substr(nameStart, line.find('\'', nameStart) - nameStart);
      auto it = entries.find(name);
      entry = it == entries.end() ? nullptr : &it->second;
      continue;
    }
    if (!entry)
      continue;
    if (size_t s = line.find(" bytes stack frame"); s != std::string::npos) {
      size_t n = line.find_last_not_of("0123456789", s - 1);
      entry->stackBytes = std::atoi(line.c_str() + n + 1);
    }
    if (size_t u = line.find("Used "); u != std::string::npos) {
      entry->registers = std::atoi(line.c_str() + u + 5);
      if (size_t s = line.find(" bytes smem"); s != std::string::npos) {
        size_t n = line.find_last_not_of("0123456789", s - 1);
        entry->staticShared = std::atoi(line.c_str() + n + 1);
      }
      entry = nullptr; // a function's figures end with this line
    }
  }
}

//===----------------------------------------------------------------------===//
// ptxas
//===----------------------------------------------------------------------===//

namespace {

std::string readFile(const std::string &path) {
  std::string text;
  if (FILE *f = std::fopen(path.c_str(), "rb")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0)
      text.append(buffer, n);
    std::fclose(f);
  }
  return text;
}

} // namespace

CUresult assemble(const std::string &ptx, const char *ptxasArch,
                  std::string &log) {
  const char *ptxas = std::getenv("ATTN_FAKE_CUDA_PTXAS");
  if (!ptxas || !*ptxas)
    ptxas =
        *ATTN_FAKE_CUDA_DEFAULT_PTXAS ? ATTN_FAKE_CUDA_DEFAULT_PTXAS : "ptxas";
  const char *tmp = std::getenv("TMPDIR");
  std::string dirTemplate =
      std::string(tmp && *tmp ? tmp : "/tmp") + "/attn-fake-cuda-XXXXXX";
  std::vector<char> dirName(dirTemplate.begin(), dirTemplate.end());
  dirName.push_back('\0');
  if (!mkdtemp(dirName.data())) {
    log = std::string("fake-cuda: cannot make a temporary directory ") +
          dirTemplate + ": " + std::strerror(errno);
    return CUDA_ERROR_OPERATING_SYSTEM;
  }
  std::string dir = dirName.data();
  std::string in = dir + "/module.ptx", out = dir + "/module.cubin",
              logPath = dir + "/ptxas.log";
  CUresult result = CUDA_SUCCESS;
  if (FILE *f = std::fopen(in.c_str(), "wb")) {
    bool written = std::fwrite(ptx.data(), 1, ptx.size(), f) == ptx.size();
    written &= std::fclose(f) == 0;
    if (!written) {
      log = "fake-cuda: cannot write " + in;
      result = CUDA_ERROR_OPERATING_SYSTEM;
    }
  } else {
    log = "fake-cuda: cannot create " + in;
    result = CUDA_ERROR_OPERATING_SYSTEM;
  }
  if (result == CUDA_SUCCESS) {
    std::string arch = std::string("-arch=") + ptxasArch;
    std::vector<std::string> args = {ptxas, arch, "-v", in, "-o", out};
    std::vector<char *> argv;
    for (std::string &a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid;
    int spawned =
        posix_spawnp(&pid, ptxas, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      log = std::string("fake-cuda: cannot run ptxas '") + ptxas +
            "': " + std::strerror(spawned) +
            " (set ATTN_FAKE_CUDA_PTXAS or put ptxas on PATH)";
      result = CUDA_ERROR_JIT_COMPILER_NOT_FOUND;
    } else {
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      log = readFile(logPath);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        result = CUDA_ERROR_INVALID_PTX;
    }
  }
  unlink(in.c_str());
  unlink(out.c_str());
  unlink(logPath.c_str());
  rmdir(dir.c_str());
  return result;
}

//===----------------------------------------------------------------------===//
// JIT logs
//===----------------------------------------------------------------------===//

void fillLog(const std::string &log, unsigned numOptions, CUjit_option *options,
             void **values, CUjit_option bufferOption,
             CUjit_option sizeOption) {
  char *buffer = nullptr;
  size_t size = 0;
  int sizeIndex = -1;
  for (unsigned i = 0; i < numOptions; ++i) {
    if (options[i] == bufferOption)
      buffer = static_cast<char *>(values[i]);
    if (options[i] == sizeOption) {
      size = reinterpret_cast<size_t>(values[i]);
      sizeIndex = static_cast<int>(i);
    }
  }
  if (!buffer || size == 0)
    return;
  size_t n = std::min(log.size(), size - 1);
  std::memcpy(buffer, log.data(), n);
  buffer[n] = '\0';
  values[sizeIndex] = reinterpret_cast<void *>(n + 1);
}

} // namespace attn_fake_cuda
