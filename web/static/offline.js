// The offline page: list the pages the service worker kept (tickets, the door scanner),
// by their own titles, so that a member with no signal finds what still opens.
(function () {
  var list = document.getElementById("offline-pages");
  var none = document.getElementById("offline-none");
  if (!list || !window.caches) return;
  // "入场码：…" in Chinese, with the full-width colon; "Ticket: …" in English.
  var colon = document.documentElement.lang === "zh-CN" ? "：" : ": ";
  caches.open("private-pages").then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.map(function (request) {
        return cache.match(request, { ignoreVary: true }).then(function (response) { return response.text(); })
          .then(function (html) {
            // "Ticket: <activity>" — the page's title says what it is, its heading which one.
            var doc = new DOMParser().parseFromString(html, "text/html");
            var title = (doc.title || request.url).split(" · ")[0];
            var heading = doc.querySelector("h1");
            var name = heading ? heading.textContent.trim() : "";
            return { url: new URL(request.url).pathname, title: name && name !== title ? title + colon + name : title };
          });
      }));
    });
  }).then(function (pages) {
    pages.sort(function (a, b) { return a.url < b.url ? -1 : 1; });
    pages.forEach(function (page) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = page.url;
      link.textContent = page.title;
      link.className = "button";
      item.appendChild(link);
      list.appendChild(item);
    });
    if (pages.length && none) none.hidden = true;
  }).catch(function () {});
})();
