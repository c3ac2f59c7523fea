#include "projections/batch.h"

#include <algorithm>

#include "projections/codec.h"

namespace caseloop::projections {

Batch::Entry& Batch::Slot(std::string_view key, bool fresh) {
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    it = pending_.emplace(std::string(key), Entry{}).first;
    it->second.absent_in_store = fresh;
  }
  return it->second;
}

bool Carry::Carries(std::string_view key) const {
  for (const auto& p : prefixes_) {
    if (key.substr(0, p.size()) == p) return true;
  }
  return false;
}

const std::optional<std::string>* Carry::Find(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

void Carry::Absorb(const std::vector<KvOp>& ops) {
  constexpr std::size_t kMaxValues = 1u << 16;  // about 10 MiB: bounds the memory of one CatchUp
  for (const KvOp& op : ops) {
    if (!Carries(op.key)) continue;
    if (values_.size() >= kMaxValues && values_.find(op.key) == values_.end()) values_.clear();
    values_.insert_or_assign(op.key, op.kind == KvOp::Kind::kPut ? std::optional<std::string>(op.value)
                                                                 : std::optional<std::string>());
  }
}

Result<std::optional<std::string>> Batch::Get(std::string_view key, bool fresh) {
  auto it = pending_.find(key);
  if (it != pending_.end()) return it->second.value;
  Entry e;
  const std::optional<std::string>* carried = carry_ != nullptr ? carry_->Find(key) : nullptr;
  if (fresh) {
    e.absent_in_store = true;
  } else if (carried != nullptr) {
    e.absent_in_store = !carried->has_value();
    e.value = *carried;
  } else {
    auto v = store_->Get(key);
    if (!v.ok()) return v.status();
    e.absent_in_store = !v->has_value();
    e.value = std::move(*v);
  }
  return pending_.emplace(std::string(key), std::move(e)).first->second.value;
}

void Batch::Put(std::string_view key, std::string value, bool fresh) {
  Entry& e = Slot(key, fresh);
  e.value = std::move(value);
  e.dirty = true;
}

void Batch::Delete(std::string_view key) {
  Entry& e = Slot(key, false);
  e.value.reset();
  e.dirty = true;
}

Result<std::int64_t> DecodeCounter(std::string_view key, std::string_view value) {
  Reader r(value);
  std::int64_t v = r.I64();
  if (!r.ok() || !r.done()) {
    return Status::Corruption("projection counter " + std::string(key) + ": malformed value");
  }
  return v;
}

Status Batch::AddCounter(std::string_view key, std::int64_t delta) {
  auto cur = Get(key);
  if (!cur.ok()) return cur.status();
  std::int64_t v = 0;
  if (cur->has_value()) {
    auto d = DecodeCounter(key, **cur);
    if (!d.ok()) return d.status();
    v = *d;
  }
  v += delta;
  if (v == 0) {
    Delete(key);
  } else {
    Writer w;
    w.I64(v);
    Put(key, w.Take());
  }
  return Status::Ok();
}

std::vector<KvOp> Batch::TakeOps() {
  std::vector<KvOp> ops;
  ops.reserve(pending_.size());
  for (auto& [k, e] : pending_) {
    if (!e.dirty) continue;
    KvOp op;
    if (e.value) {
      op.kind = KvOp::Kind::kPut;
      op.value = std::move(*e.value);
    } else if (e.absent_in_store) {
      continue;  // created and deleted within the batch: nothing to write
    } else {
      op.kind = KvOp::Kind::kDelete;
    }
    op.key = k;
    ops.push_back(std::move(op));
  }
  // Key order: the store's memtable inserts a sorted batch cheaper, and the
  // commit is the same whatever order the batch was filled in.
  std::sort(ops.begin(), ops.end(), [](const KvOp& a, const KvOp& b) { return a.key < b.key; });
  pending_.clear();
  fresh_.clear();
  return ops;
}

}  // namespace caseloop::projections
