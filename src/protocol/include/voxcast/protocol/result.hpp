#pragma once
#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

namespace voxcast::protocol {

// A typed error for input that came from outside: `code` is the wire's error code
// (e.g. "state.invalid", "invalid_payload"), `message` is for people.
struct Error {
  std::string code;
  std::string message;
  nlohmann::json details = nlohmann::json::object();
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}       // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok() && "Result::value() on an error"); return std::get<0>(v_); }
  const T& value() const& { assert(ok() && "Result::value() on an error"); return std::get<0>(v_); }
  T&& value() && { assert(ok() && "Result::value() on an error"); return std::get<0>(std::move(v_)); }
  const Error& error() const { assert(!ok() && "Result::error() on a value"); return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

inline Error make_error(std::string code, std::string message, nlohmann::json details = nlohmann::json::object()) {
  return Error{std::move(code), std::move(message), std::move(details)};
}

}  // namespace voxcast::protocol
