#include "web/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/virtual_token.h"

namespace touchpass::web {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "static";
    fs::create_directories(root_ / "img");
    std::ofstream(root_ / "index.html") << "<!DOCTYPE html>";
    std::ofstream(root_ / "app.js") << "\"use strict\";";
    std::ofstream(root_ / "img" / "logo.svg") << "<svg/>";
    std::ofstream(root_ / "img" / "index.html") << "img index";
    std::ofstream(root_ / ".hidden.txt") << "hidden";
    std::ofstream(root_ / "notes.md") << "no type";
    std::ofstream(dir_.path() / "secret.txt") << "outside";
    fs::create_symlink(dir_.path() / "secret.txt", root_ / "escape.txt");
    fs::create_symlink("index.html", root_ / "inside.html");
    fs::create_directory_symlink(dir_.path(), root_ / "up");
    fs::create_directory(root_ / "dir.html");
    auto files = StaticFiles::open(root_);
    ASSERT_TRUE(files.ok()) << files.error().message;
    files_.emplace(std::move(*files));
  }

  std::string read(StaticFile& file) {
    std::string text(file.size, '\0');
    EXPECT_EQ(::read(file.fd.get(), text.data(), text.size()), static_cast<ssize_t>(file.size));
    return text;
  }

  testing::TempDir dir_;
  fs::path root_;
  std::optional<StaticFiles> files_;
};

TEST_F(StaticFilesTest, ServesFilesWithTheirContentType) {
  auto index = files_->find("/");
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(read(*index), "<!DOCTYPE html>");
  auto js = files_->find("/app.js");
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  auto svg = files_->find("/img/logo.svg");
  ASSERT_TRUE(svg.ok());
  EXPECT_EQ(svg->content_type, "image/svg+xml");
  auto sub_index = files_->find("/img/");
  ASSERT_TRUE(sub_index.ok());
  EXPECT_EQ(read(*sub_index), "img index");
}

TEST_F(StaticFilesTest, RefusesEverythingOutsideOrUnusual) {
  for (const char* path :
       {"/../secret.txt", "/img/../index.html", "/./index.html", "//index.html", "/escape.txt",
        "/inside.html", "/up/secret.txt", "/dir.html", "/.hidden.txt", "/notes.md", "/missing.html",
        "index.html", "/img", "/img%2Flogo.svg", "/index.html\\", "/a/b/c/d/e/f/g/h/i.js"}) {
    auto file = files_->find(path);
    ASSERT_FALSE(file.ok()) << path;
    EXPECT_EQ(file.code(), Code::not_found) << path;
  }
  EXPECT_FALSE(files_->find(std::string_view("/index.html\0.js", 15)).ok());
}

TEST(StaticFiles, OpeningAMissingDirectoryIsAnError) {
  auto files = StaticFiles::open("/nonexistent/touchpass/static");
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.code(), Code::io_error);
}

TEST(ContentType, KnowsOnlyTheListedExtensions) {
  EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("favicon.ico"), "image/vnd.microsoft.icon");
  EXPECT_EQ(content_type_for("logo.png"), "image/png");
  EXPECT_EQ(content_type_for(".css"), "");
  EXPECT_EQ(content_type_for("a.php"), "");
  EXPECT_EQ(content_type_for("a.html.bak"), "");
}

}  // namespace
}  // namespace touchpass::web
