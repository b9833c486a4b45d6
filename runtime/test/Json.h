//===- Json.h - The minimal JSON reader of LaunchTest -----------*- C++ -*-===//
//
// Reads the launch contract that attn-ptx writes beside each PTX file
// (X.json): objects, arrays, strings, integers, booleans and null, which
// is all a contract holds. Header-only and standalone like the rest of the
// runtime's tests: no MLIR or LLVM include.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_TEST_JSON_H
#define ATTN_RUNTIME_TEST_JSON_H

#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace attn_test {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  long long number = 0;
  std::string string;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json *get(const std::string &key) const {
    for (const auto &[k, v] : members)
      if (k == key)
        return &v;
    return nullptr;
  }
};

class JsonReader {
public:
  explicit JsonReader(const std::string &text) : text(text) {}

  bool read(Json &out) {
    if (!value(out))
      return false;
    space();
    return at == text.size();
  }

private:
  void space() {
    while (at < text.size() && std::strchr(" \t\r\n", text[at]))
      ++at;
  }

  bool literal(const char *word) {
    size_t n = std::strlen(word);
    if (text.compare(at, n, word) != 0)
      return false;
    at += n;
    return true;
  }

  bool string(std::string &out) {
    if (at >= text.size() || text[at] != '"')
      return false;
    for (++at; at < text.size() && text[at] != '"'; ++at) {
      if (text[at] == '\\' && ++at < text.size())
        out += text[at] == 'n' ? '\n' : text[at]; // names need no more
      else
        out += text[at];
    }
    return at++ < text.size();
  }

  /// After an item of an object or array: true when a comma follows (the
  /// list goes on); else false, with `ok` saying whether `close` ends it.
  bool more(char close, bool &ok) {
    space();
    if (at < text.size() && text[at] == ',') {
      ++at;
      return true;
    }
    ok = at < text.size() && text[at++] == close;
    return false;
  }

  bool value(Json &out) {
    space();
    if (at >= text.size())
      return false;
    char c = text[at];
    if (c == '{') {
      out.kind = Json::Object;
      ++at;
      space();
      if (at < text.size() && text[at] == '}')
        return ++at, true;
      for (;;) {
        std::string key;
        Json v;
        space();
        if (!string(key))
          return false;
        space();
        if (at >= text.size() || text[at++] != ':' || !value(v))
          return false;
        out.members.emplace_back(std::move(key), std::move(v));
        if (bool ok; !more('}', ok))
          return ok;
      }
    }
    if (c == '[') {
      out.kind = Json::Array;
      ++at;
      space();
      if (at < text.size() && text[at] == ']')
        return ++at, true;
      for (;;) {
        Json v;
        if (!value(v))
          return false;
        out.items.push_back(std::move(v));
        if (bool ok; !more(']', ok))
          return ok;
      }
    }
    if (c == '"') {
      out.kind = Json::String;
      return string(out.string);
    }
    if (literal("true") || literal("false")) {
      out.kind = Json::Bool;
      out.number = text[at - 1] == 'e' && text[at - 2] == 'u';
      return true;
    }
    if (literal("null"))
      return true;
    char *end;
    out.kind = Json::Number;
    out.number = std::strtoll(text.c_str() + at, &end, 10);
    if (end == text.c_str() + at)
      return false;
    at = static_cast<size_t>(end - text.c_str());
    return true;
  }

  const std::string &text;
  size_t at = 0;
};

} // namespace attn_test

#endif // ATTN_RUNTIME_TEST_JSON_H
