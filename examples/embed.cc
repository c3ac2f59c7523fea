// embed: a host application that embeds the caseloop engine next to its own
// Boost.Asio io_context.
//
// It configures a tiny district, reports and dispatches two cases (one with
// co_await AsyncSubmit from a coroutine on the host's io_context, one with the
// blocking Submit), subscribes to the log to print overdue notices, and moves
// a manual clock forward so that the deadline timers fire. Exits 0 when the
// expected notices appeared.
// clang-format off
#include <utility>  // first: Boost 1.74's awaitable.hpp needs std::exchange
// clang-format on
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "caseloop/asio.h"
#include "caseloop/engine.h"
#include "caseloop/json.h"

namespace asio = boost::asio;
using namespace caseloop;

namespace {

Instant At(const char* text) { return *ParseInstant(text, 8 * 60); }

std::vector<ConfigChange> TinyDistrict() {
  std::vector<ConfigChange> out;
  auto add = [&](ConfigChange c) { out.push_back(std::move(c)); };
  ConfigChange c;
  c.type = ConfigChangeType::kSetCalendar;  // default: +08:00, Mon-Fri, 09-12 and 13-17
  add(c);
  c = {};
  c.type = ConfigChangeType::kDefineUnit;
  c.unit = {"WATER", "Water bureau"};
  add(c);
  c = {};
  c.type = ConfigChangeType::kDefineInspector;
  c.inspector = {"I1", "620102"};
  add(c);
  for (auto [id, role] : {std::pair{"L1", Role::kShiftLeader}, std::pair{"D1", Role::kDispatcher}}) {
    c = {};
    c.type = ConfigChangeType::kDefineStaff;
    c.staff = {id, {role}};
    add(c);
  }
  c = {};
  c.type = ConfigChangeType::kDefineCategory;
  c.category.kind = CaseKind::kComponent;
  c.category.code = "0101";
  c.category.name = "water-supply manhole cover";
  c.category.limit = TimeLimit::WorkingHours(4);
  add(c);
  c = {};
  c.type = ConfigChangeType::kDefineRoute;
  c.route = {CaseKind::kComponent, "0101", "WATER", ""};
  add(c);
  return out;
}

Command Make(CommandType type, const std::string& id, const std::string& actor) {
  Command c;
  c.type = type;
  c.case_id = id;
  c.actor = actor;
  if (type == CommandType::kReport) {
    c.kind = CaseKind::kComponent;
    c.category = "0101";
    c.source = ReportSource::kInspector;
    c.grid = "620102001001001";
  }
  return c;
}

// The host's coroutine: the case's first three steps, awaiting each ack.
asio::awaitable<void> OpenCase(Engine& engine, std::string id, bool* ok) {
  for (auto [type, actor] : {std::pair{CommandType::kReport, "I1"}, std::pair{CommandType::kRegister, "L1"},
                             std::pair{CommandType::kDispatch, "D1"}}) {
    Result<CommandAck> r = co_await AsyncSubmit(engine, Make(type, id, actor), asio::use_awaitable);
    if (!r.ok()) {
      std::printf("%s %s refused: %s\n", std::string(Name(type)).c_str(), id.c_str(),
                  r.status().ToString().c_str());
      *ok = false;
      co_return;
    }
    std::printf("%-8s %s  (log position %llu, durable)\n", std::string(Name(type)).c_str(), id.c_str(),
                static_cast<unsigned long long>(r->last_position));
  }
}

}  // namespace

int main() {
  auto clock = std::make_shared<ManualClock>(At("2025-03-31T10:30"));
  EngineOptions options;  // in memory; set options.path for a RocksDB directory
  options.clock = clock;
  Result<std::unique_ptr<Engine>> opened = Engine::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  Engine& engine = **opened;
  for (const ConfigChange& c : TinyDistrict()) {
    if (Result<CommandAck> r = engine.Configure(c); !r.ok()) {
      std::fprintf(stderr, "configure: %s\n", r.status().ToString().c_str());
      return 1;
    }
  }

  // Overdue notices from the log, live. The handler runs on the
  // subscription's thread; it only records and prints.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> notices;
  auto sub = engine.Subscribe(engine.HeadPosition() + 1, [&](const LoggedEvent& e) {
    if (!e.event || e.event->type != EventType::kTaskOverdue) return;
    std::string line = "OVERDUE  " + e.record.stream + " task " + std::to_string(e.event->task) + " of " +
                       e.event->unit + ", deadline " + FormatInstant(*e.event->deadline, 8 * 60) + " " +
                       CaseEventFieldsJson(*e.event, 8 * 60);
    std::lock_guard<std::mutex> lock(mu);
    notices.push_back(line);
    std::printf("%s\n", line.c_str());
    cv.notify_all();
  });
  if (!sub.ok()) return 1;

  // Case W1 through the host's io_context and a coroutine.
  asio::io_context io;
  bool ok = true;
  asio::co_spawn(io, OpenCase(engine, "W1", &ok), asio::detached);
  io.run();
  if (!ok) return 1;

  // Case W2 with the blocking API, an hour later; it is handled in time.
  if (!engine.AdvanceTo(At("2025-03-31T11:30")).ok()) return 1;
  for (auto [type, actor] :
       {std::pair{CommandType::kReport, "I1"}, std::pair{CommandType::kRegister, "L1"},
        std::pair{CommandType::kDispatch, "D1"}, std::pair{CommandType::kAccept, "WATER"},
        std::pair{CommandType::kFeedback, "WATER"}}) {
    if (Result<CommandAck> r = engine.Submit(Make(type, "W2", actor)); !r.ok()) {
      std::fprintf(stderr, "%s W2: %s\n", std::string(Name(type)).c_str(), r.status().ToString().c_str());
      return 1;
    }
  }
  Result<CaseView> w1 = engine.Show("W1");
  if (!w1.ok() || !w1->deadline) return 1;
  std::printf("W1 is %s with %s, light %s, deadline %s\n", std::string(Name(w1->state)).c_str(),
              w1->unit.value_or("-").c_str(), w1->light ? std::string(Name(*w1->light)).c_str() : "-",
              FormatInstant(*w1->deadline, 8 * 60).c_str());

  // Time passes: the clock steps through W1's deadline (15:30) and the timer
  // appends task_overdue, stamped just after the deadline.
  for (const char* t : {"2025-03-31T15:00", "2025-03-31T16:00", "2025-04-01T09:00"}) {
    if (Status s = engine.AdvanceTo(At(t)); !s.ok()) {
      std::fprintf(stderr, "advance: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("clock    %s\n", FormatInstant(engine.Now(), 8 * 60).c_str());
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return !notices.empty(); });
  }
  (*sub)->Cancel();
  Result<std::vector<OverdueTask>> overdue = engine.Overdue();
  if (!overdue.ok()) return 1;
  for (const OverdueTask& t : *overdue)
    std::printf("open and overdue: %s (%s), %.2f h past the deadline\n", t.case_id.c_str(), t.unit.c_str(),
                t.overdue_hours);
  if (Status s = engine.Close(); !s.ok()) return 1;

  std::lock_guard<std::mutex> lock(mu);
  bool expected = notices.size() == 1 && notices[0].find("W1") != std::string::npos && overdue->size() == 1;
  std::printf(expected ? "ok\n" : "unexpected notices\n");
  return expected ? 0 : 1;
}
