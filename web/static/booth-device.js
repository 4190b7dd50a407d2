// A booth device's page, offline: the stage form is plain HTML and works without
// JavaScript; with it, a stage recorded without a connection waits in the shared offline
// queue (scan-queue.js, point type "booth", one queue per booth) and is synced to
// POST /api/v1/booth-scans/batch when the network is back. The server settles the queue
// earliest first by scan time, answers a resent client id with its first answer and keeps
// the furthest stage when two phones disagree (service/jobfairs/services.py).
//
// The ticket can be scanned with the camera (camera.js, the door scanner's loop): the code
// read fills the code field and the page moves on to the stage step, as after typing it.
// When the camera is refused, missing or unsupported, the page says so and what to do
// next: type the code.
import { CameraError, cameraSupported, qrDecoder, startCamera } from "./camera.js";
import { scanQueue, uuid } from "./scan-queue.js";

const page = document.getElementById("booth-scan");
if (page) {
  const strings = JSON.parse(page.dataset.strings);
  const boothId = Number(page.dataset.booth);
  const form = page.querySelector("form.scan");
  const status = document.getElementById("sync-status");
  const show = (text) => {
    status.textContent = text;
    status.hidden = false;
  };
  const queue = scanQueue({
    pointType: "booth",
    pointId: boothId,
    endpoint: "/api/v1/booth-scans/batch",
    csrf: page.dataset.csrf,
    badge: document.getElementById("offline-badge"),
    strings,
    batchBody: (_group, scans) => ({ booth_id: boothId, scans }),
    scanOf: (item) => item.scan,
    probe: async () => {
      await fetch("/healthz", { cache: "no-store", signal: AbortSignal.timeout(5000) });
    },
    onSettled: async (_chunk, results) => {
      const made = results.filter((r) => ["recorded", "already", "superseded"].includes(r.result)).length;
      show(strings.synced.replace("{n}", String(made)));
    },
  });

  // --- the camera: one ticket, then it stops ----------------------------------------------
  const scanButton = document.getElementById("scan-ticket");
  const stopButton = document.getElementById("scan-stop");
  const video = document.getElementById("ticket-camera");
  const message = document.getElementById("camera-message");
  const codeField = form.querySelector("input[name=code]");
  let camera = null; // while filming
  let starting = null; // the tap whose camera is starting: a stop before it is live wins
  const say = (text, bad) => {
    message.textContent = text;
    message.className = bad ? "form-error" : "ok";
    message.setAttribute("role", bad ? "alert" : "status");
    message.hidden = !text;
  };
  const filming = (on) => {
    video.hidden = !on;
    stopButton.hidden = !on;
    scanButton.hidden = on;
  };
  const stopCamera = () => {
    starting = null;
    if (camera) camera.stop();
    camera = null;
    filming(false);
  };
  const problems = {
    refused: strings.camera_refused,
    missing: strings.camera_missing,
    unsupported: strings.camera_unsupported,
  };
  const scanTicket = async () => {
    const attempt = {};
    starting = attempt;
    say("");
    filming(true); // the scan button hides: a second tap cannot open a second camera
    try {
      const started = await startCamera(video, {
        onCode: async (text) => {
          stopCamera();
          codeField.value = text.trim();
          say(strings.scanned, false);
          // On to the stage step, as after typing the code.
          const step = document.getElementById("stage-step");
          step.scrollIntoView({ block: "end", behavior: "instant" });
          step.focus({ preventScroll: true });
        },
      });
      if (starting === attempt) camera = started;
      else started.stop(); // stopped (or the form sent) while it was starting
    } catch (error) {
      if (starting !== attempt) return;
      filming(false);
      const reason = error instanceof CameraError ? error.reason : "failed";
      say(problems[reason] || strings.camera_failed, true);
    } finally {
      if (starting === attempt) starting = null;
    }
  };
  if (cameraSupported()) {
    qrDecoder().catch(() => {}); // now, while there is signal: the first scan may be offline
    scanButton.hidden = false;
    scanButton.addEventListener("click", scanTicket);
    stopButton.addEventListener("click", stopCamera);
  } else {
    say(strings.camera_unsupported, true);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    stopCamera();
    const stage = event.submitter ? event.submitter.value : "";
    // form.submit() sends no button: carry the stage pressed in a hidden field.
    let field = form.querySelector("input[type=hidden][name=stage]");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "stage";
      form.append(field);
    }
    field.value = stage;
    try {
      // Reachable: the ordinary form post (form.submit() skips this listener).
      await fetch("/healthz", { cache: "no-store", signal: AbortSignal.timeout(4000) });
      form.submit();
      return;
    } catch {
      // No network: keep the stage on the phone.
    }
    const data = new FormData(form);
    const scannedAt = new Date().toISOString();
    const clientId = `booth-${uuid()}`;
    const scan = {
      code: String(data.get("code") || "").trim(),
      stage,
      client_id: clientId,
      scanned_at: scannedAt,
      note: String(data.get("note") || ""),
    };
    const posting = String(data.get("posting_id") || "");
    if (posting) scan.posting_id = Number(posting);
    const rating = String(data.get("rating") || "");
    if (rating) scan.rating = Number(rating);
    await queue.add({ client_id: clientId, scanned_at: scannedAt, scan });
    queue.setOffline(true);
    show(strings.queued);
    form.reset();
    say("");
  });
  window.addEventListener("online", () => queue.sync());
  window.addEventListener("offline", () => queue.setOffline(true));
  queue.renderBadge();
  queue.sync();
}
