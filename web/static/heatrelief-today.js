// Today's deliveries, offline: a team member's record form is plain HTML and works
// without JavaScript; with it, a record made without a connection waits in the shared
// offline queue (scan-queue.js, point type "delivery_site") and is synced to
// POST /api/v1/deliveries/batch when the network is back, where the server settles the
// day earliest first and counts each delivery once.
//
// Before a record is sent or queued, the poster's code is checked here (site-poster.js:
// the signature with the public keys, and that the site is the delivery's), so a forged
// poster or a ticket held up as one is refused on the spot, with no signal too. The
// poster can be scanned with the camera (BarcodeDetector, else the vendored jsQR, as the
// door scanner does); typing the code and confirming by hand stay.
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

  // --- the camera ------------------------------------------------------------------------
  const loadScript = (src) =>
    new Promise((resolve, reject) => {
      const script = Object.assign(document.createElement("script"), { src, onload: resolve, onerror: reject });
      document.head.append(script);
    });
  let decoder = null;
  const makeDecoder = async () => {
    if ("BarcodeDetector" in window) {
      try {
        if ((await window.BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
          const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          return async (video) => {
            const found = await detector.detect(video);
            return found.length ? found[0].rawValue : null;
          };
        }
      } catch {
        // the vendored decoder below
      }
    }
    await loadScript(data.jsqr);
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async (video) => {
      if (!video.videoWidth || !video.videoHeight) return null;
      const scale = Math.min(1, 640 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const frame = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(frame.data, canvas.width, canvas.height, { inversionAttempts: "attemptBoth" });
      return found ? found.data : null;
    };
  };
  let camera = null; // {stream, form}
  const stopCamera = () => {
    if (!camera) return;
    for (const track of camera.stream.getTracks()) track.stop();
    const video = camera.form.querySelector("video.poster-camera");
    video.srcObject = null;
    video.hidden = true;
    camera = null;
  };
  const scanPoster = async (form) => {
    stopCamera();
    const video = form.querySelector("video.poster-camera");
    try {
      decoder = decoder || (await makeDecoder());
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" }, width: { ideal: 640 }, height: { ideal: 480 } },
        audio: false,
      });
      camera = { stream, form };
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
    } catch {
      stopCamera();
      sayVerdict(form, strings.camera_failed, false);
      return;
    }
    while (camera && camera.form === form && video.isConnected) {
      let text = null;
      try {
        text = await decoder(video);
      } catch {
        text = null;
      }
      if (text) {
        stopCamera();
        form.querySelector("input[name=site_code]").value = text.trim();
        await checkPoster(form);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const canFilm = Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

  for (const form of document.querySelectorAll("form.record")) {
    const scanButton = form.querySelector("button.scan-poster");
    if (scanButton && canFilm) {
      scanButton.hidden = false;
      scanButton.addEventListener("click", () => scanPoster(form));
    }
    form.querySelector("input[name=site_code]").addEventListener("input", () => {
      verdictLine(form).hidden = true;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      stopCamera();
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
