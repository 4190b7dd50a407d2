// Unionhall service worker: static files from the cache, and the pages that must open
// with no signal once opened: a member's tickets and the door scanner. Pages are private
// to the signed-in member, so only those are kept, and they are dropped at sign-out (the
// page posts "forget"). Any other page, offline, is the app's own offline page.
const VERSION = "v13"; // with service/app.py STATIC_VERSION
const STATIC = `static-${VERSION}`;
const PRIVATE = "private-pages";
const LANGUAGES = ["zh-CN", "en"];
const LANGUAGE_KEY = "/offline-language";
const q = `?v=${VERSION.slice(1)}`;
// What every page loads (base.html) and the offline page itself, once per language, and
// the camera loop every scanner page imports; the rest (a scanner's own files, a room's
// CSS) is kept the first time a page asks for it. camera.js is imported by modules
// (`./camera.js`), so it is asked for without `?v=`: that is the address kept.
const PRECACHE = [
  `/static/app.css${q}`,
  `/static/boot.js${q}`,
  `/static/offline.js${q}`,
  "/static/camera.js",
  "/static/vendor/htmx-2.0.11.min.js",
  ...LANGUAGES.map((lang) => `/offline?lang=${lang}`),
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) =>
      Promise.all(names.filter((n) => n.startsWith("static-") && n !== STATIC).map((n) => caches.delete(n)))
    ).then(() => self.clients.claim())
  );
});

function isOfflinePage(url) {
  return /^\/(me\/tickets|door)\/\d+$/.test(url.pathname) || ["/heat-relief/today", "/booth-device"].includes(url.pathname);
}

function keepPage(pathname, response) {
  if (!response.ok || response.redirected) return Promise.resolve();
  return caches.open(PRIVATE).then((cache) => cache.put(pathname, response));
}

function keepStatic(request, response) {
  if (!response.ok) return Promise.resolve();
  return caches.open(STATIC).then((cache) => cache.put(request, response));
}

// A page opened before this worker controlled it (the very first page ever opened) was
// not seen by "fetch": boot.js tells us about it, and we keep it and what it loaded.
function keepOpened(message) {
  const jobs = [storeLanguage(message.lang)];
  const url = new URL(message.url, self.location.origin);
  if (url.origin === self.location.origin && isOfflinePage(url)) {
    jobs.push(
      caches.open(PRIVATE).then((cache) => cache.match(url.pathname, { ignoreVary: true })).then((hit) =>
        hit ? undefined : fetch(url.pathname, { credentials: "same-origin" }).then((response) => keepPage(url.pathname, response))
      )
    );
  }
  for (const asset of message.assets || []) {
    const assetUrl = new URL(asset, self.location.origin);
    if (assetUrl.origin !== self.location.origin || !assetUrl.pathname.startsWith("/static/")) continue;
    jobs.push(
      caches.match(assetUrl.href).then((hit) =>
        hit ? undefined : fetch(assetUrl.href).then((response) => keepStatic(assetUrl.href, response))
      )
    );
  }
  return Promise.all(jobs).catch(() => undefined);
}

self.addEventListener("message", (event) => {
  if (event.data === "forget") event.waitUntil(caches.delete(PRIVATE));
  else if (event.data && event.data.type === "opened") event.waitUntil(keepOpened(event.data));
});

function storeLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return Promise.resolve();
  return caches.open(STATIC).then((cache) => cache.put(LANGUAGE_KEY, new Response(lang)));
}

function rememberLanguage(response) {
  storeLanguage(response.headers.get("Content-Language"));
}

function offlinePage() {
  return caches.match(LANGUAGE_KEY)
    .then((hit) => (hit ? hit.text() : LANGUAGES[0]))
    .then((lang) => caches.match(`/offline?lang=${LANGUAGES.includes(lang) ? lang : LANGUAGES[0]}`))
    .then((hit) => hit || Response.error());
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.match(request).then((hit) => hit || fetch(request).then((response) => {
        // waitUntil: the worker is not stopped before the copy is written.
        event.waitUntil(keepStatic(request, response.clone()));
        return response;
      }))
    );
    return;
  }
  // A boosted link (hx-boost) gets the whole page too, so it is kept like a plain load.
  const boosted = Boolean(request.headers.get("HX-Boosted"));
  const partial = request.headers.get("HX-Request") && !boosted;
  if (partial) return;
  const navigation = request.mode === "navigate" || boosted;
  if (isOfflinePage(url)) {
    // Network first, so a reissued code replaces the old one; the copy when offline.
    event.respondWith(
      fetch(request).then((response) => {
        event.waitUntil(keepPage(url.pathname, response.clone()));
        rememberLanguage(response);
        return response;
      }).catch(() => caches.match(url.pathname, { ignoreVary: true }).then((hit) => hit || offlinePage()))
    );
  } else if (navigation) {
    event.respondWith(
      fetch(request).then((response) => {
        rememberLanguage(response);
        return response;
      }).catch(() => offlinePage())
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
