// The one camera loop of every scanner page (the door, a delivery team's site poster, a
// job-fair booth device): the back camera through getUserMedia, each frame read by the
// browser's BarcodeDetector where it reads QR codes, else by the vendored jsQR (Debian's
// chromium, many Android browsers and WeChat have no BarcodeDetector). A page hands over
// its <video> and what to do with a code; the stream stops when the page says so, or by
// itself once the video has left the document (a boosted link swapped the page out), so
// no page leaves the camera light on. No sentence is written here: a failure is a reason
// ("refused", "missing", "unsupported", "failed") that each page words in its language.

const JSQR = new URL("./vendor/jsQR-1.4.0.js", import.meta.url).href;
const LONGEST_EDGE = 640; // jsQR reads a frame scaled down to this: fast enough, still sharp
const CONSTRAINTS = {
  video: { facingMode: { ideal: "environment" }, width: { ideal: 640 }, height: { ideal: 480 } },
  audio: false,
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why the camera could not be used: `reason` is one of refused, missing, unsupported,
 * failed. */
export class CameraError extends Error {
  constructor(reason, cause) {
    super(`camera ${reason}`);
    this.name = "CameraError";
    this.reason = reason;
    this.cause = cause;
  }
}

/** Whether this browser can film at all (no getUserMedia off HTTPS, nor in old browsers). */
export const cameraSupported = () => Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

/** getUserMedia's error, as a reason a page can explain. */
export function cameraProblem(error) {
  const name = error && error.name;
  // The person said no, or the site's setting (or a policy) blocks the camera.
  if (["NotAllowedError", "PermissionDeniedError", "SecurityError"].includes(name)) return "refused";
  // No camera on this device (or none that can face the code).
  if (["NotFoundError", "DevicesNotFoundError", "OverconstrainedError"].includes(name)) return "missing";
  if (name === "TypeError" || name === "NotSupportedError") return "unsupported";
  return "failed"; // NotReadableError (another app holds it), AbortError, …
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), { src, onload: resolve, onerror: reject });
    document.head.append(script);
  });
}

async function makeDecoder() {
  if ("BarcodeDetector" in window) {
    try {
      if ((await window.BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
        const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        return {
          name: "BarcodeDetector",
          read: async (source) => {
            const found = await detector.detect(source);
            return found.length ? found[0].rawValue : null;
          },
        };
      }
    } catch {
      // the vendored decoder below
    }
  }
  if (!window.jsQR) await loadScript(JSQR);
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return {
    name: "jsQR",
    read: async (source) => {
      const width = source.videoWidth || source.width;
      const height = source.videoHeight || source.height;
      if (!width || !height) return null; // no frame yet
      const scale = Math.min(1, LONGEST_EDGE / Math.max(width, height));
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      const frame = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(frame.data, canvas.width, canvas.height, { inversionAttempts: "attemptBoth" });
      return found ? found.data : null;
    },
  };
}

let decoder = null;
/** The page's QR decoder, {name, read(video)}: made once. A page may ask early (the door
 * does, while the network is there to fetch jsQR); a failed fetch is tried again next time. */
export function qrDecoder() {
  if (!decoder) {
    decoder = makeDecoder();
    decoder.catch(() => {
      decoder = null;
    });
  }
  return decoder;
}

/**
 * Films with the back camera into `video` and hands each code read to `onCode(text,
 * {frameAt, camera})`, awaited before the next frame is read. Frames are skipped while the
 * page is hidden or `ready()` says no (a gate not chosen yet, a verdict being decided).
 * Resolves once the camera is live, with {decoder, stop(), stopped}; rejects with a
 * CameraError (nothing left running) when the camera cannot be used.
 */
export async function startCamera(video, { onCode, ready = () => true, everyMs = 80 }) {
  if (!cameraSupported()) throw new CameraError("unsupported");
  let reader;
  try {
    reader = await qrDecoder();
  } catch (error) {
    throw new CameraError("unsupported", error); // offline before jsQR was ever fetched
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
  } catch (error) {
    throw new CameraError(cameraProblem(error), error);
  }
  let live = true;
  const stop = () => {
    if (!live) return;
    live = false;
    for (const track of stream.getTracks()) track.stop();
    if (video.srcObject === stream) video.srcObject = null;
  };
  try {
    video.srcObject = stream;
    await video.play();
  } catch (error) {
    stop();
    throw new CameraError("failed", error);
  }
  const camera = { decoder: reader.name, stop, stopped: null };
  camera.stopped = (async () => {
    try {
      // The first frame is read on the next task (the page holds `camera` by then), the
      // rest `everyMs` apart.
      let pause = 0;
      while (live && video.isConnected) {
        await sleep(pause);
        pause = everyMs;
        if (!live || !video.isConnected || document.hidden || !ready()) continue;
        const frameAt = performance.now();
        let text = null;
        try {
          text = await reader.read(video);
        } catch {
          text = null; // a frame the decoder could not take: the next one
        }
        if (!text || !live) continue;
        try {
          await onCode(text, { frameAt, camera });
        } catch (error) {
          console.error(error); // the page's trouble with one code: keep looking
        }
      }
    } finally {
      stop();
    }
  })();
  return camera;
}
