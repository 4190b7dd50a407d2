// Today's deliveries, offline: a team member's record form is plain HTML and works
// without JavaScript; with it, a record made without a connection waits in the shared
// offline queue (scan-queue.js, point type "delivery_site") and is synced to
// POST /api/v1/deliveries/batch when the network is back, where the server settles the
// day earliest first and counts each delivery once.
import { scanQueue } from "./scan-queue.js";

const page = document.getElementById("deliveries");
if (page) {
  const strings = JSON.parse(page.dataset.strings);
  const status = document.getElementById("sync-status");
  const show = (text) => {
    status.textContent = text;
    status.hidden = false;
  };
  const queue = scanQueue({
    pointType: "delivery_site",
    pointId: 0, // one queue per phone: each record names its delivery
    endpoint: "/api/v1/deliveries/batch",
    csrf: page.dataset.csrf,
    badge: document.getElementById("offline-badge"),
    strings,
    batchBody: (_group, scans) => ({ scans }),
    scanOf: (item) => item.record,
    probe: async () => {
      await fetch("/healthz", { cache: "no-store", signal: AbortSignal.timeout(5000) });
    },
    onSettled: async (_chunk, results) => {
      const made = results.filter((r) => r.result === "delivered").length;
      show(strings.synced.replace("{n}", String(made)));
    },
  });

  const counts = (form, prefix) => {
    const out = {};
    for (const [name, value] of new FormData(form)) {
      const text = String(value).trim();
      if (name.startsWith(prefix) && text !== "") out[name.slice(prefix.length)] = Number(text);
    }
    return out;
  };

  for (const form of document.querySelectorAll("form.record")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        // Reachable: the ordinary form post (form.submit() skips this listener).
        await fetch("/healthz", { cache: "no-store", signal: AbortSignal.timeout(4000) });
        form.submit();
        return;
      } catch {
        // No network: keep the record on the phone.
      }
      const data = new FormData(form);
      const recordedAt = new Date().toISOString();
      const record = {
        delivery_id: Number(form.dataset.delivery),
        client_id: String(data.get("client_id")),
        recorded_at: recordedAt,
        quantities: counts(form, "qty."),
        reached: counts(form, "reached."),
        by_hand_reason: String(data.get("by_hand_reason") || ""),
      };
      const code = String(data.get("site_code") || "").trim();
      if (code) record.site_code = code;
      await queue.add({ client_id: record.client_id, scanned_at: recordedAt, record });
      queue.setOffline(true);
      show(strings.queued);
      form.closest("section").classList.add("queued");
    });
  }
  window.addEventListener("online", () => queue.sync());
  window.addEventListener("offline", () => queue.setOffline(true));
  queue.renderBadge();
  queue.sync();
}
