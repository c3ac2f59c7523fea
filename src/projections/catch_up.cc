#include "projections/catch_up.h"

#include <algorithm>

namespace caseloop::projections {
namespace {

std::string Text(std::string_view s) { return std::string(s); }

// Decodes the record the projections read; nullopt fields for what they skip.
Status Decode(const EventRecordView& rec, LogEntry* d) {
  d->position = rec.position;
  d->recorded_us = rec.recorded_us;
  if (rec.stream.empty()) return Status::Ok();
  if (rec.stream[0] != '$') {
    auto e = DecodeCaseEvent(rec);
    if (!e.ok()) {
      return Status(e.status().code(), "projections: cannot decode the event at log position " +
                                           std::to_string(rec.position) + " (stream " + Text(rec.stream) +
                                           "): " + e.status().message());
    }
    d->event = std::move(*e);
    d->first_of_case = rec.version == 1 && d->event->case_id == rec.stream;
    return Status::Ok();
  }
  // Of the configuration only the calendar's offset and zone matter (the evaluation's day grid).
  if (rec.stream == kConfigStream && (rec.type == ConfigEventTypeName(ConfigChangeType::kSetCalendar) ||
                                      rec.type == ConfigEventTypeName(ConfigChangeType::kSetCalendarZone))) {
    auto c = DecodeConfigChange(rec.payload, rec.schema_version);
    if (!c.ok()) {
      return Status(c.status().code(),
                    "projections: cannot decode the configuration change at log position " +
                        std::to_string(rec.position) + ": " + c.status().message());
    }
    d->config = std::make_shared<const ConfigChange>(std::move(*c));
  }
  return Status::Ok();
}

}  // namespace

CatchUpLoop::CatchUpLoop(EventStore* log, ProjectionStore* store, const ProjectionOptions& options,
                         std::vector<Projection*> projections)
    : log_(log), store_(store), options_(options) {
  if (options_.batch_events == 0) options_.batch_events = 1;
  for (Projection* p : projections) {
    auto m = std::make_unique<Member>();
    m->projection = p;
    m->format_key = Text(p->prefix()) + "~format";
    if (store_ != nullptr) {
      auto cp = store_->ProjectionCheckpoint(p->name());
      m->checkpoint.store(cp.ok() ? *cp : 0);
    }
    members_.push_back(std::move(m));
  }
}

std::uint64_t CatchUpLoop::Checkpoint() const {
  std::uint64_t cp = UINT64_MAX;
  for (const auto& m : members_) cp = std::min(cp, m->checkpoint.load());
  return members_.empty() ? 0 : cp;
}

Status CatchUpLoop::Reset(Member& m) {
  Status s = store_->ResetProjection(m.projection->name(), m.projection->prefix());
  if (!s.ok()) {
    return Status(s.code(), "rebuild of projection " + Text(m.projection->name()) + ": " + s.message());
  }
  m.checkpoint.store(0);
  return Status::Ok();
}

Status CatchUpLoop::Rebuild() {
  for (auto& m : members_) CASELOOP_RETURN_IF_ERROR(Reset(*m));
  return CatchUp(UINT64_MAX);
}

Status CatchUpLoop::Check(std::vector<std::string>* problems) {
  const std::uint64_t head = log_->HeadPosition();
  for (const auto& m : members_) {
    auto cp = store_->ProjectionCheckpoint(m->projection->name());
    if (!cp.ok()) return cp.status();
    if (*cp > head) {
      problems->push_back("projection " + Text(m->projection->name()) + ": checkpoint " +
                          std::to_string(*cp) + " is beyond the log head " + std::to_string(head));
    }
  }
  for (const auto& m : members_) CASELOOP_RETURN_IF_ERROR(m->projection->Check(problems));
  return Status::Ok();
}

Status CatchUpLoop::ApplyAndCommit(const std::vector<LogEntry>& entries, std::size_t n,
                                   std::vector<std::uint64_t>& cp, std::vector<Carry>& carry,
                                   std::size_t* failed_at) {
  const std::size_t k = members_.size();
  std::vector<Batch> batches;
  batches.reserve(k);
  for (std::size_t i = 0; i < k; ++i) {
    batches.emplace_back(store_, &carry[i]);
    members_[i]->projection->Begin();
  }
  std::vector<bool> rebuild(k, false);
  for (std::size_t j = 0; j < n; ++j) {
    const LogEntry& d = entries[j];
    for (std::size_t i = 0; i < k; ++i) {
      if (d.position <= cp[i] || rebuild[i]) continue;
      Projection* p = members_[i]->projection;
      if (d.first_of_case) batches[i].MarkFresh(d.event->case_id);
      Result<Applied> applied = p->Apply(batches[i], d);
      if (!applied.ok()) {
        *failed_at = j;
        const Status& s = applied.status();
        return Status(s.code(), "projection " + Text(p->name()) + " at log position " +
                                    std::to_string(d.position) +
                                    (d.event ? " (case " + d.event->case_id + ")" : std::string()) + ": " +
                                    s.message());
      }
      rebuild[i] = *applied == Applied::kRebuild;
    }
  }
  if (n == 0) return Status::Ok();
  const std::uint64_t last = entries[n - 1].position;
  for (std::size_t i = 0; i < k; ++i) {
    Member& m = *members_[i];
    Projection* p = m.projection;
    if (rebuild[i]) {
      // Its batch is dropped with its keys; the replay starts at position 1.
      CASELOOP_RETURN_IF_ERROR(Reset(m));
      cp[i] = 0;
      carry[i] = Carry(p->carried_prefixes());
      p->Rebuilding();
      continue;
    }
    if (last <= cp[i]) continue;
    batches[i].Put(m.format_key, Text(p->format()));
    p->Seal(batches[i]);
    const std::vector<KvOp> ops = batches[i].TakeOps();
    Status s = store_->CommitProjection(p->name(), ops, last);
    if (!s.ok()) {
      return Status(s.code(), "projection " + Text(p->name()) + ": commit of checkpoint " +
                                  std::to_string(last) + " failed: " + s.message());
    }
    carry[i].Absorb(ops);
    cp[i] = last;
    m.checkpoint.store(last);
    p->Committed(ops);
  }
  return Status::Ok();
}

Status CatchUpLoop::CatchUp(std::uint64_t until) {
  const std::size_t k = members_.size();
  std::vector<std::uint64_t> cp(k, 0);
  for (std::size_t i = 0; i < k; ++i) {
    Member& m = *members_[i];
    auto c = store_->ProjectionCheckpoint(m.projection->name());
    if (!c.ok()) return c.status();
    cp[i] = *c;
    if (cp[i] > 0) {
      auto format = store_->Get(m.format_key);
      if (!format.ok()) return format.status();
      if (*format != std::optional<std::string>(Text(m.projection->format()))) {
        // Written by another layout version: start this projection afresh.
        CASELOOP_RETURN_IF_ERROR(Reset(m));
        cp[i] = 0;
      }
    }
    m.checkpoint.store(cp[i]);
    CASELOOP_RETURN_IF_ERROR(m.projection->Load(cp[i]));
  }
  // Counters are read once per CatchUp, not once per batch.
  std::vector<Carry> carry;
  carry.reserve(k);
  for (const auto& m : members_) carry.emplace_back(m->projection->carried_prefixes());
  const std::uint64_t limit = std::min(until, log_->HeadPosition());
  while (k > 0 && *std::min_element(cp.begin(), cp.end()) < limit) {
    const std::uint64_t from = *std::min_element(cp.begin(), cp.end()) + 1;
    const std::uint64_t behind = limit - from + 1;
    const std::size_t per_batch = behind >= options_.bulk_batch_events
                                      ? std::max(options_.batch_events, options_.bulk_batch_events)
                                      : options_.batch_events;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(per_batch, behind));
    // Decoded in place from the store's zero-copy scan: the records' bytes
    // are never copied, only the case events' own fields.
    std::vector<LogEntry> entries;
    entries.reserve(want);
    Status decode_error;
    Status scanned = log_->ScanAll(from, want, [&](const EventRecordView& rec) {
      const std::uint64_t expected = from + entries.size();
      if (rec.position != expected) {
        decode_error = Status::Corruption("projections: expected log position " + std::to_string(expected) +
                                          ", the log gave " + std::to_string(rec.position));
        return false;
      }
      if (rec.position > limit) return false;
      decode_error = Decode(rec, &entries.emplace_back());
      if (!decode_error.ok()) {
        entries.pop_back();
        return false;
      }
      return true;
    });
    // A storage error after some records: apply those first, as for a decode error.
    if (decode_error.ok() && !scanned.ok()) decode_error = scanned;
    if (entries.empty() && decode_error.ok()) {
      return Status::Corruption("projections: the log head is " + std::to_string(limit) +
                                " but reading from position " + std::to_string(from) + " gave nothing");
    }
    std::size_t failed_at = entries.size();
    Status s = ApplyAndCommit(entries, entries.size(), cp, carry, &failed_at);
    if (!s.ok()) {
      if (failed_at < entries.size()) {
        // Keep the work before the offending event, then report it.
        std::size_t ignored = 0;
        Status prefix = ApplyAndCommit(entries, failed_at, cp, carry, &ignored);
        if (!prefix.ok()) return prefix;
      }
      return s;
    }
    if (!decode_error.ok()) return decode_error;
  }
  return Status::Ok();
}

}  // namespace caseloop::projections
