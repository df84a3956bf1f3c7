// The daemon parses every client message with Request::parse; clients parse the daemon's
// answers with Reply::parse.
#include "fuzz.h"
#include "ipc/frame.h"
#include "ipc/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto request = touchpass::ipc::Request::parse(text);
  if (request.ok()) (void)touchpass::ipc::Request::parse(request->to_json());
  (void)touchpass::ipc::Reply::parse(text);
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  return {
      R"({"v":1,"op":"issue","name":"thunderbird","scopes":["imap","smtp"],"expires":1779552000})",
      R"({"v":1,"op":"revoke","token":"blue key"})",
      R"({"v":1,"op":"verify","user":"alice","service":"imap","remote":"192.0.2.1"})",
      R"({"v":1,"op":"log","limit":10,"verify":true,"user":"bob","all_users":true})",
      R"({"v":1,"op":"invite","user":"carol","expires":1779552000})",
      R"({"v":1,"op":"signin-begin","user":"alice","remote":"2001:db8::1"})",
      R"({"v":1,"op":"enroll-begin","invitation":true,"label":"web key","remote":"192.0.2.9"})",
      R"({"v":1,"op":"session"})",
      R"({"v":1,"event":"need-pin","retries":7})",
      R"({"v":1,"ok":false,"error":{"code":"pin_invalid","message":"Wrong PIN.","retries":6}})",
      R"({"v":1,"ok":true,"result":{"grants":[{"name":"x","scopes":[]}]}})",
      R"([[[[[[[[[[[[[[[[{"v":1}]]]]]]]]]]]]]]]])",
  };
}

// A message is a frame's JSON part.
std::size_t fuzz_max_len() {
  return touchpass::ipc::kMaxJsonSize;
}
