// Uses the installed caseloop::server: serves an in-memory engine on a free
// loopback port, asks GET /healthz and an /api request without a key over a
// plain socket, and stops.
#include <arpa/inet.h>
#include <caseloop/engine.h>
#include <caseloop/server.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

static std::string Get(std::uint16_t port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  (void)::send(fd, req.data(), req.size(), 0);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

int main() {
  caseloop::EngineOptions options;
  options.path = caseloop::kInMemoryPath;
  auto engine = caseloop::Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open failed: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  caseloop::ServerOptions so;
  so.port = 0;
  auto server = caseloop::Server::Start(engine->get(), so);
  if (!server.ok()) {
    std::fprintf(stderr, "start failed: %s\n", server.status().ToString().c_str());
    return 1;
  }
  const std::string health = Get((*server)->port(), "/healthz");
  const std::string api = Get((*server)->port(), "/api/v1/cases");
  (*server)->Stop();
  if (health.rfind("HTTP/1.1 200", 0) != 0 || health.find("\"ok\"") == std::string::npos) {
    std::fprintf(stderr, "healthz: %s\n", health.c_str());
    return 1;
  }
  if (api.rfind("HTTP/1.1 401", 0) != 0) {
    std::fprintf(stderr, "an /api request without a key: %s\n", api.c_str());
    return 1;
  }
  std::puts("consumer_server: ok");
  return (*engine)->Close().ok() ? 0 : 1;
}
