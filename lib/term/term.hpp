// term: terminal detection, colour, and a progress bar.
//
// Colour follows --color=auto|always|never; auto means "stderr is a tty, NO_COLOR
// is unset or empty, and TERM is not 'dumb'". Progress bars draw only on a tty
// and never with -q; on anything else they stay silent, so that logs and pipes
// carry no control characters.
// Thread safety: ProgressBar::add() may be called from any thread; the other
// members from the owning thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace sciflow::term {

enum class ColorMode { kAuto, kAlways, kNever };

// True if `fd` refers to a terminal.
bool is_tty(int fd);

// True if colour should be used on `fd` under `mode` and the environment.
bool color_enabled(ColorMode mode, int fd);

// Columns of the terminal on `fd` (COLUMNS if set, else ioctl, else 80).
int terminal_width(int fd);

struct ProgressOptions {
  std::string label;    // shown before the bar, e.g. "compress"
  int64_t total = 0;    // units of work; 0 or less: unknown (spinner-style counter)
  bool bytes = true;    // format counts and rate as bytes (else plain counts)
  int fd = 2;           // where to draw
  bool quiet = false;   // -q
  bool force = false;   // draw even when fd is not a tty (tests of the renderer)
  double min_interval_s = 0.1;  // redraw at most this often
};

// What one line of the bar shows; render() is pure so that it can be tested.
struct ProgressState {
  std::string label;
  int64_t done = 0;
  int64_t total = 0;
  bool bytes = true;
  double elapsed_s = 0;
  int width = 80;
  std::string note;  // appended, e.g. "loss 0.512"
};
std::string render(const ProgressState& s);

class ProgressBar {
 public:
  explicit ProgressBar(ProgressOptions options);
  ~ProgressBar();  // clears the line if anything was drawn
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool active() const { return active_; }
  void set_total(int64_t total) { total_.store(total); }
  // Adds `n` units and redraws if the interval has passed (cheap when inactive).
  void add(int64_t n);
  // Text shown after the counts, e.g. a training loss or "3/10 files" (any thread).
  void set_note(std::string note) {
    std::lock_guard<std::mutex> l(note_mu_);
    note_ = std::move(note);
  }
  int64_t done() const { return done_.load(); }
  // Draws the final state and moves to a new line.
  void finish();

 private:
  void draw(bool final);

  ProgressOptions opt_;
  bool active_ = false;
  bool drawn_ = false;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> total_{0};
  std::atomic<int64_t> last_draw_ns_{0};
  std::atomic_flag drawing_ = ATOMIC_FLAG_INIT;
  std::chrono::steady_clock::time_point start_;
  std::mutex note_mu_;
  std::string note_;
};

}  // namespace sciflow::term
