// Every page: send the page's CSRF token with every htmx request; register the service
// worker; signed out, drop what it kept of the member's private pages and the door's
// offline data. Offer to install the app right after a sign-up, and say when a new version
// has taken over. A file, not an inline script, so that the Content-Security-Policy can
// refuse every inline script.
(function () {
  var signedOut = document.currentScript && document.currentScript.dataset.signedOut === "1";
  // hx-boost runs this script again on every boosted page: the listeners are added once.
  var first = !window.unionhallBooted;
  window.unionhallBooted = true;
  if (first) listenOnce();
  offerInstall();
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js").then(function (registration) {
    if (!signedOut) return;
    var worker = registration.active || navigator.serviceWorker.controller;
    if (worker) worker.postMessage("forget");
    if (window.indexedDB) indexedDB.deleteDatabase("unionhall-door");
  }).catch(function () {});
  if (signedOut) return;
  // The first page ever opened loaded before the worker existed: tell it what this page
  // is and what it loaded, so that a ticket opened once opens again with no signal.
  navigator.serviceWorker.ready.then(function (registration) {
    var assets = performance.getEntriesByType("resource").map(function (entry) { return entry.name; });
    registration.active.postMessage({ type: "opened", url: location.pathname, assets: assets,
      lang: document.documentElement.lang });
  }).catch(function () {});

  function listenOnce() {
    // The token is bound to the session, so it changes at sign-in: read it from the page
    // shown now (a boosted page replaces this script tag with its own), never remember it.
    // push.js reads the same attribute for its fetch calls.
    document.addEventListener("htmx:configRequest", function (event) {
      var tag = document.querySelector("script[data-csrf-token]");
      if (tag) event.detail.headers["x-csrftoken"] = tag.getAttribute("data-csrf-token");
    });
    // The browser's install prompt is kept for the moment it makes sense (after a sign-up).
    window.addEventListener("beforeinstallprompt", function (event) {
      event.preventDefault();
      window.unionhallInstallPrompt = event;
      offerInstall();
    });
    document.addEventListener("htmx:afterSettle", offerInstall);
    document.addEventListener("click", function (event) {
      var target = event.target;
      if (!(target instanceof Element)) return;
      if (target.closest("#update-reload")) location.reload();
      if (target.closest("#install-app")) install();
      if (target.closest("#install-later")) dismissInstall();
    });
    if (!("serviceWorker" in navigator)) return;
    // A page already run by a worker that is replaced by a newer one: the new CSS and
    // scripts are in use only after a reload, so say so (the first install says nothing).
    var controlled = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      if (controlled) {
        var notice = document.getElementById("update-ready");
        if (notice) notice.hidden = false;
      }
      controlled = true;
    });
  }

  function offerInstall() {
    var offer = document.getElementById("install-offer");
    if (!offer || !window.unionhallInstallPrompt) return;
    try {
      if (localStorage.getItem("unionhall-install-offered")) return;
    } catch (error) { /* private mode: offer anyway */ }
    offer.hidden = false;
  }

  function dismissInstall() {
    var offer = document.getElementById("install-offer");
    if (offer) offer.hidden = true;
    try { localStorage.setItem("unionhall-install-offered", "1"); } catch (error) { /* ignore */ }
  }

  function install() {
    var prompt = window.unionhallInstallPrompt;
    dismissInstall();
    if (!prompt) return;
    window.unionhallInstallPrompt = null; // a prompt can be shown once
    prompt.prompt();
  }
})();
