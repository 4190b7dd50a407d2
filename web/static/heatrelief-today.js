// Today's deliveries, offline: a team member's record form is plain HTML and works
// without JavaScript; with it, a record made without a connection waits in the shared
// offline queue (scan-queue.js, point type "delivery_site") and is synced to
// POST /api/v1/deliveries/batch when the network is back, where the server settles the
// day earliest first and counts each delivery once.
//
// Before a record is sent or queued, the poster's code is checked here (site-poster.js:
// the signature with the public keys, and that the site is the delivery's), so a forged
// poster or a ticket held up as one is refused on the spot, with no signal too. The
// poster can be scanned with the camera (camera.js, the door scanner's loop); typing the
// code and confirming by hand stay.
import { cameraSupported, qrDecoder, startCamera } from "./camera.js";
import { makeVerifier } from "./door-verify.js";
import { kvGet, kvPut, scanQueue } from "./scan-queue.js";
import { posterRefusal } from "./site-poster.js";

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

  const data = JSON.parse(document.getElementById("today-data").textContent);
  // The keys come with the page (kept for a day without signal, as the door's are).
  const verifierReady = (async () => {
    let keys = data.keys;
    if (keys && keys.length) await kvPut("keys", keys);
    else keys = await kvGet("keys");
    return keys && keys.length ? makeVerifier(keys, data.noble) : null;
  })().catch(() => null);

  const verdictLine = (form) => form.querySelector(".poster-verdict");
  const sayVerdict = (form, text, good) => {
    const line = verdictLine(form);
    line.textContent = text;
    line.className = `poster-verdict ${good ? "good" : "form-error"}`;
    line.setAttribute("role", good ? "status" : "alert");
    line.hidden = false;
  };
  // The poster's refusal for this form's delivery, shown; true when the code may be sent.
  const checkPoster = async (form) => {
    const code = String(new FormData(form).get("site_code") || "").trim();
    if (!code) return true;
    const refusal = await posterRefusal(await verifierReady, code, {
      siteId: Number(form.dataset.site),
      activityId: Number(form.dataset.activity),
      codeHash: form.dataset.codeHash,
    });
    if (refusal === "unchecked") return true;
    if (refusal) {
      sayVerdict(form, data.refusals[refusal] || data.refusals.invalid_code, false);
      return false;
    }
    sayVerdict(form, strings.poster_ok, true);
    return true;
  };

  // --- the camera (camera.js): one poster, then it stops ----------------------------------
  let filming = null; // {camera, form} while a form's camera is on
  let latest = null; // the latest tap on a scan button: one still starting before it gives way
  const stopFilming = () => {
    latest = null;
    if (!filming) return;
    filming.camera.stop();
    filming.form.querySelector("video.poster-camera").hidden = true;
    filming = null;
  };
  const scanPoster = async (form) => {
    stopFilming();
    const attempt = { form };
    latest = attempt;
    const video = form.querySelector("video.poster-camera");
    const overtaken = () => latest !== attempt;
    const hideUnlessReused = () => {
      if (!latest || latest.form !== form) video.hidden = true;
    };
    video.hidden = false;
    let camera;
    try {
      camera = await startCamera(video, {
        onCode: async (text) => {
          stopFilming();
          form.querySelector("input[name=site_code]").value = text.trim();
          await checkPoster(form);
        },
        everyMs: 100,
      });
    } catch {
      if (overtaken()) {
        hideUnlessReused();
        return;
      }
      latest = null;
      video.hidden = true;
      sayVerdict(form, strings.camera_failed, false);
      return;
    }
    if (overtaken()) {
      camera.stop();
      hideUnlessReused();
      return;
    }
    filming = { camera, form };
  };

  // The decoder now, while there is signal: a site is often where there is none, and the
  // first poster scanned there must not need the network.
  if (cameraSupported()) qrDecoder().catch(() => {});
  for (const form of document.querySelectorAll("form.record")) {
    const scanButton = form.querySelector("button.scan-poster");
    if (scanButton && cameraSupported()) {
      scanButton.hidden = false;
      scanButton.addEventListener("click", () => scanPoster(form));
    }
    form.querySelector("input[name=site_code]").addEventListener("input", () => {
      verdictLine(form).hidden = true;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      stopFilming();
      if (!(await checkPoster(form))) return;
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
