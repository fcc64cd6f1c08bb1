// SPDX-License-Identifier: MIT
// What the -o seq= mount tests (SPEC §8) share: the schemas, each declared once for both the C++
// compiler (whose offsetof is the layout oracle) and the C header fieldfs reads; a mount of one
// with its counter and a mapping of it; reads and writes of whole files that report errno.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdint.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "fieldfs/seqlock.hpp"
#include "header_file.hpp"

/// Declares `struct NAME BODY` here, and NAME_h: the same declaration as a C header's text.
#define FIELDFS_SEQ_SCHEMA(NAME, ...) \
  struct NAME __VA_ARGS__;            \
  inline constexpr char NAME##_h[] = "#include <stdint.h>\nstruct " #NAME " " #__VA_ARGS__ ";\n"

namespace fieldfs::test::seq {

FIELDFS_SEQ_SCHEMA(pos, {
  unsigned int seq;
  int x;
  int y;
  char name[24];
  double t;
});
FIELDFS_SEQ_SCHEMA(pos8, {
  unsigned long long seq;
  int x;
  int y;
  char name[24];
  double t;
});
FIELDFS_SEQ_SCHEMA(posh, {
  int tag;
  struct {
    uint32_t seq;
  } hdr;
  int x;
  int y;
  char name[24];
  double t;
});

/// One schema: where the compiler put its members.
struct Variant {
  const char* label;
  const char* header;
  const char* seq_path;  ///< the counter as the mount names it
  std::size_t seq_at, seq_width, x_at, y_at, name_at, name_size, t_at, size;
};

inline const Variant kPos{"u32",
                          pos_h,
                          "seq",
                          offsetof(pos, seq),
                          4,
                          offsetof(pos, x),
                          offsetof(pos, y),
                          offsetof(pos, name),
                          24,
                          offsetof(pos, t),
                          sizeof(pos)};
inline const Variant kPos8{"u64",
                           pos8_h,
                           "seq",
                           offsetof(pos8, seq),
                           8,
                           offsetof(pos8, x),
                           offsetof(pos8, y),
                           offsetof(pos8, name),
                           24,
                           offsetof(pos8, t),
                           sizeof(pos8)};
inline const Variant kPosH{"nested",
                           posh_h,
                           "hdr/seq",
                           offsetof(posh, hdr) + offsetof(decltype(posh::hdr), seq),
                           4,
                           offsetof(posh, x),
                           offsetof(posh, y),
                           offsetof(posh, name),
                           24,
                           offsetof(posh, t),
                           sizeof(posh)};
static_assert(sizeof(pos::seq) == 4 && sizeof(pos8::seq) == 8 && sizeof(posh::hdr) == 4);

/// errno of open(O_WRONLY), one write of `text`, close (0 if all succeeded).
inline int write_errno(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return errno;
  ssize_t n = ::write(fd, text.data(), text.size());
  int e = n < 0 ? errno : 0;
  if (::close(fd) != 0 && e == 0) e = errno;
  return e;
}

/// A whole file read with one open and one read at offset 0 (one fresh sample), or its errno.
struct Read {
  int err = 0;
  std::string text;
};
inline Read read_once(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return {errno, ""};
  std::string out(65536, '\0');
  ssize_t n = ::read(fd, out.data(), out.size());
  int e = n < 0 ? errno : 0;
  ::close(fd);
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return {e, out};
}

/// The mapped struct of a variant: atomic loads and stores at the compiler's offsets.
class Image {
 public:
  Image(const Variant& v, void* base) : v_(v), base_(static_cast<std::byte*>(base)) {}
  std::uint64_t counter() const {
    if (v_.seq_width == 8) return ref<std::uint64_t>(v_.seq_at).load(std::memory_order_acquire);
    return ref<std::uint32_t>(v_.seq_at).load(std::memory_order_acquire);
  }
  void set_counter(std::uint64_t c) {
    if (v_.seq_width == 8) return ref<std::uint64_t>(v_.seq_at).store(c);
    ref<std::uint32_t>(v_.seq_at).store(static_cast<std::uint32_t>(c));
  }
  int x() const { return ref<int>(v_.x_at).load(std::memory_order_relaxed); }
  int y() const { return ref<int>(v_.y_at).load(std::memory_order_relaxed); }
  void set_x(int v) { ref<int>(v_.x_at).store(v, std::memory_order_relaxed); }
  void set_y(int v) { ref<int>(v_.y_at).store(v, std::memory_order_relaxed); }
  /// Stores `s` and NUL padding into name, byte by byte (atomic stores).
  void set_name(const std::string& s) {
    for (std::size_t k = 0; k < v_.name_size; ++k) {
      ref<char>(v_.name_at + k).store(k < s.size() ? s[k] : '\0', std::memory_order_relaxed);
    }
  }
  /// The struct's bytes as they are now (not a snapshot).
  std::string bytes() const {
    std::string b(v_.size, '\0');
    for (std::size_t k = 0; k < v_.size; ++k) b[k] = ref<char>(k).load(std::memory_order_relaxed);
    return b;
  }
  /// The protocol on this mapping's counter (SPEC §8), as another program follows it.
  SeqLock lock() const { return SeqLock(base_ + v_.seq_at, static_cast<unsigned>(v_.seq_width)); }

 private:
  template <typename W>
  std::atomic_ref<W> ref(std::size_t at) const {
    return std::atomic_ref<W>(*reinterpret_cast<W*>(base_ + at));
  }
  const Variant& v_;
  std::byte* base_;
};

/// The state a writer publishes for step i: x = i, y = -i, name "i/i" (a torn copy shows two
/// different halves).
inline std::string name_of(long i) { return std::to_string(i) + "/" + std::to_string(i); }

/// A test with one variant mounted (`-o schema=...,seq=...` unless `with_seq` is false) on a
/// fresh shm segment and mapped; the daemon must exit 0.
class SeqTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (m_) {
      EXPECT_EQ(m_->stop(), 0) << "daemon stderr:\n" << m_->daemon_stderr();
    }
  }
  void start(const Variant& v, const std::string& more = "", bool with_seq = true) {
    m_.reset();
    h_ = std::make_unique<HeaderFile>(v.header);
    std::string options = h_->option();
    if (with_seq) options += std::string(",seq=") + v.seq_path;
    if (!more.empty()) options += "," + more;
    m_ = std::make_unique<Mount>(std::vector<std::string>{"-o", options});
    ASSERT_TRUE(m_->mounted()) << "fieldfs did not mount:\n" << m_->daemon_stderr();
    void* base = m_->map(v.size);
    ASSERT_NE(base, nullptr);
    image_ = std::make_unique<Image>(v, base);
  }
  std::string path(const std::string& name) const { return m_->path(name); }
  Image& image() { return *image_; }

  std::unique_ptr<HeaderFile> h_;
  std::unique_ptr<Mount> m_;
  std::unique_ptr<Image> image_;
};

/// The same, run once per variant.
class SeqVariantTest : public SeqTest, public ::testing::WithParamInterface<const Variant*> {
 protected:
  void SetUp() override { start(*GetParam()); }
  const Variant& v() const { return *GetParam(); }
};

inline std::string variant_label(const ::testing::TestParamInfo<const Variant*>& info) {
  return info.param->label;
}

}  // namespace fieldfs::test::seq
