// The page's client of the HTTPS JSON API (src/web/API.md): POST /api/v1/<op> with
// {"v": 1, ...}, the CSRF token of the session in X-Touchpass-CSRF, and one retry with a fresh
// token after a 403 (touchpass-web restarted and draws a new CSRF key). The session itself is
// the __Host- cookie, which the page never sees.
"use strict";

const TouchpassApi = (() => {
  // An error answer (or no answer): `code` is the API's stable code ("network" when the server
  // could not be reached), `status` the HTTP status (0 without an answer), `message` a sentence.
  class ApiError extends Error {
    constructor(code, message, status) {
      super(message);
      this.name = "ApiError";
      this.code = code;
      this.status = status;
    }
  }

  let csrf = "";

  // The token sent with every POST; empty when not signed in.
  function setCsrf(token) {
    csrf = typeof token === "string" ? token : "";
  }

  async function exchange(method, op, fields) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method === "POST") {
      headers["Content-Type"] = "application/json";
      if (csrf) headers["X-Touchpass-CSRF"] = csrf;
      init.body = JSON.stringify(Object.assign({ v: 1 }, fields || {}));
    }
    let answer;
    try {
      answer = await fetch("/api/v1/" + op, init);
    } catch (error) {
      throw new ApiError(
        "network",
        "This page cannot reach the touchpass server. Check your connection and try again.",
        0,
      );
    }
    let body = null;
    try {
      body = await answer.json();
    } catch (error) {
      body = null;
    }
    if (body && body.ok === true && body.result && typeof body.result === "object") return body.result;
    const problem = body && body.error && typeof body.error === "object" ? body.error : {};
    const code = typeof problem.code === "string" ? problem.code : "internal";
    let message = typeof problem.message === "string" && problem.message ? problem.message : "";
    if (!message) message = "The touchpass server answered " + answer.status + ".";
    if (code === "busy") {
      const wait = answer.headers.get("Retry-After");
      if (wait) message += " Try again in " + wait + " seconds.";
    }
    throw new ApiError(code, message, answer.status);
  }

  // GET /api/v1/session: {user, expires, csrf} of the current session (and keeps its csrf).
  // Throws ApiError (not_found: no session).
  async function session() {
    const result = await exchange("GET", "session");
    setCsrf(result.csrf);
    return result;
  }

  // POST /api/v1/<op> with `fields`; the result object, or throws ApiError. A 403 while signed
  // in is retried once, after asking the session for a new CSRF token.
  async function post(op, fields) {
    try {
      return await exchange("POST", op, fields);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 403 || !csrf) throw error;
      try {
        await session();
      } catch (ignored) {
        throw error;
      }
      return exchange("POST", op, fields);
    }
  }

  // GET /api/v1/health: whether touchpassd can be reached (false also when the gateway cannot).
  async function daemonReachable() {
    try {
      const result = await exchange("GET", "health");
      return result.daemon === true;
    } catch (error) {
      return false;
    }
  }

  return Object.freeze({ ApiError, setCsrf, session, post, daemonReachable });
})();
