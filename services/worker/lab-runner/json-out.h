// A JSON writer just big enough for one verdict line: objects, arrays, strings, numbers, booleans.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace lab {

class Json {
 public:
  Json& Open() { return Raw(Separator() + "{", true); }
  Json& Close() { return Raw("}", false); }
  Json& OpenArray() { return Raw(Separator() + "[", true); }
  Json& CloseArray() { return Raw("]", false); }
  Json& Key(const std::string& key) {
    text_ += Separator() + Quote(key) + ":";
    first_ = true;
    return *this;
  }
  Json& String(const std::string& value) { return Raw(Separator() + Quote(value), false); }
  Json& Number(long long value) { return Raw(Separator() + std::to_string(value), false); }
  Json& Bool(bool value) { return Raw(Separator() + (value ? "true" : "false"), false); }
  /** A value written by another Json. */
  Json& Value(const std::string& json) { return Raw(Separator() + json, false); }
  Json& Strings(const std::vector<std::string>& values) {
    OpenArray();
    for (const auto& v : values) String(v);
    return CloseArray();
  }
  const std::string& text() const { return text_; }

  static std::string Quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    return out + "\"";
  }

 private:
  // A comma before every value but the first of its container (or the one right after a key).
  std::string Separator() {
    bool first = first_;
    first_ = false;
    return first ? "" : ",";
  }
  Json& Raw(const std::string& s, bool opens) {
    text_ += s;
    first_ = opens;
    return *this;
  }
  std::string text_;
  bool first_ = true;
};

}  // namespace lab
