// store_demo: a walkthrough of the event store (until the CLI exists).
//
//   store_demo [directory]      (default ./caseloop-data)
//
// Opens (or creates) the store, appends a reported/registered/dispatched case
// with optimistic concurrency and an idempotent retry, reads the stream and
// the global log back and prints them, then runs the consistency check.
#include <cstdio>
#include <string>
#include <vector>

#include "caseloop/event_store.h"

using namespace caseloop;

namespace {

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "store_demo: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

NewEvent Event(const char* type, const char* actor, std::string payload) {
  NewEvent e;
  e.type = type;
  e.actor = actor;
  e.payload = std::move(payload);
  return e;
}

void Print(const EventRecord& e) {
  std::printf("  #%-4llu %-10s v%-3llu %-16s actor=%-3s id=%s payload=%s\n",
              static_cast<unsigned long long>(e.position), e.stream.c_str(),
              static_cast<unsigned long long>(e.version), e.type.c_str(), e.actor.c_str(), e.event_id.c_str(),
              e.payload.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "./caseloop-data";
  auto opened = OpenRocksDbStore(path);
  if (!opened.ok()) return Fail("open", opened.status());
  EventStore& store = **opened;
  std::printf("opened %s: head position %llu\n", path.c_str(),
              static_cast<unsigned long long>(store.HeadPosition()));

  // A new case stream per run, so the demo can run again on the same store.
  auto streams = store.ListStreams("", SIZE_MAX);
  if (!streams.ok()) return Fail("list streams", streams.status());
  const std::string stream = "DEMO-" + std::to_string(streams->size() + 1);

  std::vector<NewEvent> events;
  events.push_back(Event("CaseReported", "I1", "pothole on Elm St"));
  events.push_back(Event("CaseRegistered", "R1", "category=road"));
  auto first = store.Append(stream, ExpectedVersion::NoStream(), std::move(events));
  if (!first.ok()) return Fail("append", first.status());
  std::printf("appended %s v1..v%llu at positions %llu..%llu\n", stream.c_str(),
              static_cast<unsigned long long>(first->next_expected_version),
              static_cast<unsigned long long>(first->first_position),
              static_cast<unsigned long long>(first->last_position));

  // Dispatch with the version we just saw, and a command id: retrying the
  // same command (say after a timeout) does not append twice.
  AppendOptions dispatch;
  dispatch.command_id = stream + "-dispatch-1";
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto r = store.Append(stream, ExpectedVersion::Exactly(first->next_expected_version),
                          {Event("CaseDispatched", "D1", "unit=U3 limit=4wh")}, dispatch);
    if (!r.ok()) return Fail("dispatch", r.status());
    std::printf("dispatch attempt %d: position %llu%s\n", attempt,
                static_cast<unsigned long long>(r->first_position),
                r->duplicate ? " (duplicate: nothing written)" : "");
  }

  // A stale expected version is a conflict that names the actual version.
  auto stale = store.Append(stream, ExpectedVersion::Exactly(1), {Event("CaseVoided", "S1", "")});
  std::printf("stale append: %s\n", stale.status().ToString().c_str());

  auto read = store.ReadStream(stream);
  if (!read.ok()) return Fail("read stream", read.status());
  std::printf("stream %s:\n", stream.c_str());
  for (const auto& e : *read) Print(e);

  const std::uint64_t head = store.HeadPosition();
  const std::uint64_t from = head > 10 ? head - 9 : 1;
  auto all = store.ReadAll(from, 10);
  if (!all.ok()) return Fail("read log", all.status());
  std::printf("global log, positions %llu..%llu:\n", static_cast<unsigned long long>(from),
              static_cast<unsigned long long>(head));
  for (const auto& e : *all) Print(e);

  auto problems = store.Check();
  if (!problems.ok()) return Fail("check", problems.status());
  std::printf("check: %s\n", problems->empty() ? "healthy" : "PROBLEMS");
  for (const auto& p : *problems) std::printf("  %s\n", p.c_str());
  std::printf("fsyncs: %llu\n", static_cast<unsigned long long>(store.SyncCount()));
  Status closed = store.Close();
  if (!closed.ok()) return Fail("close", closed);
  return problems->empty() ? 0 : 2;
}
