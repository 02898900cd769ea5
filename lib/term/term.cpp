#include "term/term.hpp"

#include <fmt/core.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/units.hpp"

namespace sciflow::term {

bool is_tty(int fd) { return ::isatty(fd) == 1; }

bool color_enabled(ColorMode mode, int fd) {
  if (mode == ColorMode::kAlways) return true;
  if (mode == ColorMode::kNever) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* t = std::getenv("TERM");
  if (t && std::strcmp(t, "dumb") == 0) return false;
  return is_tty(fd);
}

int terminal_width(int fd) {
  if (const char* c = std::getenv("COLUMNS")) {
    int w = std::atoi(c);
    if (w > 10) return w;
  }
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col;
  return 80;
}

std::string render(const ProgressState& s) {
  auto count = [&](double v) {
    return s.bytes ? units::format_bytes(v) : fmt::format("{}", static_cast<int64_t>(v));
  };
  double rate = s.elapsed_s > 0 ? static_cast<double>(s.done) / s.elapsed_s : 0;
  std::string rate_text = s.bytes ? units::format_rate(rate) : fmt::format("{:.0f}/s", rate);
  std::string right;
  if (s.total > 0) {
    double frac = std::min(1.0, static_cast<double>(s.done) / static_cast<double>(s.total));
    double eta = rate > 0 ? static_cast<double>(s.total - s.done) / rate : -1;
    right = fmt::format(" {:3.0f}% {}/{} {} ETA {}", frac * 100, count(static_cast<double>(s.done)),
                        count(static_cast<double>(s.total)), rate_text, units::format_clock(eta));
    if (!s.note.empty()) right += " " + s.note;
    std::string left = s.label.empty() ? "" : s.label + " ";
    int bar = s.width - 1 - static_cast<int>(left.size() + right.size()) - 2;
    if (bar < 5) return left + right.substr(1);
    bar = std::min(bar, 40);
    int fill = static_cast<int>(std::floor(frac * bar));
    return left + "[" + std::string(fill, '#') + std::string(bar - fill, '-') + "]" + right;
  }
  std::string line = fmt::format("{}{}{} {} {}", s.label, s.label.empty() ? "" : " ",
                                 count(static_cast<double>(s.done)), rate_text,
                                 units::format_clock(s.elapsed_s));
  if (static_cast<int>(line.size()) >= s.width) line.resize(std::max(0, s.width - 1));
  return line;
}

ProgressBar::ProgressBar(ProgressOptions options)
    : opt_(std::move(options)), start_(std::chrono::steady_clock::now()) {
  total_.store(opt_.total);
  active_ = !opt_.quiet && (opt_.force || is_tty(opt_.fd));
}

ProgressBar::~ProgressBar() {
  if (drawn_) {
    // Leave the terminal clean if we were interrupted before finish().
    static constexpr char kClear[] = "\r\033[K";
    (void)!::write(opt_.fd, kClear, sizeof kClear - 1);
  }
}

void ProgressBar::add(int64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (!active_) return;
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::steady_clock::now() - start_).count();
  int64_t last = last_draw_ns_.load(std::memory_order_relaxed);
  if (now - last < static_cast<int64_t>(opt_.min_interval_s * 1e9)) return;
  if (drawing_.test_and_set()) return;  // another thread is drawing
  last_draw_ns_.store(now);
  draw(false);
  drawing_.clear();
}

void ProgressBar::finish() {
  if (!active_) return;
  draw(true);
  drawn_ = false;
}

void ProgressBar::draw(bool final) {
  ProgressState s;
  s.label = opt_.label;
  s.done = done_.load();
  s.total = total_.load();
  s.bytes = opt_.bytes;
  s.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  s.width = terminal_width(opt_.fd);
  {
    std::lock_guard<std::mutex> l(note_mu_);
    s.note = note_;
  }
  std::string line = "\r" + render(s) + "\033[K";
  if (final) line += "\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t w = ::write(opt_.fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    p += w;
    left -= static_cast<size_t>(w);
  }
  drawn_ = true;
}

}  // namespace sciflow::term
