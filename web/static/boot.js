// Every page: register the service worker; signed out, drop what it kept of the member's
// private pages and the door's offline data. A file, not an inline script, so that the
// Content-Security-Policy can refuse every inline script.
(function () {
  var signedOut = document.currentScript && document.currentScript.dataset.signedOut === "1";
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
})();
