// The phone-setup page (issue 14), opened from the QR code of `touchpass issue --phone` or the
// self-service page: /setup.html#TOKEN. The token leaves the address bar at once. The user
// chooses how the device takes the app password, which touchpassd gives out once:
// - an Apple configuration profile: GET /setup/profile?token=TOKEN (the browser downloads it);
// - the settings and the password shown here: POST /api/v1/phone-setup {secret: TOKEN}.
// Everything from the server is put in as text, never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const token = location.hash.slice(1);
  history.replaceState(null, "", location.pathname);

  function show(view) {
    for (const id of ["choose-view", "settings-view", "done-view"]) $(id).hidden = id !== view;
  }

  function alarm(text) {
    $("alarm").textContent = text;
    $("alarm").hidden = !text;
  }

  function server(s) {
    if (!s || typeof s.host !== "string") return "";
    const security = s.security === "starttls" ? "STARTTLS" : "SSL/TLS";
    return s.host + ", port " + s.port + ", " + security + ", normal password";
  }

  async function showSettings() {
    $("settings-button").disabled = true;
    try {
      const result = await TouchpassApi.post("phone-setup", { secret: token });
      const mail = result.mail || {};
      const bytes = Uint8Array.from(atob(result.secret.replace(/-/g, "+").replace(/_/g, "/")), (c) =>
        c.charCodeAt(0),
      );
      $("setting-address").textContent = mail.address || "";
      $("setting-login").textContent = mail.login || "";
      $("setting-password").textContent = new TextDecoder().decode(bytes);
      $("setting-imap").textContent = server(mail.imap);
      $("setting-smtp").textContent = server(mail.smtp);
      alarm("");
      show("settings-view");
    } catch (error) {
      alarm(error.message || String(error));
    } finally {
      $("settings-button").disabled = false;
    }
  }

  function start() {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) {
      alarm(
        "This setup link is not complete. Scan the QR code again, or make a new link on the " +
          "computer with `touchpass show NAME --phone`.",
      );
      return;
    }
    $("profile-link").href = "/setup/profile?token=" + token;
    $("profile-link").addEventListener("click", () => setTimeout(() => show("done-view"), 500));
    $("settings-button").addEventListener("click", showSettings);
    show("choose-view");
  }

  start();
})();
