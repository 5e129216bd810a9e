#pragma once
// Errors as values. A Status carries a code a caller can branch on and a message a user can act
// on ("what and where"); Result<T> is std::expected<T, Status>. Exceptions are allowed only at
// start-up (config loading) and never cross a data-path boundary.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace resonance {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong (bad packet, bad query, bad config)
  kNotFound,           // a named thing does not exist
  kAlreadyExists,
  kOutOfRange,
  kFailedPrecondition, // state forbids it now (e.g. store is read-only)
  kResourceExhausted,  // a bound was hit: retry later
  kUnavailable,        // a peer or resource is temporarily unreachable
  kCorruption,         // stored bytes failed a checksum or a structural check
  kIoError,            // the OS refused (errno in the message)
  kInternal,           // a bug: an invariant did not hold
};

std::string_view to_string(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: message" — what logs and API error bodies show.
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
using Result = std::expected<T, Status>;

// Shorthands that read well at a return site: `return error(StatusCode::kNotFound, "...");`
inline std::unexpected<Status> error(StatusCode code, std::string message) {
  return std::unexpected<Status>(Status(code, std::move(message)));
}
inline std::unexpected<Status> error(Status status) {
  return std::unexpected<Status>(std::move(status));
}

}  // namespace resonance
