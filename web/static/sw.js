// Unionhall service worker: static files from the cache, and the pages that must open
// with no signal once opened: a member's tickets and the door scanner. Pages are private
// to the signed-in member, so only those are kept, and they are dropped at sign-out (the
// page posts "forget").
const VERSION = "v10"; // with service/app.py STATIC_VERSION
const STATIC = `static-${VERSION}`;
const PRIVATE = "private-pages";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC).then((cache) =>
      // The scan queue too: a scanner page must be able to queue scans with no signal.
      cache.addAll(["/static/app.css?v=2", "/static/vendor/htmx-2.0.11.min.js", "/static/scan-queue.js"])
    ).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) =>
      Promise.all(names.filter((n) => n.startsWith("static-") && n !== STATIC).map((n) => caches.delete(n)))
    ).then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "forget") event.waitUntil(caches.delete(PRIVATE));
});

function isOfflinePage(url) {
  return /^\/(me\/tickets|door)\/\d+$/.test(url.pathname) || url.pathname === "/heat-relief/today";
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.match(request).then((hit) => hit || fetch(request).then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(STATIC).then((cache) => cache.put(request, copy));
        }
        return response;
      }))
    );
    return;
  }
  // A boosted link (hx-boost) gets the whole page too, so it is kept like a plain load.
  const partial = request.headers.get("HX-Request") && !request.headers.get("HX-Boosted");
  if (isOfflinePage(url) && !partial) {
    // Network first, so a reissued code replaces the old one; the copy when offline.
    event.respondWith(
      fetch(request).then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(PRIVATE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      }).catch(() => caches.match(url.pathname).then((hit) => hit || Response.error()))
    );
  }
});

// Web Push: the server sends {title, body, url, tag} encrypted to this browser; show it,
// and open the inbox (or the page it names on this site) when it is tapped.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "Unionhall", {
      body: data.body || "",
      tag: data.tag || undefined,
      icon: "/static/icon.svg",
      data: { url: data.url || "/me/notifications" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let target = new URL("/me/notifications", self.location.origin);
  try {
    const wanted = new URL(event.notification.data.url, self.location.origin);
    if (wanted.origin === self.location.origin) target = wanted;
  } catch (error) {
    // keep the inbox
  }
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).origin === target.origin && "navigate" in client) {
          return client.focus().then(() => client.navigate(target.href));
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
