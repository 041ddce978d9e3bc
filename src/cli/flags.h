// flags: the command-line API the subcommands register their options on — a thin wrapper over
// CLI11 so that only flags.cpp includes <CLI/CLI.hpp>. CLI11 is header-only and generating its
// inline code cost ~18 s of compile time in every file that included it (a PCH does not help:
// it is code generation, not parsing). Here every overload is a plain function compiled once in
// flags.cpp, which calls the very CLI11 template the call sites used to, with the same argument
// types: help text, defaults shown, error messages and exit codes stay CLI11's own.
//
// The methods keep CLI11's names so the call sites read like CLI11's documentation. Only what
// src/cli uses is here; add an overload in flags.cpp when a new option type or check is needed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace wanllmdb::flags {

// check(): the value must lie in [lo, hi] — CLI::Range of the same type, which matters: its help
// says INT or FLOAT, it parses the value as that type (1.5 fails an int range even on a double
// option) and its error prints the bounds that way. Thread-safety: a value type.
struct Range {
  enum class Type { kInt, kInt64, kDouble };
  Range(int lo, int hi) : type(Type::kInt), int_lo(lo), int_hi(hi) {}
  Range(int64_t lo, int64_t hi) : type(Type::kInt64), int_lo(lo), int_hi(hi) {}
  Range(double lo, double hi) : type(Type::kDouble), lo(lo), hi(hi) {}

  Type type;
  int64_t int_lo = 0, int_hi = 0;  // kInt, kInt64
  double lo = 0, hi = 0;           // kDouble
};

// check(): the value must be one of these (CLI::IsMember). Thread-safety: a value type.
struct IsMember {
  IsMember(std::initializer_list<std::string> members) : values(members) {}
  std::vector<std::string> values;
};

// check(): CLI::NonNegativeNumber (a number >= 0). Thread-safety: a constant.
struct NonNegative {};
inline constexpr NonNegative NonNegativeNumber{};

// One option or flag of a Command: a handle on the CLI::Option its CLI::App owns (it lives as
// long as the CommandLine). The modifiers return the option so they chain as in CLI11.
// Thread-safety: like CLI11, set up, parse and read on one thread.
class Option {
 public:
  explicit Option(CLI::Option* option) : option_(option) {}

  Option required();
  Option capture_default_str();  // help shows the variable's value before parsing as default
  Option check(const Range& range);
  Option check(const IsMember& members);
  Option check(NonNegative);
  Option expected(int min, int max);            // how many values it takes (max -1: no limit)
  Option envname(const std::string& variable);  // the environment fills it when not given
  Option take_all();  // keeps every value given: a repeated option appends (TakeAll policy)
  // How often it was given (with envname, 1 when only the environment set it). After parsing.
  size_t count() const;

 private:
  CLI::Option* option_;
};

// A command or subcommand: a handle on a CLI::App (owned by its parent, the root by the
// CommandLine). The variables options write into must outlive parsing.
// Thread-safety: like CLI11, set up and parse on one thread.
class Command {
 public:
  explicit Command(CLI::App* app) : app_(app) {}

  Command add_subcommand(const std::string& name, const std::string& description);
  void require_subcommand(int count);  // parsing fails unless `count` (> 0) subcommands are given
  // Runs when parsing chose this command (after its options are set).
  void callback(std::function<void()> fn);
  void set_version_flag(const std::string& name, const std::string& version);

  // `name` as in CLI11: "-o,--output" for an option, "file" for a positional.
  Option add_option(const std::string& name, std::string& into, const std::string& description);
  Option add_option(const std::string& name, int& into, const std::string& description);
  Option add_option(const std::string& name, int64_t& into, const std::string& description);
  Option add_option(const std::string& name, double& into, const std::string& description);
  Option add_option(const std::string& name, std::vector<std::string>& into,
                    const std::string& description);
  // Unset when not given (which a default value could not tell apart from given).
  Option add_option(const std::string& name, std::optional<std::string>& into,
                    const std::string& description);
  // "--x" sets true; "!--no-x" sets false; both forms may share one flag ("--x,!--no-x").
  Option add_flag(const std::string& name, bool& into, const std::string& description);

 private:
  CLI::App* app_;
};

// The whole command line: owns the root CLI::App and parses with CLI11_PARSE's semantics.
// Thread-safety: one thread.
class CommandLine {
 public:
  explicit CommandLine(const std::string& description);
  ~CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  Command root();
  // Parses argv, running the chosen commands' callbacks. nullopt then; otherwise parsing ended
  // the program (--help, --version, a usage error: CLI11 printed the text) and this is the exit
  // status main returns, as CLI11_PARSE's `return app.exit(e)`.
  std::optional<int> parse(int argc, char** argv);

 private:
  std::unique_ptr<CLI::App> app_;
};

}  // namespace wanllmdb::flags
