"use strict";
// The portal page: no inline script, no external assets, so the page runs
// under a strict Content-Security-Policy. It talks to the JSON API with the
// session cookie (same origin) and never stores tokens in JS.
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await res.json() : await res.text();
  return { status: res.status, data };
}

function text(el, value) { el.textContent = value; }

async function showEnrichment(client) {
  const el = $("enrichment");
  text(el, "");
  const { status, data } = await api("GET", "/api/clients/" + encodeURIComponent(client.id));
  if (status !== 200 || !data.enrichment) return;
  // The CRM is optional: when it is slow or down the server says so
  // within its deadline, and the page says so too.
  if (data.enrichment.status === "ok") {
    text(el, "Account health: " + data.enrichment.health + (data.enrichment.account_manager ? " · manager: " + data.enrichment.account_manager : ""));
  } else {
    text(el, "Account details are unavailable right now.");
  }
}

async function showTickets(client) {
  text($("tickets-title"), "Tickets of " + client.name);
  showEnrichment(client);
  const { status, data } = await api("GET", "/api/clients/" + encodeURIComponent(client.id) + "/tickets");
  const body = $("tickets");
  body.replaceChildren();
  if (status !== 200) return;
  for (const t of data) {
    const tr = document.createElement("tr");
    tr.className = "ticket";
    for (const v of [t.id, t.subject, t.status, t.priority]) {
      const td = document.createElement("td");
      text(td, String(v));
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

async function loadApp() {
  const me = await api("GET", "/api/me");
  if (me.status !== 200) {
    $("login-view").hidden = false;
    $("app-view").hidden = true;
    $("logout").hidden = true;
    text($("who"), "");
    // Nothing of the last user's enrolment stays on the page.
    $("mfa-setup").hidden = true;
    $("mfa-enroll").hidden = false;
    $("mfa-enroll-step").hidden = true;
    $("mfa-recovery").hidden = true;
    $("mfa-recovery-codes").replaceChildren();
    $("mfa-qr").removeAttribute("src");
    text($("mfa-secret"), "");
    return;
  }
  text($("who"), me.data.name + " (" + me.data.role + ")");
  $("login-view").hidden = true;
  $("login-form").hidden = false;
  $("mfa-form").hidden = true;
  // Staff without a second factor are offered to set one up.
  const staff = me.data.role === "admin" || me.data.role === "support";
  $("mfa-setup").hidden = !(staff && me.data.mfa === "none") && $("mfa-recovery").hidden;
  $("app-view").hidden = false;
  $("logout").hidden = false;
  let clients = [];
  if (me.data.role === "client") {
    const c = await api("GET", "/api/clients/" + encodeURIComponent(me.data.tenant));
    if (c.status === 200) clients = [c.data];
  } else {
    const c = await api("GET", "/api/clients");
    if (c.status === 200) clients = c.data;
  }
  const list = $("clients");
  list.replaceChildren();
  for (const c of clients) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    text(b, c.name);
    b.addEventListener("click", () => showTickets(c));
    li.appendChild(b);
    list.appendChild(li);
  }
  if (clients.length > 0) await showTickets(clients[0]);
  document.body.dataset.ready = "app";
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    text($("login-error"), "");
    const res = await api("POST", "/api/login", { email: $("email").value, password: $("password").value });
    if (res.status === 200 && res.data.mfa_required) {
      // Password right; the session waits for the second factor.
      $("password").value = "";
      $("login-form").hidden = true;
      $("mfa-form").hidden = false;
      $("mfa-code").focus();
      document.body.dataset.step = "mfa";
    } else if (res.status === 200) {
      $("password").value = "";
      await loadApp();
    } else if (res.status === 429) {
      text($("login-error"), "Too many attempts. Try again later.");
    } else {
      text($("login-error"), "Email or password is wrong.");
    }
  });
  $("mfa-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    text($("login-error"), "");
    const res = await api("POST", "/api/login/mfa", { code: $("mfa-code").value });
    $("mfa-code").value = "";
    if (res.status === 200) {
      delete document.body.dataset.step;
      await loadApp();
    } else if (res.status === 429) {
      text($("login-error"), "Too many attempts. Try again later.");
    } else {
      text($("login-error"), "The code is not valid. Sign in again if it keeps failing.");
    }
  });
  $("mfa-enroll").addEventListener("click", async () => {
    text($("mfa-error"), "");
    const res = await api("POST", "/api/mfa/enroll");
    if (res.status !== 200) {
      text($("mfa-error"), "Two-factor sign-in could not be set up.");
      return;
    }
    $("mfa-qr").src = res.data.qr_code;
    text($("mfa-secret"), res.data.secret);
    $("mfa-enroll").hidden = true;
    $("mfa-enroll-step").hidden = false;
    document.body.dataset.step = "enroll";
  });
  $("mfa-confirm-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    text($("mfa-error"), "");
    const res = await api("POST", "/api/mfa/confirm", { code: $("mfa-confirm-code").value });
    $("mfa-confirm-code").value = "";
    if (res.status !== 200) {
      text($("mfa-error"), res.status === 429 ? "Too many attempts. Try again later." : "The code is not valid.");
      return;
    }
    const list = $("mfa-recovery-codes");
    list.replaceChildren();
    for (const c of res.data.recovery_codes) {
      const li = document.createElement("li");
      li.className = "recovery-code";
      text(li, c);
      list.appendChild(li);
    }
    $("mfa-enroll-step").hidden = true;
    $("mfa-recovery").hidden = false;
    document.body.dataset.step = "enrolled";
  });
  $("logout").addEventListener("click", async () => {
    await api("POST", "/api/logout");
    await loadApp();
  });
  loadApp().then(() => { document.body.dataset.loaded = "1"; });
});
