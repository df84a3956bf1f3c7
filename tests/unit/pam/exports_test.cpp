// pam_touchpass.so exports the PAM entry points and nothing else (pam-u2f's rule): a module
// loaded into every PAM-using service must not lend its internals — or the copies of the
// libraries it links statically — to the host process.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <set>
#include <sstream>
#include <string>

namespace touchpass::pam::testing {
namespace {

// The standard output of `command`.
std::string output_of(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return "";
  std::string text;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe.get())) text.append(buffer, n);
  return text;
}

TEST(PamExportsTest, TheModuleLoadsAndResolvesOnlyThePamEntryPoints) {
  void* module = ::dlopen(PAM_TOUCHPASS_MODULE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(module, nullptr) << ::dlerror();
  EXPECT_NE(::dlsym(module, "pam_sm_authenticate"), nullptr);
  EXPECT_NE(::dlsym(module, "pam_sm_setcred"), nullptr);
  // Not provided: PAM then refuses any stack that uses the module for these.
  for (const char* absent :
       {"pam_sm_acct_mgmt", "pam_sm_open_session", "pam_sm_close_session", "pam_sm_chauthtok"}) {
    EXPECT_EQ(::dlsym(module, absent), nullptr) << absent;
  }
  // Internal code: ours, and from the static libraries linked in.
  for (const char* internal : {
           "_ZN9touchpass3pam20parse_module_optionsESt4spanIKPKcLm18446744073709551615EESt17"
           "basic_string_viewIcSt11char_traitsIcEE",  // touchpass::pam::parse_module_options
           "_ZN9touchpass9code_nameENS_4CodeE",       // touchpass::code_name (touchpass_core)
           "_ZN9touchpass3ipc10read_frameEiRKNS0_10ReadLimitsE",  // touchpass::ipc::read_frame
       }) {
    EXPECT_EQ(::dlsym(module, internal), nullptr) << internal;
  }
  EXPECT_EQ(::dlclose(module), 0);
}

TEST(PamExportsTest, TheDynamicSymbolTableDefinesOnlyPamSmSymbols) {
  const std::string table =
      output_of(std::string("nm -D --defined-only '") + PAM_TOUCHPASS_MODULE + "' 2>&1");
  ASSERT_FALSE(table.empty());
  std::set<std::string> defined;
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    const auto name = line.substr(line.find_last_of(' ') + 1);
    defined.insert(name);
  }
  EXPECT_EQ(defined, (std::set<std::string>{"pam_sm_authenticate", "pam_sm_setcred"})) << table;
}

TEST(PamExportsTest, TheModuleDoesNotLinkTokenLibraries) {
  const std::string needed =
      output_of(std::string("readelf -d '") + PAM_TOUCHPASS_MODULE + "' 2>&1");
  ASSERT_NE(needed.find("NEEDED"), std::string::npos) << needed;
  EXPECT_EQ(needed.find("fido2"), std::string::npos) << needed;
  EXPECT_EQ(needed.find("ykpers"), std::string::npos) << needed;
  EXPECT_EQ(needed.find("libusb"), std::string::npos) << needed;
}

}  // namespace
}  // namespace touchpass::pam::testing
