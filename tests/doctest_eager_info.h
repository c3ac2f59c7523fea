// tests/doctest_eager_info.h — INFO and CAPTURE without a lambda, for clang
// before 16 (tests/CMakeLists.txt force-includes it into the test sources
// there; GCC builds do not use it).
//
// doctest's INFO(...) (and CAPTURE, CHECK_MESSAGE, REQUIRE_MESSAGE, which use
// it) wraps its arguments in a [&] lambda that is only called when a check
// fails. Clang 14 cannot capture a structured binding in a lambda (a C++20
// rule it implements from clang 16), so `for (auto& [k, v] : m) CAPTURE(k);`
// does not compile with Debian's clang, the compiler of the sanitizer and
// fuzz builds. Here the message is built at once, with doctest's own
// stringification, and kept as text: the same output, at the cost of
// formatting messages of checks that pass.
#ifndef CASELOOP_TESTS_DOCTEST_EAGER_INFO_H_
#define CASELOOP_TESTS_DOCTEST_EAGER_INFO_H_

#include <doctest/doctest.h>

#include <ostream>
#include <sstream>
#include <string>

namespace doctest {
namespace detail {

// Collects `a, b` / `a << b` the way MessageBuilder does (DOCTEST_STRINGIFY
// is unqualified toString, found from this namespace as in MessageBuilder).
struct CaseloopEagerMessage {
  std::ostringstream out;

  template <typename T>
  CaseloopEagerMessage& operator,(const T& in) {
    out << (DOCTEST_STRINGIFY(in));
    return *this;
  }
  template <typename T>
  CaseloopEagerMessage& operator<<(const T& in) {
    return this->operator,(in);
  }
  template <typename T>
  CaseloopEagerMessage& operator*(const T& in) {
    return this->operator,(in);
  }
};

// What ContextScope calls when a check fails: the text built before.
struct CaseloopEagerText {
  std::string text;
  void operator()(std::ostream* s) const { *s << text; }
};

}  // namespace detail
}  // namespace doctest

#undef DOCTEST_INFO_IMPL
#define DOCTEST_INFO_IMPL(mb_name, s_name, ...)                                 \
  auto DOCTEST_ANONYMOUS(DOCTEST_CAPTURE_) = doctest::detail::MakeContextScope( \
      doctest::detail::CaseloopEagerText{(doctest::detail::CaseloopEagerMessage() * __VA_ARGS__).out.str()})

#endif  // CASELOOP_TESTS_DOCTEST_EAGER_INFO_H_
