// caseloop/asio.h — opt-in Boost.Asio integration for hosts that run an
// io_context. This is the one public header that includes Boost; include it
// only when your program already uses Boost.Asio (Boost 1.74 or later).
//
//   boost::asio::awaitable<void> Handle(caseloop::Engine& engine, caseloop::Command cmd) {
//     caseloop::Result<caseloop::CommandAck> r =
//         co_await caseloop::AsyncSubmit(engine, cmd, boost::asio::use_awaitable);
//     ...
//   }
//
// Any completion token works (use_awaitable, use_future, a plain callback,
// bind_executor(...)). The completion signature is void(Result<CommandAck>):
// the command's acknowledgment (its events are durable) or its error.
//
// Boost 1.74 note: boost/asio/awaitable.hpp uses std::exchange without
// including <utility>; include <utility> before any Boost.Asio header.
//
// The command runs through Engine::SubmitAsync (decided on the engine's
// worker pool, acknowledged once its group commit is durable, without a
// worker waiting for the fsync); the completion handler is then posted to
// the handler's associated executor
// (for a coroutine: the executor it runs on), so host code resumes on its own
// threads, never on an engine thread. The handler's executor is kept busy
// (a work guard) until the command completes, so `io_context::run()` does not
// return while a command is in flight.
#ifndef CASELOOP_ASIO_H_
#define CASELOOP_ASIO_H_

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <type_traits>
#include <utility>

#include "caseloop/engine.h"

namespace caseloop {

namespace asio_detail {

struct SubmitInitiation {
  template <class Handler>
  void operator()(Handler&& handler, Engine* engine, Command command) const {
    using H = std::decay_t<Handler>;
    auto work = boost::asio::make_work_guard(handler);
    // std::function needs a copyable callable; Asio handlers are move-only.
    struct State {
      H handler;
      decltype(work) guard;
    };
    auto state = std::make_shared<State>(State{std::forward<Handler>(handler), std::move(work)});
    engine->SubmitAsync(std::move(command), [state](Result<CommandAck> result) mutable {
      auto ex = state->guard.get_executor();
      // post, not dispatch: when the engine refuses at once (closed), this runs
      // inside the initiating function, and a handler must not run there.
      boost::asio::post(ex, [state, result = std::move(result)]() mutable {
        H h = std::move(state->handler);
        std::move(h)(std::move(result));
      });
      // Released only after post() returned on this thread: until then the
      // host's io_context has work and cannot run out and be destroyed while
      // this thread is still waking it.
      state->guard.reset();
    });
  }
};

}  // namespace asio_detail

// Submits `command` asynchronously; completes with void(Result<CommandAck>).
// REQUIRES: `engine` outlives the operation (Engine::Close completes every
// command in flight, with Unavailable for those it refuses).
template <class Token>
auto AsyncSubmit(Engine& engine, Command command, Token&& token) {
  return boost::asio::async_initiate<Token, void(Result<CommandAck>)>(asio_detail::SubmitInitiation{}, token,
                                                                      &engine, std::move(command));
}

}  // namespace caseloop

#endif  // CASELOOP_ASIO_H_
