// SPDX-License-Identifier: MIT
#include "startup.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <variant>
#include <vector>

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

struct Captured {
  int status = -1;  ///< as waitpid gives it
  std::string out;
  std::string err;
};

/// Runs args[0] with stdout and stderr captured; an errno if it cannot be started.
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
  std::array<pollfd, 2> fds{pollfd{out[0], POLLIN, 0}, pollfd{err[0], POLLIN, 0}};
  std::array<std::string*, 2> into{&c.out, &c.err};
  char buf[65536];
  for (int open = spawned == 0 ? 2 : 0; open > 0;) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;  // revents are stale after a failed poll
      break;
    }
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
  ::close(out[0]);
  ::close(err[0]);
  if (spawned != 0) return spawned;
  while (::waitpid(pid, &c.status, 0) < 0 && errno == EINTR) {
  }
  return c;
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
  if (WIFSIGNALED(c.status)) {
    return args[0] + ": killed by " + ::strsignal(WTERMSIG(c.status));
  }
  if (WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0) {
    if (auto schema = schema_from_wire(c.out)) return std::move(*schema);
    return args[0] + ": wrote no schema that fieldfs can read";
  }
  while (!c.err.empty() && c.err.back() == '\n') c.err.pop_back();
  if (c.err.empty()) return args[0] + ": failed without a reason";
  return c.err;
}

}  // namespace

int startup_failure(const std::string& why) {
  std::fprintf(stderr, "fieldfs: %s\n", why.c_str());
  return 1;
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

std::string check_mountpoint(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int e = errno;
    std::string why = path + ": " + errno_text(e);
    if (e == ENOTCONN) {
      why += " (a stale mount, left by a daemon that died; clear it with: fusermount3 -uz " + path +
             ")";
    }
    return why;
  }
  if (!S_ISDIR(st.st_mode)) return path + ": " + errno_text(ENOTDIR);
  return {};
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
  so.allow_foreign_owner = o.allow_foreign_owner;
  auto segment = Segment::open(*source, so);
  if (!segment) {
    startup_failure(o.source + ": " + segment_error_text(segment.error(), o, source_path(*source)));
    return std::nullopt;
  }
  return std::move(*segment);
}

}  // namespace fieldfs
