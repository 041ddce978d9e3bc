// The one file that includes CLI11 (flags.h says why). Each function forwards to the CLI11 call
// the subcommands used to make themselves, with the same argument types, so the same template
// instantiations (type names in help, conversions, validators) result.
#include "cli/flags.h"

#include <CLI/CLI.hpp>

namespace wanllmdb::flags {

Option Option::required() {
  return Option(option_->required());
}
Option Option::capture_default_str() {
  return Option(option_->capture_default_str());
}

Option Option::check(const Range& r) {
  switch (r.type) {
    case Range::Type::kInt:
      return Option(
          option_->check(CLI::Range(static_cast<int>(r.int_lo), static_cast<int>(r.int_hi))));
    case Range::Type::kInt64:
      return Option(option_->check(CLI::Range(r.int_lo, r.int_hi)));
    case Range::Type::kDouble:
      break;
  }
  return Option(option_->check(CLI::Range(r.lo, r.hi)));
}

Option Option::check(const IsMember& m) {
  return Option(option_->check(CLI::IsMember(m.values)));
}
Option Option::check(NonNegative) {
  return Option(option_->check(CLI::NonNegativeNumber));
}
Option Option::expected(int min, int max) {
  return Option(option_->expected(min, max));
}
Option Option::envname(const std::string& variable) {
  return Option(option_->envname(variable));
}
Option Option::take_all() {
  return Option(option_->take_all());
}
size_t Option::count() const {
  return option_->count();
}

Command Command::add_subcommand(const std::string& name, const std::string& description) {
  return Command(app_->add_subcommand(name, description));
}
void Command::require_subcommand(int count) {
  app_->require_subcommand(count);
}
void Command::callback(std::function<void()> fn) {
  app_->callback(std::move(fn));
}
void Command::set_version_flag(const std::string& name, const std::string& version) {
  app_->set_version_flag(name, version);
}

Option Command::add_option(const std::string& name, std::string& into,
                           const std::string& description) {
  return Option(app_->add_option(name, into, description));
}
Option Command::add_option(const std::string& name, int& into, const std::string& description) {
  return Option(app_->add_option(name, into, description));
}
Option Command::add_option(const std::string& name, int64_t& into, const std::string& description) {
  return Option(app_->add_option(name, into, description));
}
Option Command::add_option(const std::string& name, double& into, const std::string& description) {
  return Option(app_->add_option(name, into, description));
}
Option Command::add_option(const std::string& name, std::vector<std::string>& into,
                           const std::string& description) {
  return Option(app_->add_option(name, into, description));
}
Option Command::add_option(const std::string& name, std::optional<std::string>& into,
                           const std::string& description) {
  return Option(app_->add_option(name, into, description));
}
Option Command::add_flag(const std::string& name, bool& into, const std::string& description) {
  return Option(app_->add_flag(name, into, description));
}

CommandLine::CommandLine(const std::string& description)
    : app_(std::make_unique<CLI::App>(description)) {}
CommandLine::~CommandLine() = default;

Command CommandLine::root() {
  return Command(app_.get());
}

std::optional<int> CommandLine::parse(int argc, char** argv) {
  try {
    app_->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app_->exit(e);
  }
  return std::nullopt;
}

}  // namespace wanllmdb::flags
