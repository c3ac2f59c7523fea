// WriteWholeFile (tools/output_file.h), with POSIX calls: each failure is
// reported with its errno (std::ofstream says only that something failed).
#include "tools/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace caseloop::tools {

namespace {

Status Failed(const std::string& path, const char* doing, int err) {
  return Status::IOError("cannot write '" + path + "': " + doing + std::strerror(err));
}

// Writes all of `content` to `fd`; 0 or the errno of the failed write.
int WriteAll(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

// The file is not a regular one (a device, a pipe): written in place.
Status WriteInPlace(const std::string& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Failed(path, "", errno);
  int err = WriteAll(fd, content);
  if (::close(fd) != 0 && err == 0) err = errno;
  return err == 0 ? Status::Ok() : Failed(path, "", err);
}

}  // namespace

Status WriteWholeFile(const std::string& path, std::string_view content) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) return Failed(path, "", EISDIR);
    return WriteInPlace(path, content);
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
  if (fd < 0) return Failed(path, "", errno);
  int err = WriteAll(fd, content);
  const char* doing = "";
  if (err == 0 && ::fsync(fd) != 0) {
    err = errno;
    doing = "sync: ";
  }
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    doing = "rename: ";
  }
  if (err != 0) {
    ::unlink(tmp.c_str());
    return Failed(path, doing, err);
  }
  return Status::Ok();
}

}  // namespace caseloop::tools
