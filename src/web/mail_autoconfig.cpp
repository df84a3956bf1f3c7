#include "web/mail_autoconfig.h"

#include "web/xml_writer.h"

namespace touchpass::web {

namespace {

constexpr std::size_t kDocumentSize = 4096;

void server(XmlWriter& w, const char* element, const char* type, const MailServer& s,
            MailLogin login) {
  w.start(element);
  w.attribute("type", type, "server type");
  w.text_element("hostname", s.host, "server host");
  w.text_element("port", std::to_string(s.port), "server port");
  w.text_element("socketType", s.security == MailSecurity::ssl ? "SSL" : "STARTTLS", "socket type");
  w.text_element("username", login == MailLogin::address ? "%EMAILADDRESS%" : "%EMAILLOCALPART%",
                 "user name");
  w.text_element("authentication", "password-cleartext", "authentication");
  w.end();
}

}  // namespace

Result<std::string> mail_autoconfig(const MailSettings& mail) {
  auto w = XmlWriter::create(kDocumentSize);
  if (!w.ok()) return w.error();
  w->start("clientConfig");
  w->attribute("version", "1.1", "version");
  w->start("emailProvider");
  w->attribute("id", mail.domain, "mail domain");
  w->text_element("domain", mail.domain, "mail domain");
  w->text_element("displayName", "Mail at " + mail.domain, "display name");
  w->text_element("displayShortName", mail.domain, "short display name");
  server(*w, "incomingServer", "imap", mail.imap, mail.login);
  server(*w, "outgoingServer", "smtp", mail.smtp, mail.login);
  return w->finish();
}

}  // namespace touchpass::web
