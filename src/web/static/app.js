// The placeholder page's only script: asks the API whether touchpassd is reachable.
"use strict";

async function showDaemonStatus() {
  const status = document.getElementById("daemon-status");
  try {
    const answer = await fetch("/api/v1/health", { headers: { Accept: "application/json" } });
    const body = await answer.json();
    status.textContent = body.ok && body.result.daemon ? "available" : "unavailable";
  } catch (error) {
    status.textContent = "unavailable";
  }
}

document.addEventListener("DOMContentLoaded", showDaemonStatus);
