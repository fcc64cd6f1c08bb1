// SPDX-License-Identifier: MIT
#include "daemon/startup.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "daemon/log.hpp"

namespace fieldfs {

namespace {

/// Where fieldfs-header lives: beside this program (the build tree), in ../libexec/fieldfs (an
/// installed tree, wherever it was moved), or where it was installed.
std::string header_helper() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& dir :
         {exe.parent_path(), exe.parent_path().parent_path() / FIELDFS_HELPER_SUBDIR}) {
      auto candidate = dir / "fieldfs-header";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return FIELDFS_HELPER_DIR "/fieldfs-header";
}

/// How long fieldfs-header may take: a header that #includes a FIFO would block it forever.
constexpr auto kHeaderDeadline = std::chrono::seconds(60);

struct Captured {
  int status = -1;  ///< as waitpid gives it
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// Reads both pipes to their end; false if the deadline came first.
bool read_all(std::array<int, 2> fds_in, std::array<std::string*, 2> into,
              std::chrono::steady_clock::time_point deadline) {
  std::array<pollfd, 2> fds{pollfd{fds_in[0], POLLIN, 0}, pollfd{fds_in[1], POLLIN, 0}};
  char buf[65536];
  for (int open = 2; open > 0;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;  // revents are stale after a failed poll
    if (ready < 0) return true;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        into[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  return true;
}

/// Runs args[0] with stdout and stderr captured, killed at kHeaderDeadline; an errno if it
/// cannot be started.
std::variant<Captured, int> run_captured(const std::vector<std::string>& args) {
  std::array<int, 2> out{};
  std::array<int, 2> err{};
  if (::pipe2(out.data(), O_CLOEXEC) != 0) return errno;
  if (::pipe2(err.data(), O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    return e;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  Captured c;
  if (spawned == 0) {
    c.timed_out = !read_all({out[0], err[0]}, {&c.out, &c.err},
                            std::chrono::steady_clock::now() + kHeaderDeadline);
    if (c.timed_out) ::kill(pid, SIGKILL);
  }
  ::close(out[0]);
  ::close(err[0]);
  if (spawned != 0) return spawned;
  while (::waitpid(pid, &c.status, 0) < 0 && errno == EINTR) {
  }
  return c;
}

/// The last line of what fieldfs-header wrote: its own reason comes after libclang's lines.
std::string last_line(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  auto newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

/// The schema fieldfs-header reads from the header, or the one-line reason it cannot.
std::variant<Schema, std::string> parse_header(const Options& o) {
  std::vector<std::string> args{header_helper(), o.schema_file, o.struct_name};
  args.insert(args.end(), o.include_dirs.begin(), o.include_dirs.end());
  auto ran = run_captured(args);
  if (const int* e = std::get_if<int>(&ran)) {
    return "-o schema needs " + args[0] + ": " + errno_text(*e);
  }
  auto& c = std::get<Captured>(ran);
  if (c.timed_out) {
    return o.schema_file + ": no layout within " + std::to_string(kHeaderDeadline.count()) +
           " s (does it #include a FIFO or a device?)";
  }
  if (WIFSIGNALED(c.status)) {
    return o.schema_file + ": " + args[0] + " was killed by " + ::strsignal(WTERMSIG(c.status));
  }
  if (WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0) {
    if (auto schema = schema_from_wire(c.out)) return std::move(*schema);
    return args[0] + ": wrote no schema that fieldfs can read";
  }
  std::string why = last_line(std::move(c.err));
  return why.empty() ? args[0] + ": failed without a reason" : why;
}

}  // namespace

int startup_failure(const std::string& why) {
  log_line(why);
  return 1;
}

std::string segment_label(const std::string& text) {
  auto source = parse_source(text);
  if (!source) return text;
  if (source->kind == Source::Kind::shm) return text == source->name ? text : "shm:" + source->name;
  const std::string& path = source->name;
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(dir.c_str(), nullptr), &std::free);
  if (real == nullptr || name.empty()) return text;  // opening it fails, and says why
  std::string absolute =
      std::string_view(real.get()) == "/" ? "/" + name : real.get() + ("/" + name);
  auto again = parse_source(absolute);  // "/NAME" alone names a shm object
  bool plain = !text.starts_with("file:") && again && again->kind == Source::Kind::file;
  return plain ? absolute : "file:" + absolute;
}

std::optional<Schema> load_schema(const Options& o) {
  if (o.schema_file.empty()) {
    if (o.struct_name.empty() || o.struct_name == "foo") return Schema::builtin_foo();
    startup_failure("-o struct=" + o.struct_name + ": needs -o schema=FILE (the built-in is foo)");
    return std::nullopt;
  }
  auto parsed = parse_header(o);
  if (auto* schema = std::get_if<Schema>(&parsed)) return std::move(*schema);
  startup_failure(std::get<std::string>(parsed));
  return std::nullopt;
}

namespace {

/// Where `source` lives in the file system: /dev/shm/NAME for a shm object (glibc's shm_open
/// maps names there), the path for a file.
std::optional<std::string> segment_path(const std::string& source) {
  auto parsed = parse_source(source);
  if (!parsed) return std::nullopt;
  return parsed->kind == Source::Kind::shm ? "/dev/shm/" + parsed->name : parsed->name;
}

}  // namespace

void remove_segment(const std::string& source, bool only_if_empty) {
  auto path = segment_path(source);
  if (!path) return;
  struct stat st {};
  if (only_if_empty && (::lstat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
                        st.st_size != 0 || st.st_uid != ::geteuid())) {
    return;
  }
  ::unlink(path->c_str());
}

bool segment_exists(const std::string& source) {
  auto path = segment_path(source);
  struct stat st {};
  return path && ::lstat(path->c_str(), &st) == 0;
}

namespace {

/// Why another user's segment is refused, and how to mount it anyway.
std::string owner_text(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || st.st_uid == ::geteuid()) return errno_text(EPERM);
  return "owned by uid " + std::to_string(st.st_uid) + ", not by the mounting user (uid " +
         std::to_string(::geteuid()) +
         "): its owner could still change and truncate it; to mount it anyway: -o "
         "allow_foreign_owner";
}

std::string segment_error_text(std::errc e, const Options& o, const std::string& path) {
  switch (e) {
    case std::errc::too_many_symbolic_link_levels:
      return "is a symbolic link; fieldfs does not follow links (name the file itself)";
    case std::errc::no_such_device:
      return "not a regular file (a FIFO, device or socket cannot hold a struct)";
    case std::errc::operation_not_supported: {
      std::string fs = unsuitable_filesystem(path);
      return "on a " + (fs.empty() ? std::string("filesystem") : fs + " filesystem") +
             ", which cannot share a writable mapping (use tmpfs, as /dev/shm, ext4, xfs, btrfs)";
    }
    case std::errc::operation_not_permitted:
      return owner_text(path);
    case std::errc::function_not_supported:
      return "cannot be reopened through /proc/self/fd (is /proc mounted?)";
    case std::errc::no_such_file_or_directory:
      return errno_text(ENOENT) + (o.create ? "" : " (and -o nocreate was given)");
    case std::errc::invalid_argument:
      return "not a valid segment name (a shm name has no '/' inside and is not '.' or '..')";
    default:
      return errno_text(to_errno(e));
  }
}

}  // namespace

std::optional<Segment> open_segment(const Options& o, std::uint32_t size) {
  auto source = parse_source(o.source);
  if (!source) {
    startup_failure(o.source + ": " + segment_error_text(source.error(), o, o.source));
    return std::nullopt;
  }
  SegmentOptions so;
  so.mode = o.mode;
  so.create = o.create;
  so.read_only = o.read_only;
  so.size = size;
  so.owner_only = !o.allow_foreign_owner;
  auto segment = Segment::open(*source, so);
  if (!segment) {
    startup_failure(o.source + ": " + segment_error_text(segment.error(), o, source_path(*source)));
    return std::nullopt;
  }
  auto once = std::make_shared<Once>();
  segment->on_shrink([once, label = segment_label(o.source)](std::uint64_t bytes) {
    if (!once->first()) return;
    log_line("segment " + label + " shrank below the struct: fields past byte " +
             std::to_string(bytes) + " fail with EIO");
  });
  return std::move(*segment);
}

std::optional<Consistency> consistency_of(const Options& o, const Schema& schema) {
  Consistency c;
  c.bound = std::chrono::milliseconds(o.seq_wait_ms);
  if (o.seq.empty()) return c;
  auto counter = find_counter(schema, o.seq);
  if (!counter.error.empty()) {
    startup_failure(counter.error);
    return std::nullopt;
  }
  c.counter = counter.node;
  return c;
}

void log_stuck_counter(Sections& sections, const Options& o) {
  auto once = std::make_shared<Once>();
  sections.on_stuck([once, o](std::uint64_t value) {
    if (!once->first()) return;
    log_line("segment " + segment_label(o.source) + ": sequence counter " + o.seq +
             " stuck at odd value " + std::to_string(value) + " for " +
             std::to_string(o.seq_wait_ms) +
             " ms: a writer died inside a section; reads and writes through the mount fail "
             "with EAGAIN until a program makes it even (README: a stuck counter)");
  });
}

}  // namespace fieldfs
