// The PostgreSQL password file (store_opening.h): only touchpassd's user may read it, and only
// its first line is the password.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/store_opening.h"

namespace touchpass::daemon {
namespace {

namespace fs = std::filesystem;

class PasswordFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("touchpass-password-file-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& content, mode_t mode) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    ::chmod(p.c_str(), mode);
    return p;
  }
  fs::path dir_;
};

TEST_F(PasswordFileTest, TheFirstLineIsThePassword) {
  auto read = read_password_file(write("p", "s3cret pass\nsecond line\n", 0600));
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->view(), "s3cret pass");
  auto crlf = read_password_file(write("q", "s3cret\r\n", 0400));
  ASSERT_TRUE(crlf.ok());
  EXPECT_EQ(crlf->view(), "s3cret");
  auto no_newline = read_password_file(write("r", "s3cret", 0600));
  ASSERT_TRUE(no_newline.ok());
  EXPECT_EQ(no_newline->view(), "s3cret");
}

TEST_F(PasswordFileTest, AFileOthersMayReadAnEmptyOneOrNoFileIsRefusedSayingWhy) {
  auto shared = read_password_file(write("p", "s3cret\n", 0640));
  ASSERT_FALSE(shared.ok());
  EXPECT_EQ(shared.code(), Code::invalid_argument);
  EXPECT_NE(shared.error().message.find("0600"), std::string::npos);
  EXPECT_EQ(shared.error().message.find("s3cret"), std::string::npos);
  auto empty = read_password_file(write("e", "\nsecond\n", 0600));
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  EXPECT_EQ(read_password_file(dir_ / "missing").code(), Code::io_error);
  EXPECT_EQ(read_password_file(dir_).code(), Code::invalid_argument);  // a directory
  const fs::path link = dir_ / "link";
  fs::create_symlink(write("t", "s3cret\n", 0600), link);
  EXPECT_EQ(read_password_file(link).code(), Code::io_error);  // links are not followed
  auto long_line = read_password_file(write("l", std::string(2000, 'x'), 0600));
  EXPECT_EQ(long_line.code(), Code::invalid_argument);
}

}  // namespace
}  // namespace touchpass::daemon
