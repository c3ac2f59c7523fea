// caseloop/asio.h: AsyncSubmit with C++20 coroutines and other tokens.
#include "caseloop/asio.h"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "engine_test_util.h"

namespace caseloop::test {
namespace {

namespace asio = boost::asio;

asio::awaitable<void> RunCase(Engine& engine, std::vector<std::string>* log, std::thread::id* resumed_on) {
  Result<CommandAck> r =
      co_await AsyncSubmit(engine, Report("Q1", CaseKind::kComponent, "0101"), asio::use_awaitable);
  log->push_back(r.ok() ? "reported v" + std::to_string(r->version) : r.status().ToString());
  *resumed_on = std::this_thread::get_id();
  r = co_await AsyncSubmit(engine, Cmd(CommandType::kRegister, "Q1", "L1"), asio::use_awaitable);
  log->push_back(r.ok() ? "registered v" + std::to_string(r->version) : r.status().ToString());
  // A refusal comes back as a value, not an exception.
  r = co_await AsyncSubmit(engine, Cmd(CommandType::kVerify, "Q1", "I1"), asio::use_awaitable);
  log->push_back(r.ok() ? "verified?" : std::string(StatusCodeName(r.status().code())));
}

TEST_CASE("co_await AsyncSubmit in a host io_context") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T10:30")));
  ConfigureDistrict(*e);
  asio::io_context io;
  std::vector<std::string> log;
  std::thread::id resumed_on;
  asio::co_spawn(io, RunCase(*e, &log, &resumed_on), asio::detached);
  io.run();  // returns only once the coroutine finished: the work guard kept it running
  CHECK(log == std::vector<std::string>{"reported v1", "registered v2", "rejected"});
  CHECK(resumed_on == std::this_thread::get_id());  // resumed on the host's thread
  CHECK(e->State("Q1")->state == LifecycleState::kRegistered);
}

TEST_CASE("AsyncSubmit with use_future and with a plain callback") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T10:30")));
  ConfigureDistrict(*e);
  std::future<Result<CommandAck>> f =
      AsyncSubmit(*e, Report("F1", CaseKind::kComponent, "0101"), asio::use_future);
  Result<CommandAck> r = f.get();
  REQUIRE(r.ok());
  CHECK(r->version == 1);

  std::promise<Status> done;
  AsyncSubmit(*e, Cmd(CommandType::kRegister, "F1", "L1"),
              [&](Result<CommandAck> result) { done.set_value(result.status()); });
  CHECK(done.get_future().get().ok());

  // After Close the completion still runs, with Unavailable.
  REQUIRE(e->Close().ok());
  std::future<Result<CommandAck>> late =
      AsyncSubmit(*e, Cmd(CommandType::kDispatch, "F1", "D1"), asio::use_future);
  CHECK(late.get().status().IsUnavailable());
}

}  // namespace
}  // namespace caseloop::test
