// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace fieldfs {

/// The error half of a Result: a std::errc, which is an errno value.
struct Error {
  std::errc code;
};

/// Makes an Error from an errno value or a std::errc.
inline Error fail(std::errc e) { return Error{e}; }
inline Error fail_errno(int e) { return Error{static_cast<std::errc>(e)}; }

/// A std::expected-shaped value-or-errc (std::expected is C++23; clang 14 cannot use it).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error e) : v_(e) {}                 // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  std::errc error() const { return std::get<1>(v_).code; }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation that yields nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : ok_(false), e_(e.code) {}  // NOLINT(google-explicit-constructor)
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  std::errc error() const { return e_; }

 private:
  bool ok_ = true;
  std::errc e_{};
};

/// The errno value behind an errc, for replies and messages.
inline int to_errno(std::errc e) { return static_cast<int>(e); }

/// "No such file or directory" for ENOENT: thread-safe, unlike strerror.
inline std::string errno_text(int e) {
  return std::error_code(e, std::generic_category()).message();
}

}  // namespace fieldfs
