// The panel of a password just made or shown again (#password-panel): the password in its
// groups, Copy, and a phone setup's QR code (qr.js) with its link, until Done (or sign-out) wipes
// them. The password lives here only while it is on show.
"use strict";

const TouchpassPasswordPanel = (() => {
  const { $, say, alarm, dateTime } = TouchpassPage;
  let password = "";

  function showPassword(name, secret) {
    const bytes = TouchpassWebAuthn.fromBase64url(secret);
    password = new TextDecoder().decode(bytes);
    bytes.fill(0);
    $("password-name").textContent = name;
    // In its groups ("abcd-efgh-…"), each kept on one line; the text stays exactly the password.
    const groups = password.split("-");
    $("password-text").replaceChildren(
      ...groups.map((group, i) => {
        const span = document.createElement("span");
        span.className = "group";
        span.textContent = i < groups.length - 1 ? group + "-" : group;
        return span;
      }),
    );
    $("password-panel").hidden = false;
    $("password-panel").scrollIntoView({ block: "start" });
    $("copy-button").focus();
  }

  function wipePassword() {
    password = "";
    $("password-text").textContent = "";
    $("password-name").textContent = "";
    $("password-panel").hidden = true;
    TouchpassQr.clear($("phone-qr"));
    $("phone-link").textContent = "";
    $("phone-expires").textContent = "";
    $("phone-panel").hidden = true;
  }

  // The phone setup of an issue or show asked with phone_setup: its QR code under the password,
  // or why there is none (the password itself was still made and is shown).
  function showPhoneSetup(result) {
    const setup = result.phone_setup;
    if (typeof result.phone_setup_error === "string") {
      alarm("No phone setup: " + result.phone_setup_error);
      return;
    }
    if (!setup || typeof setup.link !== "string") return;
    if (!TouchpassQr.draw($("phone-qr"), setup.qr)) {
      alarm(
        "The QR code cannot be shown" +
          (typeof setup.qr_error === "string" ? ": " + setup.qr_error : ".") +
          " Open the link below on the phone instead.",
      );
    }
    $("phone-link").textContent = setup.link;
    $("phone-expires").textContent = Number.isFinite(setup.expires)
      ? "until " + dateTime(setup.expires)
      : "for a few minutes";
    $("phone-panel").hidden = false;
  }

  function copyPassword() {
    if (!password) return;
    navigator.clipboard.writeText(password).then(
      () => say("The password was copied."),
      () => alarm("The browser did not allow copying. Select the password and copy it by hand."),
    );
  }

  // Shows the password `name` (base64url `secret`) and the phone setup of `result`, if any.
  function show(name, secret, result) {
    showPassword(name, secret);
    showPhoneSetup(result);
  }

  return { show, wipe: wipePassword, copy: copyPassword };
})();
