// A site poster's code checked on the phone, offline: the browser side of
// service/heatrelief/services.py _site_check (the two are compared case by case in
// tests/browser/test_heatrelief_poster.py). No DOM, no strings: the page names the result.
//
// The QR holds a signed code (door-verify.js checks its Ed25519 signature with the
// downloaded public keys); the short code printed under it may be typed instead, and is
// compared with a SHA-256 of the delivery's site code that the page carries (the phone
// cannot tell another site's short code from a mistyped one: both are "wrong_site").
import { CODE_TYPES, verifyCode } from "./door-verify.js";

const SHORT_CODE_CHARS = 24; // Site.code's length: longer codes are signed ones

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The refusal for `code` at `site` ({siteId, activityId, codeHash}), or null when it is the
 * site's poster, or "unchecked" when this phone cannot tell (no keys yet, no WebCrypto):
 * the server then decides. Refusals use the server's result codes.
 */
export async function posterRefusal(verifier, code, site) {
  const text = String(code || "").trim().toUpperCase();
  if (!text) return "invalid_code";
  if (text.length <= SHORT_CODE_CHARS) {
    if (!site.codeHash || !(globalThis.crypto && crypto.subtle)) return "unchecked";
    return (await sha256Hex(text)) === site.codeHash ? null : "wrong_site";
  }
  if (!verifier) return "unchecked";
  const verified = await verifyCode(verifier, text, CODE_TYPES.site_poster);
  if (verified.error === "wrong_code_type") return "wrong_code_type";
  if (verified.error) return "invalid_code";
  if (verified.fields.activity_id !== site.activityId) return "wrong_activity";
  if (verified.fields.site_id !== site.siteId) return "wrong_site";
  return null;
}
