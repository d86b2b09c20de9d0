// HTTP connection manager access_log entries -> accesslog::AccessLog: the file logger, its
// format (text, text_format_source.inline_string, typed or untyped JSON; Envoy's default when
// none is given), and its filter. Whatever else is set is an error naming its path.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "proxy/snapshot/compile_internal.h"

namespace trellis::proxy::compile_internal {

namespace {

namespace alv3 = envoy::config::accesslog::v3;
using FileAccessLog = envoy::extensions::access_loggers::file::v3::FileAccessLog;
using accesslog::JsonTemplate;
using accesslog::LogFilter;

std::string msg(const absl::Status& st) { return std::string(st.message()); }

// Envoy's response flag names; those Trellis sets map to its bits, the others never match.
struct FlagName {
  const char* name;
  int trellis;  // ResponseFlag, or -1: Trellis never sets it
};
constexpr FlagName kFlags[] = {
    {"LH", -1}, {"UH", static_cast<int>(ResponseFlag::UH)}, {"UT", static_cast<int>(ResponseFlag::UT)},
    {"LR", -1}, {"UR", -1}, {"UF", static_cast<int>(ResponseFlag::UF)}, {"UC", static_cast<int>(ResponseFlag::UC)},
    {"UO", static_cast<int>(ResponseFlag::UO)}, {"NR", static_cast<int>(ResponseFlag::NR)},
    {"DI", static_cast<int>(ResponseFlag::DI)}, {"FI", -1}, {"RL", -1}, {"UAEX", -1}, {"RLSE", -1},
    {"DC", static_cast<int>(ResponseFlag::DC)}, {"URX", static_cast<int>(ResponseFlag::URX)},
    {"SI", static_cast<int>(ResponseFlag::SI)}, {"IH", -1}, {"DPE", static_cast<int>(ResponseFlag::DPE)},
    {"UMSDR", static_cast<int>(ResponseFlag::UMSDR)}, {"RFCF", -1}, {"NFCF", -1}, {"DT", -1},
    {"UPE", static_cast<int>(ResponseFlag::UPE)}, {"NC", static_cast<int>(ResponseFlag::NC)}, {"OM", -1},
    {"DF", -1}, {"DO", -1}, {"DR", -1}, {"UDO", -1},
};

absl::StatusOr<LogFilter::Op> comparisonOp(const alv3::ComparisonFilter& c, const std::string& path) {
  if (auto st = onlyFields(c, path, {"op", "value"}); !st.ok()) return st;
  if (c.has_value()) {
    // runtime_key is accepted for Envoy configs, but Trellis has no runtime: default_value applies.
    if (auto st = onlyFields(c.value(), join(path, "value"), {"default_value", "runtime_key"}); !st.ok()) return st;
  }
  switch (c.op()) {
    case alv3::ComparisonFilter::EQ: return LogFilter::Op::Eq;
    case alv3::ComparisonFilter::GE: return LogFilter::Op::Ge;
    case alv3::ComparisonFilter::LE: return LogFilter::Op::Le;
    default: break;
  }
  return invalid(join(path, "op"), absl::StrCat(static_cast<int>(c.op()), " is not an operator (EQ, GE and LE are)"));
}

absl::StatusOr<LogFilter> compileFilter(const alv3::AccessLogFilter& f, const std::string& path) {
  if (auto st = onlyFields(f, path, {"status_code_filter", "duration_filter", "response_flag_filter",
                                     "not_health_check_filter", "and_filter", "or_filter"});
      !st.ok()) {
    return st;
  }
  LogFilter out;
  switch (f.filter_specifier_case()) {
    case alv3::AccessLogFilter::kStatusCodeFilter:
    case alv3::AccessLogFilter::kDurationFilter: {
      const bool status = f.has_status_code_filter();
      const std::string p = join(path, status ? "status_code_filter" : "duration_filter");
      const auto& m = status ? f.status_code_filter().comparison() : f.duration_filter().comparison();
      const bool has = status ? f.status_code_filter().has_comparison() : f.duration_filter().has_comparison();
      if (!has) return invalid(join(p, "comparison"), "a comparison is required");
      auto op = comparisonOp(m, join(p, "comparison"));
      if (!op.ok()) return op.status();
      out.kind = status ? LogFilter::Kind::StatusCode : LogFilter::Kind::Duration;
      out.op = *op;
      out.value = m.value().default_value();
      return out;
    }
    case alv3::AccessLogFilter::kResponseFlagFilter: {
      out.kind = LogFilter::Kind::ResponseFlag;
      const auto& flags = f.response_flag_filter().flags();
      out.any_flag = flags.empty();
      for (int i = 0; i < flags.size(); ++i) {
        const auto* known = std::find_if(std::begin(kFlags), std::end(kFlags),
                                         [&](const FlagName& n) { return flags[i] == n.name; });
        if (known == std::end(kFlags)) {
          std::vector<std::string> all;
          for (const auto& n : kFlags) all.emplace_back(n.name);
          return invalid(absl::StrCat(path, ".response_flag_filter.flags[", i, "]"),
                         absl::StrCat("'", flags[i], "' is not a response flag (", absl::StrJoin(all, ", "), ")"));
        }
        if (known->trellis >= 0) out.flag_mask |= 1u << known->trellis;
      }
      return out;
    }
    case alv3::AccessLogFilter::kNotHealthCheckFilter:
      // Trellis has no health check filter, so no request is a health check: every one passes.
      out.kind = LogFilter::Kind::NotHealthCheck;
      return out;
    case alv3::AccessLogFilter::kAndFilter:
    case alv3::AccessLogFilter::kOrFilter: {
      const bool all = f.has_and_filter();
      const std::string p = join(path, all ? "and_filter" : "or_filter");
      const auto& children = all ? f.and_filter().filters() : f.or_filter().filters();
      if (children.size() < 2) return invalid(join(p, "filters"), "at least two filters are required");
      out.kind = all ? LogFilter::Kind::And : LogFilter::Kind::Or;
      for (int i = 0; i < children.size(); ++i) {
        auto c = compileFilter(children[i], absl::StrCat(p, ".filters[", i, "]"));
        if (!c.ok()) return c.status();
        out.children.push_back(std::move(*c));
      }
      return out;
    }
    default:
      break;
  }
  return invalid(path, "one filter is required (status_code_filter, duration_filter, response_flag_filter, "
                       "not_health_check_filter, and_filter or or_filter)");
}

absl::StatusOr<std::vector<JsonTemplate>> jsonTemplate(const google::protobuf::Struct& s, const std::string& path) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : s.fields()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());  // a Struct is a map: print its keys in a stable order
  std::vector<JsonTemplate> out;
  for (const auto& k : keys) {
    const auto& v = s.fields().at(k);
    JsonTemplate t;
    t.key = k;
    switch (v.kind_case()) {
      case google::protobuf::Value::kStringValue:
        t.kind = JsonTemplate::Kind::Format;
        t.text = v.string_value();
        break;
      case google::protobuf::Value::kNumberValue:
        t.kind = JsonTemplate::Kind::Number;
        t.number = v.number_value();
        break;
      case google::protobuf::Value::kBoolValue:
        t.kind = JsonTemplate::Kind::Bool;
        t.boolean = v.bool_value();
        break;
      case google::protobuf::Value::kStructValue: {
        auto c = jsonTemplate(v.struct_value(), join(path, k));
        if (!c.ok()) return c.status();
        t.kind = JsonTemplate::Kind::Object;
        t.children = std::move(*c);
        break;
      }
      case google::protobuf::Value::kNullValue:
        t.kind = JsonTemplate::Kind::Null;
        break;
      default:
        return invalid(join(path, k), "a list is not supported in a format dictionary (strings, numbers, booleans, "
                                      "null and nested dictionaries are)");
    }
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<accesslog::Formatter> compileFormat(const FileAccessLog& f, const std::string& path,
                                                   accesslog::HeaderNames& headers) {
  using accesslog::Formatter;
  auto wrap = [&](absl::StatusOr<Formatter> r, const std::string& p) -> absl::StatusOr<Formatter> {
    if (!r.ok()) return invalid(p, msg(r.status()));
    return r;
  };
  switch (f.access_log_format_case()) {
    case FileAccessLog::kFormat:
      return wrap(Formatter::text(f.format(), headers), join(path, "format"));
    case FileAccessLog::kJsonFormat:
    case FileAccessLog::kTypedJsonFormat: {
      const bool typed = f.has_typed_json_format();
      const std::string p = join(path, typed ? "typed_json_format" : "json_format");
      auto t = jsonTemplate(typed ? f.typed_json_format() : f.json_format(), p);
      if (!t.ok()) return t.status();
      return wrap(Formatter::json(*t, headers, typed), p);
    }
    case FileAccessLog::kLogFormat: {
      const auto& lf = f.log_format();
      const std::string p = join(path, "log_format");
      // content_type is accepted: it names the type of a local reply body and means nothing to a file.
      if (auto st = onlyFields(lf, p, {"text_format", "json_format", "text_format_source", "omit_empty_values",
                                       "content_type"});
          !st.ok()) {
        return st;
      }
      const bool omit = lf.omit_empty_values();
      if (lf.has_json_format()) {
        auto t = jsonTemplate(lf.json_format(), join(p, "json_format"));
        if (!t.ok()) return t.status();
        return wrap(Formatter::json(*t, headers, true, omit), join(p, "json_format"));
      }
      if (lf.has_text_format_source()) {
        const std::string sp = join(p, "text_format_source");
        if (auto st = onlyFields(lf.text_format_source(), sp, {"inline_string"}); !st.ok()) return st;
        if (!lf.text_format_source().has_inline_string()) return invalid(sp, "inline_string is required");
        return wrap(Formatter::text(lf.text_format_source().inline_string(), headers, omit), join(sp, "inline_string"));
      }
      if (lf.format_case() == envoy::config::core::v3::SubstitutionFormatString::kTextFormat) {
        return wrap(Formatter::text(lf.text_format(), headers, omit), join(p, "text_format"));
      }
      return invalid(p, "one of text_format, text_format_source or json_format is required");
    }
    default:
      break;
  }
  return Formatter::text(accesslog::kDefaultFormat, headers);
}

}  // namespace

absl::StatusOr<std::vector<std::shared_ptr<const accesslog::AccessLog>>> compileAccessLogs(
    const google::protobuf::RepeatedPtrField<alv3::AccessLog>& logs, const std::string& path,
    accesslog::HeaderNames& headers, accesslog::LogFiles* log_files) {
  std::vector<std::shared_ptr<const accesslog::AccessLog>> out;
  for (int i = 0; i < logs.size(); ++i) {
    const std::string lp = absl::StrCat(path, "[", i, "]");
    const auto& l = logs[i];
    if (auto st = onlyFields(l, lp, {"name", "filter", "typed_config"}); !st.ok()) return st;
    const std::string tp = join(lp, "typed_config");
    FileAccessLog f;
    if (!l.has_typed_config() || !l.typed_config().UnpackTo(&f)) {
      return invalid(tp, absl::StrCat("only the file access logger (type.googleapis.com/",
                                      FileAccessLog::descriptor()->full_name(), ") is supported, got ",
                                      l.has_typed_config() ? l.typed_config().type_url() : "nothing"));
    }
    if (auto st = onlyFields(f, tp, {"path", "format", "json_format", "typed_json_format", "log_format"}); !st.ok()) {
      return st;
    }
    if (f.path().empty()) return invalid(join(tp, "path"), "a path is required (a file, /dev/stdout or /dev/stderr)");
    auto entry = std::make_shared<accesslog::AccessLog>();
    if (l.has_filter()) {
      auto filter = compileFilter(l.filter(), join(lp, "filter"));
      if (!filter.ok()) return filter.status();
      entry->filter = std::move(*filter);
    }
    auto format = compileFormat(f, tp, headers);
    if (!format.ok()) return format.status();
    entry->format = std::move(*format);
    if (log_files) {
      auto sink = log_files->open(f.path());
      if (!sink.ok()) return invalid(join(tp, "path"), msg(sink.status()));
      entry->sink = std::move(*sink);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace trellis::proxy::compile_internal
