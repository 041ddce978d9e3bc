#include "store/text_probe.h"

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>

#include "core/text.h"
#include "core/text_filter.h"

namespace wanllmdb {
namespace {

// FilteredRE2 drops atoms shorter than this (the regex then needs no atom from there).
constexpr int kMinAtomLen = 3;

void SortUnique(std::vector<uint32_t>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

TextProbe::~TextProbe() = default;

std::unique_ptr<const TextProbe> TextProbe::Make(std::string_view search,
                                                 const std::string& regex) {
  std::unique_ptr<TextProbe> p(new TextProbe());
  if (!search.empty()) {
    // Search is ASCII case-insensitive: the needle folds as the index does.
    AppendQueryTrigrams(AsciiLower(search), &p->search_);
    SortUnique(&p->search_);
  }
  if (!regex.empty()) {
    RE2::Options opts;  // as LineMatcher compiles it: UTF-8, case-sensitive unless (?i)
    opts.set_log_errors(false);
    opts.set_max_mem(64 << 20);
    auto f = std::make_unique<re2::FilteredRE2>(kMinAtomLen);
    int id = 0;
    if (f->Add(regex, opts, &id) == RE2::NoError) {
      std::vector<std::string> atoms;
      f->Compile(&atoms);
      p->atoms_.resize(atoms.size());
      for (size_t i = 0; i < atoms.size(); ++i) {
        // Atoms are lower-cased by FilteredRE2; only their ASCII trigrams are asked for, so a
        // non-ASCII atom (whose folding we do not share) is always "present".
        AppendQueryTrigrams(atoms[i], &p->atoms_[i]);
        SortUnique(&p->atoms_[i]);
      }
      // A regex whose filter is "no atoms needed" passes every chunk: not worth keeping.
      std::vector<int> all_absent, potentials;
      f->AllPotentials(all_absent, &potentials);
      bool can_skip = potentials.empty();
      if (can_skip) {
        p->regex_ = std::move(f);
      } else {
        p->atoms_.clear();
      }
    }
  }
  if (p->search_.empty() && !p->regex_) return nullptr;
  return p;
}

template <class HoldsAll>
bool TextProbe::Test(HoldsAll&& holds_all) const {
  if (!search_.empty() && !holds_all(search_.data(), search_.size())) return false;
  if (regex_) {
    std::vector<int> present;
    for (size_t i = 0; i < atoms_.size(); ++i) {
      if (holds_all(atoms_[i].data(), atoms_[i].size())) present.push_back(static_cast<int>(i));
    }
    std::vector<int> potentials;
    regex_->AllPotentials(present, &potentials);
    if (potentials.empty()) return false;
  }
  return true;
}

bool TextProbe::MayMatch(std::string_view filter) const {
  if (filter.empty()) return true;
  return Test([&](const uint32_t* h, size_t n) { return TextFilterMayHoldAll(filter, h, n); });
}

bool TextProbe::MayMatchBlock(std::string_view block_filter) const {
  if (block_filter.empty()) return true;
  return Test(
      [&](const uint32_t* h, size_t n) { return BlockFilterMayHoldAll(block_filter, h, n); });
}

}  // namespace wanllmdb
