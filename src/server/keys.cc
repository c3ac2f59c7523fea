// The keys file and key hashing. libsodium gives the three things a key
// needs: a CSPRNG for the secret (randombytes_buf), a fast cryptographic hash
// (crypto_generichash, BLAKE2b: the secret has 256 bits of entropy, so a slow
// password hash would add nothing) and a constant-time comparison
// (sodium_memcmp), so that the time to refuse a key does not leak its hash.
#include "server/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace caseloop {
namespace {

constexpr char kHeader[] = "# caseloop API keys: id actor blake2b-256(key) created-unix-seconds revoked\n";

std::string Hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 15]);
  }
  return s;
}

bool InitSodium() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

struct Line {
  KeyInfo info;
  std::string hash;
};

Result<std::vector<Line>> ReadFile(const std::string& file) {
  std::vector<Line> lines;
  std::ifstream in(file);
  if (!in) {
    if (errno == ENOENT) return lines;
    return Status::IOError("cannot read the keys file " + file + ": " + std::strerror(errno));
  }
  std::string text;
  int n = 0;
  while (std::getline(in, text)) {
    ++n;
    if (text.empty() || text[0] == '#') continue;
    std::istringstream words(text);
    Line l;
    long long created = 0;
    int revoked = 0;
    if (!(words >> l.info.id >> l.info.actor >> l.hash >> created >> revoked) || l.hash.size() != 64 ||
        (revoked != 0 && revoked != 1)) {
      return Status::Corruption("keys file " + file + " line " + std::to_string(n) +
                                ": expected 'id actor hash created revoked'");
    }
    l.info.created = Instant{} + std::chrono::seconds(created);
    l.info.revoked = revoked == 1;
    lines.push_back(std::move(l));
  }
  if (in.bad()) return Status::IOError("cannot read the keys file " + file + ": " + std::strerror(errno));
  return lines;
}

Status SyncDirectoryOf(const std::string& file) {
  std::filesystem::path dir = std::filesystem::path(file).parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Status::IOError("cannot open " + dir.string() + ": " + std::strerror(errno));
  int r = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (r != 0) return Status::IOError("cannot sync " + dir.string() + ": " + std::strerror(e));
  return Status::Ok();
}

// Writes `lines` to file.tmp, fsyncs it, renames it over `file` and fsyncs
// the directory: a crash leaves the old file or the new one.
Status WriteFile(const std::string& file, const std::vector<Line>& lines) {
  std::string text = kHeader;
  for (const auto& l : lines) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(l.info.created - Instant{}).count();
    text += l.info.id + ' ' + l.info.actor + ' ' + l.hash + ' ' + std::to_string(secs) + ' ' +
            (l.info.revoked ? "1" : "0") + '\n';
  }
  const std::string tmp = file + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot write " + tmp + ": " + std::strerror(errno));
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::IOError("cannot write " + tmp + ": " + std::strerror(e));
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::IOError("cannot sync " + tmp + ": " + std::strerror(e));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Status::IOError("cannot replace " + file + ": " + std::strerror(e));
  }
  return SyncDirectoryOf(file);
}

}  // namespace

Result<std::string> KeyStore::Issue(const std::string& file, const std::string& actor, Instant now,
                                    KeyInfo* info) {
  if (actor.empty()) return Status::InvalidArgument("a key needs an actor");
  for (char c : actor) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return Status::InvalidArgument("actor '" + actor + "' contains a space or a control character");
  }
  if (!InitSodium()) return Status::IOError("libsodium could not be initialised");
  auto lines = ReadFile(file);
  if (!lines.ok()) return lines.status();
  unsigned char id[5], secret[32];
  std::string id_text;
  for (;;) {  // a fresh id (40 random bits; a clash is retried)
    randombytes_buf(id, sizeof id);
    id_text = "k" + Hex(id, sizeof id);
    bool clash = false;
    for (const auto& l : *lines) clash = clash || l.info.id == id_text;
    if (!clash) break;
  }
  randombytes_buf(secret, sizeof secret);
  std::string key = "cl_" + id_text + "_" + Hex(secret, sizeof secret);
  sodium_memzero(secret, sizeof secret);
  Line l;
  l.info.id = id_text;
  l.info.actor = actor;
  l.info.created = std::chrono::time_point_cast<std::chrono::seconds>(now);
  l.hash = server::HashKey(key);
  lines->push_back(l);
  Status s = WriteFile(file, *lines);
  if (!s.ok()) return s;
  if (info != nullptr) *info = l.info;
  return key;
}

Result<std::vector<KeyInfo>> KeyStore::List(const std::string& file) {
  auto lines = ReadFile(file);
  if (!lines.ok()) return lines.status();
  std::vector<KeyInfo> out;
  for (auto& l : *lines) out.push_back(std::move(l.info));
  return out;
}

Status KeyStore::Revoke(const std::string& file, const std::string& id) {
  auto lines = ReadFile(file);
  if (!lines.ok()) return lines.status();
  bool found = false;
  for (auto& l : *lines) {
    if (l.info.id == id) {
      found = true;
      l.info.revoked = true;
    }
  }
  if (!found) return Status::NotFound("no key " + id + " in " + file);
  return WriteFile(file, *lines);
}

namespace server {

std::string HashKey(std::string_view key) {
  InitSodium();
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, 0);
  return Hex(h, sizeof h);
}

Status KeyTable::Load() {
  std::map<std::string, Entry, std::less<>> keys;
  if (!file_.empty()) {
    struct stat st {};
    if (::stat(file_.c_str(), &st) == 0) {
      mtime_ns_ = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      size_ = st.st_size;
    } else {
      mtime_ns_ = size_ = -1;
    }
    auto lines = ReadFile(file_);
    if (!lines.ok()) return lines.status();
    for (auto& l : *lines) keys[l.info.id] = Entry{l.info.actor, l.hash, l.info.revoked};
  }
  keys_ = std::move(keys);
  return Status::Ok();
}

void KeyTable::MaybeReload() {
  if (file_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ < std::chrono::seconds(1)) return;
  checked_ = now;
  struct stat st {};
  std::int64_t mtime = -1, size = -1;
  if (::stat(file_.c_str(), &st) == 0) {
    mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    size = st.st_size;
  }
  if (mtime == mtime_ns_ && size == size_) return;
  // A file that does not parse keeps the keys loaded before (and is
  // reported by `caseloop keys list`).
  (void)Load();
}

Result<std::string> KeyTable::Authenticate(std::string_view key) {
  // cl_<id>_<64 hex>
  if (key.size() < 4 || key.substr(0, 3) != "cl_") return Status::InvalidArgument("malformed API key");
  const auto sep = key.find('_', 3);
  if (sep == std::string_view::npos) return Status::InvalidArgument("malformed API key");
  const std::string_view id = key.substr(3, sep - 3);
  const std::string hash = HashKey(key);
  std::lock_guard<std::mutex> lock(mu_);
  MaybeReload();
  auto it = keys_.find(id);
  if (it == keys_.end() || it->second.hash.size() != hash.size() ||
      sodium_memcmp(it->second.hash.data(), hash.data(), hash.size()) != 0) {
    return Status::InvalidArgument("unknown API key");
  }
  if (it->second.revoked) return Status::InvalidArgument("API key " + std::string(id) + " is revoked");
  return it->second.actor;
}

}  // namespace server
}  // namespace caseloop
