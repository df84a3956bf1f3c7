// The self-service page's parts that hold no state of their own: the two message regions, one
// sentence for anything a flow throws, dates, table cells and buttons, and the confirmation
// dialog. app.js builds the views and flows on them. Text reaches the DOM only as textContent.
"use strict";

const TouchpassPage = (() => {
  const $ = (id) => document.getElementById(id);
  const { ApiError } = TouchpassApi;

  const unavailable =
    "The touchpass service is unavailable right now. Try again in a few minutes; if it stays " +
    "unavailable, tell your administrator.";

  // ---- messages ----

  function say(text) {
    $("status").textContent = text;
  }

  function alarm(text) {
    const alert = $("alert");
    alert.textContent = text;
    alert.hidden = !text;
  }

  function clearMessages() {
    say("");
    alarm("");
  }

  // One sentence a person can act on for anything a flow throws.
  function describe(error) {
    if (error instanceof TouchpassWebAuthn.NoPrfError) return error.message;
    if (error instanceof ApiError) {
      if (error.code === "io_error") return unavailable + " (" + error.message + ")";
      return error.message;
    }
    if (error instanceof DOMException) {
      switch (error.name) {
        case "NotAllowedError":
          return (
            "The security key did not answer: the request was cancelled or it timed out. " +
            "Try again, and touch your key when it blinks."
          );
        case "InvalidStateError":
          return "This security key is already registered for your account. Use another key.";
        case "SecurityError":
          return (
            "The browser does not allow security keys on this page (its address or " +
            "certificate is not trusted). Tell your administrator."
          );
        case "NotSupportedError":
          return (
            "This browser or security key cannot make the kind of key touchpass needs " +
            "(ES256 with hmac-secret). Try another browser or key, or use the touchpass " +
            "command line."
          );
        case "AbortError":
          return "The request to the security key was stopped.";
        default:
          return "The browser refused to use the security key: " + error.message;
      }
    }
    return error && error.message ? error.message : "Something went wrong. Try again.";
  }

  // ---- formatting ----

  function date(seconds) {
    if (!seconds) return "";
    return new Date(seconds * 1000).toLocaleDateString(undefined, {
      year: "numeric",
      month: "short",
      day: "numeric",
    });
  }

  function dateTime(seconds) {
    if (!seconds) return "";
    return new Date(seconds * 1000).toLocaleString(undefined, {
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  function cell(row, label, text) {
    const td = document.createElement("td");
    td.dataset.label = label;
    td.textContent = text;
    row.append(td);
    return td;
  }

  function button(id, text, className, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.id = id;
    b.textContent = text;
    if (className) b.className = className;
    b.addEventListener("click", () => onClick(b));
    return b;
  }

  // ---- confirmation ----

  // Asks `text` in the modal dialog; resolves true for `yesLabel`, false for Cancel or Escape.
  // The answer comes from the buttons themselves, not the dialog's close event, which Chromium
  // may deliver after the dialog was opened again.
  function confirmAction(text, yesLabel) {
    const dialog = $("confirm-dialog");
    const yesButton = $("confirm-yes");
    const noButton = $("confirm-no");
    $("confirm-text").textContent = text;
    yesButton.textContent = yesLabel;
    return new Promise((resolve) => {
      const finish = (answer) => {
        yesButton.removeEventListener("click", yes);
        noButton.removeEventListener("click", no);
        dialog.removeEventListener("cancel", cancel);
        if (dialog.open) dialog.close();
        resolve(answer);
      };
      const yes = () => finish(true);
      const no = () => finish(false);
      const cancel = (event) => {
        event.preventDefault();
        finish(false);
      };
      yesButton.addEventListener("click", yes);
      noButton.addEventListener("click", no);
      dialog.addEventListener("cancel", cancel);
      dialog.showModal();
      noButton.focus();
    });
  }

  return { $, unavailable, say, alarm, clearMessages, describe, date, dateTime, cell, button, confirmAction };
})();
