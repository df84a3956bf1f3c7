// The touchpass self-service page: enroll a first key from an invitation (ORIGIN/#invite=CODE),
// sign in with a security key, and then make, show and revoke app passwords, manage keys and read
// one's activity. It speaks only the JSON API (api.js, src/web/API.md) and WebAuthn
// (webauthn.js), and shows things through page.js (messages, cells, buttons, the confirmation
// dialog) and password_panel.js (a new or shown password, a phone's QR code); data from the
// server reaches the DOM only as textContent.
//
// Stable element ids (the end-to-end tests use them):
//   views       #loading, #enroll-view, #signin-view, #signed-in-view; <html data-ready="true">
//               once the first view is shown
//   messages    #status (polite live region), #alert (assertive, errors)
//   header      #user-bar, #user-name, #signout-button
//   invitation  #enroll-form, #enroll-user, #enroll-label, #enroll-uv, #enroll-button,
//               #enroll-to-signin
//   sign in     #signin-form, #signin-user, #signin-button
//   password    #password-panel, #password-name, #password-text, #copy-button, #done-button;
//               a phone setup's #phone-panel, #phone-qr (canvas), #phone-expires, #phone-link
//   issue       #issue-form, #issue-name, #issue-scope-all, #issue-scope-list (filled with
//               #issue-scope-NAME per service the server has), #issue-networks, #issue-expires
//               (days; 0 = never), #issue-phone-option and #issue-phone (only where the server
//               sets up phones), #issue-button
//   grants      #grants-table, #grants-body, #grants-empty, #revoke-all-button; per grant a row
//               with data-name, and buttons #show-<id>, #phone-<id> (where the server sets up
//               phones) and #revoke-<id>, where <id> is encodeURIComponent(name)
//   keys        #tokens-table, #tokens-body; per key #revoke-key-<encodeURIComponent(label)>;
//               #add-key-form, #add-key-label, #add-key-uv, #add-key-button
//   activity    #log-table, #log-body, #log-refresh
//   confirm     #confirm-dialog, #confirm-text, #confirm-yes, #confirm-no
"use strict";

(() => {
  const { ApiError } = TouchpassApi;
  const { $, unavailable, say, alarm, clearMessages, describe, date, dateTime, cell, button, confirmAction } =
    TouchpassPage;

  const state = {
    user: "", // signed in as; empty when signed out
    invitation: "", // the code from #invite=, until it is spent
    phoneSetup: false, // whether touchpass-web has mail settings for phones (services)
  };

  // Runs `work` with `button` disabled, showing describe(error) for anything it throws. When the
  // session has ended, goes back to the sign-in view.
  async function run(button, work) {
    clearMessages();
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
    try {
      await work();
    } catch (error) {
      if (error instanceof ApiError && error.code === "not_found" && state.user && !(await sessionAlive())) {
        signedOut();
      }
      alarm(describe(error));
    } finally {
      if (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      }
    }
  }

  async function sessionAlive() {
    try {
      await TouchpassApi.session();
      return true;
    } catch (error) {
      return !(error instanceof ApiError && error.code === "not_found");
    }
  }

  // ---- views ----

  function showView(name) {
    $("loading").hidden = true;
    $("enroll-view").hidden = name !== "enroll";
    $("signin-view").hidden = name !== "signin";
    $("signed-in-view").hidden = name !== "signed-in";
    $("user-bar").hidden = name !== "signed-in";
  }

  function signedIn(session) {
    state.user = session.user;
    TouchpassApi.setCsrf(session.csrf);
    $("user-name").textContent = session.user;
    showView("signed-in");
    refreshAll();
  }

  function signedOut() {
    state.user = "";
    TouchpassApi.setCsrf("");
    TouchpassPasswordPanel.wipe();
    for (const id of ["grants-body", "tokens-body", "log-body"]) $(id).replaceChildren();
    showView("signin");
  }

  // ---- the key ----

  // Asks the key for an Offer's assertion with PRF; the `finish` fields.
  async function assertOffer(offer) {
    const usable = TouchpassWebAuthn.usableCredentials(offer);
    if (usable.length === 0) {
      throw new Error(
        "None of your security keys was added on this page. Keys added with the touchpass " +
          "command line work only there; ask for an invitation to add a key here.",
      );
    }
    say("Touch your security key when it blinks…");
    // A sign-in offers all keys one challenge: any of them may answer. An issue derives one
    // challenge per credential (src/ipc/PROTOCOL.md), and a browser cannot ask a key silently
    // which credential it holds: then the key that answered last in this tab (signed in, or was
    // added) is asked, else the first.
    const shared = usable.every((c) => c.challenge === usable[0].challenge);
    const last = usable.find((c) => c.credential === lastKey());
    const finish = await TouchpassWebAuthn.assert(offer, shared ? usable : [last || usable[0]]);
    rememberKey(finish.credential);
    return finish;
  }

  async function enrollOffer(offer) {
    say("Insert your security key and touch it when it blinks…");
    const finish = await TouchpassWebAuthn.enroll(offer);
    rememberKey(finish.credential);
    return finish;
  }

  // The credential id of the key that answered last in this tab (kept across reloads in
  // sessionStorage; it is no secret: touchpassd's offers name it).
  function lastKey() {
    try {
      return sessionStorage.getItem("touchpass-last-key") || "";
    } catch (error) {
      return "";
    }
  }

  function rememberKey(credential) {
    try {
      sessionStorage.setItem("touchpass-last-key", credential);
    } catch (error) {
      // storage refused (private mode): the first key is asked next time
    }
  }

  // ---- lists ----

  async function refreshGrants() {
    const result = await TouchpassApi.post("list", {});
    const grants = Array.isArray(result.grants) ? result.grants : [];
    const rows = grants.map((grant) => {
      const row = document.createElement("tr");
      row.dataset.name = grant.name;
      if (grant.revoked) row.className = "revoked";
      cell(row, "Name", grant.name);
      const scopes = Array.isArray(grant.scopes) && grant.scopes.length ? grant.scopes.join(", ") : "all";
      cell(row, "Services", scopes);
      const networks =
        Array.isArray(grant.networks) && grant.networks.length ? grant.networks.join(", ") : "anywhere";
      cell(row, "From", networks);
      cell(row, "Created", date(grant.created));
      cell(row, "Expires", grant.expires ? date(grant.expires) : "never");
      let used = grant.last_used ? dateTime(grant.last_used) : "never";
      if (grant.last_used && grant.last_service) used += " (" + grant.last_service + ")";
      if (grant.last_used && grant.last_address) used += " from " + grant.last_address;
      cell(row, "Last used", used);
      const actions = cell(row, "Actions", "");
      if (grant.revoked) {
        actions.textContent = "revoked";
      } else {
        const id = encodeURIComponent(grant.name);
        const wrap = document.createElement("div");
        wrap.className = "actions";
        wrap.append(button("show-" + id, "Show", "secondary", (b) => showAgain(b, grant.name, false)));
        if (state.phoneSetup) {
          wrap.append(button("phone-" + id, "Phone", "secondary", (b) => showAgain(b, grant.name, true)));
        }
        wrap.append(button("revoke-" + id, "Revoke", "danger", (b) => revokeOne(b, grant.name)));
        actions.append(wrap);
      }
      return row;
    });
    $("grants-body").replaceChildren(...rows);
    $("grants-empty").hidden = grants.length !== 0;
    $("revoke-all-button").hidden = !grants.some((g) => !g.revoked);
  }

  async function refreshTokens() {
    const result = await TouchpassApi.post("tokens", {});
    const tokens = Array.isArray(result.tokens) ? result.tokens : [];
    const rows = tokens.map((token) => {
      const row = document.createElement("tr");
      row.dataset.label = token.label;
      if (token.revoked) row.className = "revoked";
      cell(row, "Name", token.label);
      cell(row, "Device", token.device || token.kind || "");
      cell(row, "PIN", token.uv ? "required" : "not asked");
      cell(row, "Added", date(token.created));
      const actions = cell(row, "Actions", "");
      if (token.revoked) {
        actions.textContent = "revoked";
      } else {
        actions.append(
          button("revoke-key-" + encodeURIComponent(token.label), "Remove", "danger", (b) =>
            revokeKey(b, token.label),
          ),
        );
      }
      return row;
    });
    $("tokens-body").replaceChildren(...rows);
  }

  async function refreshLog() {
    const result = await TouchpassApi.post("log", { limit: 50 });
    const entries = Array.isArray(result.entries) ? result.entries : [];
    const rows = entries.map((entry) => {
      const row = document.createElement("tr");
      cell(row, "Time", dateTime(entry.time));
      cell(row, "Action", entry.action || "");
      cell(row, "Object", entry.object || "");
      cell(row, "Result", entry.result || "");
      return row;
    });
    $("log-body").replaceChildren(...rows);
  }

  function refreshAll() {
    return run(null, async () => {
      await refreshServices();
      await refreshGrants();
      await refreshTokens();
      await refreshLog();
    });
  }

  // ---- flows ----

  function enrollFromInvitation() {
    return run($("enroll-button"), async () => {
      const fields = { invitation: state.invitation, uv: $("enroll-uv").checked ? "pin" : "presence" };
      const label = $("enroll-label").value.trim();
      const user = $("enroll-user").value.trim();
      if (label) fields.label = label;
      if (user) fields.user = user;
      const offer = await TouchpassApi.post("enroll-begin", fields);
      const finish = await enrollOffer(offer);
      say("Checking the key…");
      const session = await TouchpassApi.post("finish", finish);
      state.invitation = "";
      signedIn(session);
      say("Your security key was added. You can now make app passwords.");
    });
  }

  function signIn() {
    return run($("signin-button"), async () => {
      const user = $("signin-user").value.trim();
      if (!user) throw new Error("Enter your user name.");
      const offer = await TouchpassApi.post("signin-begin", { user });
      const finish = await assertOffer(offer);
      say("Checking the key…");
      const session = await TouchpassApi.post("finish", finish);
      signedIn(session);
      say("Signed in as " + session.user + ".");
    });
  }

  function signOut() {
    return run($("signout-button"), async () => {
      try {
        await TouchpassApi.post("signout", {});
      } finally {
        signedOut();
      }
      say("You are signed out.");
    });
  }

  // The issue request's services: {every_service: true}, or {scopes: [...]} as checked.
  function chosenScopes() {
    if ($("issue-scope-all").checked) return { every_service: true };
    const boxes = Array.from($("issue-scope-list").querySelectorAll("input[type=checkbox]"));
    const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
    if (scopes.length === 0) throw new Error("Choose the services it is for, or Every service.");
    return { scopes };
  }

  function scopeAllChanged() {
    for (const box of $("issue-scope-list").querySelectorAll("input[type=checkbox]")) {
      box.disabled = $("issue-scope-all").checked;
    }
  }

  // The services of the server (touchpassd's configuration), as checkboxes of the issue form.
  async function refreshServices() {
    const result = await TouchpassApi.post("services", {});
    const services = Array.isArray(result.services) ? result.services : [];
    const checked = new Set(
      Array.from($("issue-scope-list").querySelectorAll("input:checked")).map((b) => b.value),
    );
    const labels = services
      .filter((s) => typeof s.name === "string" && /^[a-z0-9_-]{1,32}$/.test(s.name))
      .map((s) => {
        const label = document.createElement("label");
        label.className = "check";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.id = "issue-scope-" + s.name;
        box.value = s.name;
        box.checked = checked.has(s.name);
        label.append(box, " " + (typeof s.description === "string" ? s.description : s.name));
        return label;
      });
    $("issue-scope-list").replaceChildren(...labels);
    scopeAllChanged();
    state.phoneSetup = result.phone_setup === true;
    $("issue-phone-option").hidden = !state.phoneSetup;
  }

  // The networks typed in the issue form, or null for anywhere; touchpassd checks each one.
  function chosenNetworks() {
    const networks = $("issue-networks")
      .value.split(",")
      .map((n) => n.trim())
      .filter((n) => n.length > 0);
    return networks.length ? networks : null;
  }

  function issue() {
    return run($("issue-button"), async () => {
      TouchpassPasswordPanel.wipe();
      const name = $("issue-name").value.trim();
      if (!name) throw new Error("Give the password a name, for example the mail app that will use it.");
      const fields = { name };
      Object.assign(fields, chosenScopes());
      const networks = chosenNetworks();
      if (networks) fields.networks = networks;
      const days = Number($("issue-expires").value);
      fields.expires = days > 0 ? Math.floor(Date.now() / 1000) + days * 86400 : 0;
      if (state.phoneSetup && $("issue-phone").checked) fields.phone_setup = true;
      const offer = await TouchpassApi.post("issue-begin", fields);
      const finish = await assertOffer(offer);
      say("Checking the key…");
      const result = await TouchpassApi.post("finish", finish);
      say("");
      TouchpassPasswordPanel.show(name, result.secret, result);
      $("issue-name").value = "";
      $("issue-networks").value = "";
      $("issue-phone").checked = false;
      await refreshGrants();
      await refreshLog();
    });
  }

  // Shows the password `name` again (with a phone setup's QR code when `phone`).
  function showAgain(b, name, phone) {
    return run(b, async () => {
      TouchpassPasswordPanel.wipe();
      const fields = { name };
      if (phone) fields.phone_setup = true;
      const offer = await TouchpassApi.post("show-begin", fields);
      const finish = await assertOffer(offer);
      say("Checking the key…");
      const result = await TouchpassApi.post("finish", finish);
      say("");
      TouchpassPasswordPanel.show(name, result.secret, result);
      await refreshLog();
    });
  }

  async function revokeOne(b, name) {
    const yes = await confirmAction(
      "Revoke the app password “" + name + "”? Mail apps that use it will stop working.",
      "Revoke",
    );
    if (!yes) return;
    await run(b, async () => {
      await TouchpassApi.post("revoke", { name });
      await refreshGrants();
      await refreshLog();
      say("The app password “" + name + "” was revoked.");
    });
  }

  async function revokeAll() {
    const yes = await confirmAction(
      "Revoke all your app passwords? Every mail app that uses one will stop working.",
      "Revoke all",
    );
    if (!yes) return;
    await run($("revoke-all-button"), async () => {
      const result = await TouchpassApi.post("revoke", { all: true });
      await refreshGrants();
      await refreshLog();
      say("Revoked " + (result.revoked || 0) + " app passwords.");
    });
  }

  async function revokeKey(b, label) {
    const yes = await confirmAction(
      "Remove the key “" + label + "”? The app passwords made with it stop working too.",
      "Remove",
    );
    if (!yes) return;
    await run(b, async () => {
      const result = await TouchpassApi.post("revoke", { token: label });
      if (result.signed_out) {
        // Removing a key ends every web session of its user, this one too (PROTOCOL.md).
        signedOut();
        say("The key “" + label + "” was removed, and you were signed out everywhere. Sign in again with a key you still have.");
        return;
      }
      await refreshTokens();
      await refreshGrants();
      await refreshLog();
      say("The key “" + label + "” was removed.");
    });
  }

  function addKey() {
    return run($("add-key-button"), async () => {
      const fields = { uv: $("add-key-uv").checked ? "pin" : "presence" };
      const label = $("add-key-label").value.trim();
      if (label) fields.label = label;
      const offer = await TouchpassApi.post("enroll-begin", fields);
      const finish = await enrollOffer(offer);
      say("Checking the key…");
      await TouchpassApi.post("finish", finish);
      $("add-key-label").value = "";
      await refreshTokens();
      await refreshLog();
      say("The key was added.");
    });
  }

  // ---- start ----

  // The invitation code of ORIGIN/#invite=CODE, removed from the address bar (and history).
  function takeInvitation() {
    const match = /^#invite=([^&]*)$/.exec(location.hash);
    if (!location.hash) return "";
    history.replaceState(null, "", location.pathname + location.search);
    if (!match) return "";
    try {
      return decodeURIComponent(match[1]).trim();
    } catch (error) {
      return "";
    }
  }

  function onSubmit(id, handler) {
    $(id).addEventListener("submit", (event) => {
      event.preventDefault();
      handler();
    });
  }

  function wire() {
    onSubmit("enroll-form", enrollFromInvitation);
    onSubmit("signin-form", signIn);
    onSubmit("issue-form", issue);
    onSubmit("add-key-form", addKey);
    $("enroll-to-signin").addEventListener("click", () => {
      clearMessages();
      showView("signin");
    });
    $("signout-button").addEventListener("click", signOut);
    $("copy-button").addEventListener("click", TouchpassPasswordPanel.copy);
    $("done-button").addEventListener("click", () => {
      TouchpassPasswordPanel.wipe();
      $("issue-name").focus();
    });
    $("revoke-all-button").addEventListener("click", revokeAll);
    $("log-refresh").addEventListener("click", () => run($("log-refresh"), refreshLog));
    $("issue-scope-all").addEventListener("change", scopeAllChanged);
  }

  async function start() {
    wire();
    state.invitation = takeInvitation();
    const signedOutView = state.invitation ? "enroll" : "signin";
    try {
      signedIn(await TouchpassApi.session());
    } catch (error) {
      showView(signedOutView);
      if (!(error instanceof ApiError) || error.code !== "not_found") {
        alarm(describe(error));
      } else if (!(await TouchpassApi.daemonReachable())) {
        alarm(unavailable);
      }
    }
    if (!TouchpassWebAuthn.available()) {
      alarm(
        "This browser cannot use security keys. Use a recent Chrome, Edge, Safari or Firefox, " +
          "or the touchpass command line on the server.",
      );
    }
    document.documentElement.dataset.ready = "true";
  }

  start();
})();
