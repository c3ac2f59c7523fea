// Uses the installed caseloop: appends to an in-memory store and reads back.
#include <caseloop/event_store.h>
#include <caseloop/status.h>

#include <cstdio>

int main() {
  auto store = caseloop::NewMemoryStore();
  caseloop::NewEvent e;
  e.type = "case_reported";
  e.payload = "hello";
  auto r = store->Append("C1", caseloop::ExpectedVersion::NoStream(), {e});
  if (!r.ok()) {
    std::fprintf(stderr, "append failed: %s\n", r.status().ToString().c_str());
    return 1;
  }
  auto events = store->ReadStream("C1");
  if (!events.ok() || events->size() != 1 || (*events)[0].payload != "hello" || (*events)[0].position != 1) {
    std::fprintf(stderr, "read back failed\n");
    return 1;
  }
  std::printf("consumer: appended and read back position %llu\n",
              static_cast<unsigned long long>((*events)[0].position));
  return 0;
}
