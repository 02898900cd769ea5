// wfrun report: one self-contained HTML file for a run: a timeline of the steps
// (an inline SVG, no scripts, no external files) and a table of every step.
#include <fmt/core.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "exec/workflow.hpp"
#include "io/file.hpp"
#include "tools/wfrun/commands.hpp"

namespace sciflow::wfrun {

namespace fs = std::filesystem;

namespace {

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

double parse_iso(const std::string& t) {
  std::tm tm{};
  if (!strptime(t.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
  return static_cast<double>(timegm(&tm));
}

struct Row {
  std::string step, status = "running", host, reason, command;
  double start = -1, end = -1, wall = 0, cpu = 0;
  int64_t rss_kb = 0;
  int exit_code = 0, attempts = 0;
};

const char* colour(const std::string& status) {
  if (status == "ok") return "#2e7d32";
  if (status == "cached" || status == "skipped") return "#9e9e9e";
  if (status == "timeout") return "#ef6c00";
  return "#c62828";
}

}  // namespace

Status run_report(const ReportOptions& o, cli::Context& /*ctx*/) {
  std::string runs = exec::state_dir(o.dir) + "/runs";
  std::string file;
  if (!o.run.empty()) {
    file = runs + "/" + o.run + ".jsonl";
  } else {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(runs, ec)) files.push_back(e.path().string());
    if (files.empty()) return not_found(fmt::format("{}: no runs recorded", runs));
    std::sort(files.begin(), files.end());
    file = files.back();
  }
  ASSIGN_OR_RETURN(std::string text, io::read_file(file));
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  Json start, end;
  int lineno = 0;
  for (std::string_view line : io::split_lines(text)) {
    ++lineno;
    if (line.empty()) continue;
    ASSIGN_OR_RETURN(Json e, parse_json(line, file, lineno));
    std::string ev = e.value("event", "");
    double t = parse_iso(e.value("time", ""));
    if (ev == "run_start") start = e;
    if (ev == "run_end") end = e;
    std::string step = e.value("step", "");
    if (step.empty()) continue;
    if (!rows.count(step)) order.push_back(step);
    Row& r = rows[step];
    r.step = step;
    if (ev == "step_start" && r.start < 0) r.start = t, r.command = e.value("command", ""), r.host = e.value("host", "");
    if (ev == "step_cached") r.status = "cached", r.start = r.end = t;
    if (ev == "step_skipped") r.status = "skipped", r.start = r.end = t;
    if (ev == "step_end") {
      r.status = e.value("status", "");
      r.end = t;
      r.wall = e.value("wall_s", 0.0);
      r.cpu = e.value("cpu_s", 0.0);
      r.rss_kb = e.value("max_rss_kb", int64_t{0});
      r.exit_code = e.value("exit_code", 0);
      r.attempts = e.value("attempts", 0);
      r.reason = e.value("reason", "");
      if (r.start < 0) r.start = t;
      if (r.wall > 0 && r.end - r.wall < r.start) r.start = r.end - r.wall;
    }
  }
  if (start.is_null()) return invalid_argument(fmt::format("{}: not a wfrun event log (no run_start)", file));
  double t0 = parse_iso(start.value("time", ""));
  double t1 = t0;
  for (auto& [k, r] : rows) {
    // Event times have a resolution of 1 s; steps that ran get their measured length.
    if (r.end >= 0 && r.status != "cached" && r.status != "skipped" && r.wall > 0) r.end = std::max(r.end, r.start + r.wall);
    t1 = std::max(t1, std::max(r.end, r.start));
  }
  double span = std::max(1.0, t1 - t0);
  const int width = 900, label = 260, bar_h = 14, gap = 4;
  int height = static_cast<int>(order.size()) * (bar_h + gap) + 30;
  std::string svg = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n",
                                width + label + 20, height);
  for (int tick = 0; tick <= 10; ++tick) {
    double x = label + width * tick / 10.0;
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"0\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#eee\"/><text x=\"{:.1f}\" y=\"{}\" fill=\"#666\">{:.1f}s</text>\n",
                       x, x, height - 18, x, height - 4, span * tick / 10.0);
  }
  int y = 0;
  for (const auto& name : order) {
    const Row& r = rows[name];
    double a = r.start < 0 ? 0 : r.start - t0, b = r.end < 0 ? span : r.end - t0;
    double x = label + width * a / span, w = std::max(2.0, width * (b - a) / span);
    svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text><rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"><title>{} {}: {:.2f} s</title></rect>\n",
                       4, y + bar_h - 3, html_escape(name.size() > 40 ? name.substr(0, 37) + "..." : name), x, y, w, bar_h,
                       colour(r.status), html_escape(name), r.status, r.wall);
    y += bar_h + gap;
  }
  svg += "</svg>\n";
  std::string table = "<table>\n<tr><th>step</th><th>status</th><th>start (s)</th><th>wall (s)</th><th>CPU (s)</th><th>peak RSS</th><th>exit</th><th>attempts</th><th>host</th><th>reason</th></tr>\n";
  for (const auto& name : order) {
    const Row& r = rows[name];
    table += fmt::format("<tr><td title=\"{}\">{}</td><td style=\"color:{}\">{}</td><td>{:.0f}</td><td>{:.3f}</td><td>{:.3f}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                         html_escape(r.command), html_escape(name), colour(r.status), r.status, r.start < 0 ? 0.0 : r.start - t0, r.wall,
                         r.cpu, r.rss_kb ? fmt::format("{:.1f} MiB", r.rss_kb / 1024.0) : "", r.exit_code, r.attempts,
                         html_escape(r.host), html_escape(r.reason));
  }
  table += "</table>\n";
  std::string status = end.is_null() ? "did not finish (interrupted?)" : end.value("status", "");
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>wfrun report {}</title>\n"
      "<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 6px;font-size:12px}} th{{background:#f4f4f4}}</style>\n"
      "</head><body>\n<h1>wfrun run {}</h1>\n<p>pipeline <code>{}</code> in <code>{}</code> on {}; started {}; status <b>{}</b>; {} steps ran, {} cached, {} failed.</p>\n"
      "<h2>Timeline</h2>\n{}<h2>Steps</h2>\n{}</body></html>\n",
      html_escape(start.value("run", "")), html_escape(start.value("run", "")), html_escape(start.value("pipeline", "")),
      html_escape(start.value("workdir", "")), html_escape(start.value("host", "")), html_escape(start.value("time", "")),
      html_escape(status), end.value("ran", 0), end.value("cached", 0), end.value("failed", 0), svg, table);
  ASSIGN_OR_RETURN(auto out, io::AtomicOutput::create(o.output));
  RETURN_IF_ERROR(out.write(html));
  return out.commit();
}

}  // namespace sciflow::wfrun
