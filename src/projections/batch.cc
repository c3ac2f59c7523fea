#include "projections/batch.h"

#include "projections/codec.h"

namespace caseloop::projections {

Result<std::optional<std::string>> Batch::Get(std::string_view key) {
  auto it = pending_.find(key);
  if (it != pending_.end()) return it->second;
  return store_->Get(key);
}

void Batch::Put(std::string_view key, std::string value) {
  pending_.insert_or_assign(std::string(key), std::optional<std::string>(std::move(value)));
}

void Batch::Delete(std::string_view key) {
  pending_.insert_or_assign(std::string(key), std::optional<std::string>());
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
  for (auto& [k, v] : pending_) {
    KvOp op;
    op.key = k;
    if (v) {
      op.kind = KvOp::Kind::kPut;
      op.value = std::move(*v);
    } else {
      op.kind = KvOp::Kind::kDelete;
    }
    ops.push_back(std::move(op));
  }
  pending_.clear();
  return ops;
}

}  // namespace caseloop::projections
