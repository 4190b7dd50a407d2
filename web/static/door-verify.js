// Offline verdicts at the door: parse a ticket code, check its Ed25519 signature with the
// downloaded public keys, then decide against the downloaded roster, revocations and the
// admissions this phone made. Mirrors service/signing.py, service/tickets/tokens.py and
// service/checkin/services.py (_judge_code, _judge_registration). No DOM, no strings:
// the scanner page (scanner.js) and the benchmark both import it.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const FORMAT_VERSION = 1;
const SIGNATURE_BYTES = 64;
const MAX_CODE_CHARS = 200;

// The code types this module reads, each as service/signing.py registers it: the tag in
// the header's low nibble and the varint fields in order. Written as JSON between the
// markers: tests/service/test_signing.py reads it and ties it to the Python registry.
// Each reader asks for its own type: a genuine code of another type (a site poster at a
// door, a ticket held up as a poster) is refused, never read as the type asked for.
export const CODE_TYPES = Object.freeze(/* code-types */ {
  "ticket": { "tag": 1, "fields": ["ticket_id", "activity_id", "reissue"] },
  "site_poster": { "tag": 4, "fields": ["site_id", "activity_id"] }
} /* end code-types */);

export function base64urlBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function base32Bytes(text) {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0, value = 0, n = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = ALPHABET.indexOf(text[i]);
    if (digit < 0) return null;
    value = ((value << 5) | digit) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

function readVarint(data, offset) {
  let value = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (offset >= data.length) return null;
    const byte = data[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) {
      if (byte === 0 && shift) return null; // non-canonical
      return [value, offset];
    }
  }
  return null;
}

/**
 * The structure of a code of `type` (one of CODE_TYPES), no signature check:
 * {keyId, tag, fields, body, signature}, or {error} with the stable codes of
 * service/signing.py: "invalid" (not one of our codes), "wrong_code_type" (a well-formed
 * code with another type's tag: verifyCode tells that apart from a forgery).
 */
export function parseCode(code, type) {
  const text = String(code || "").trim().toUpperCase();
  if (!text || text.length > MAX_CODE_CHARS || !/^[A-Z0-9]+$/.test(text)) return { error: "invalid" };
  const raw = base32Bytes(text);
  if (!raw || raw.length < 2 + SIGNATURE_BYTES) return { error: "invalid" };
  const header = raw[0];
  if (header >> 4 !== FORMAT_VERSION) return { error: "invalid" };
  // The signature covers every byte before it, whatever the type: split there first.
  const split = { keyId: raw[1], tag: header & 0x0f, body: raw.subarray(0, raw.length - SIGNATURE_BYTES),
    signature: raw.subarray(raw.length - SIGNATURE_BYTES) };
  if (split.tag !== type.tag) return { error: "wrong_code_type", ...split };
  const fields = {};
  let offset = 2;
  for (const name of type.fields) {
    const read = readVarint(raw, offset);
    if (!read) return { error: "invalid" };
    fields[name] = read[0];
    offset = read[1];
  }
  if (raw.length - offset !== SIGNATURE_BYTES) return { error: "invalid" };
  return { ...split, fields };
}

/**
 * A genuine code of `type`: {keyId, fields, ...}, or {error}. As on the server, the
 * signature is checked before the type is named: a forgery reads "invalid" whatever its
 * tag, a genuine code of another type "wrong_code_type".
 */
export async function verifyCode(verifier, code, type) {
  const parsed = parseCode(code, type);
  if (parsed.error && !parsed.signature) return parsed;
  if (!(await verifier.verify(parsed.keyId, parsed.signature, parsed.body))) return { error: "invalid" };
  return parsed;
}

/** Public keys as {key_id, public_key (base64url raw)} → verify(keyId, sig, body). WebCrypto
 * Ed25519 where the browser has it, else the vendored noble-ed25519 (loaded on demand). */
export async function makeVerifier(keys, nobleUrl, { engine: wanted = "webcrypto" } = {}) {
  const byId = new Map();
  let webcrypto = wanted === "webcrypto" && Boolean(globalThis.crypto && crypto.subtle);
  for (const key of keys) {
    const raw = base64urlBytes(key.public_key);
    let handle = raw;
    if (webcrypto) {
      try {
        handle = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
      } catch {
        webcrypto = false;
        handle = raw;
      }
    }
    if (!byId.has(key.key_id)) byId.set(key.key_id, []);
    byId.get(key.key_id).push(handle);
  }
  let noble = null;
  if (!webcrypto) noble = await import(nobleUrl);
  const engine = webcrypto ? "webcrypto" : "noble";
  async function verify(keyId, signature, body) {
    for (const handle of byId.get(keyId) || []) {
      try {
        const ok = handle instanceof Uint8Array
          ? await (noble || (noble = await import(nobleUrl))).verifyAsync(signature, body, handle, { zip215: false })
          : await crypto.subtle.verify({ name: "Ed25519" }, handle, signature, body);
        if (ok) return true;
      } catch {
        // a malformed signature is simply not valid
      }
    }
    return false;
  }
  return { verify, engine };
}

/**
 * Decide a code offline. `door` holds: activityId, opensAt, closesAt (ms), roster (Map
 * ticket id → roster ticket), revoked (Map ticket id → below_reissue), mine (Map ticket
 * id → {client_id, at, gate}: this phone's admissions not yet in the roster), verifier.
 * Returns {result, ticket} with `ticket` the roster entry when there is one.
 */
export async function decideOffline(door, code, now = Date.now()) {
  const verified = await verifyCode(door.verifier, code, CODE_TYPES.ticket);
  // Any refused code, a site poster's included, is "invalid" at the door, as on the server.
  if (verified.error) return { result: "invalid", ticket: null, reason: verified.error };
  const token = verified.fields;
  if (token.activity_id !== door.activityId) return { result: "wrong_activity", ticket: null };
  const ticket = door.roster.get(token.ticket_id);
  if (!ticket) return { result: "invalid", ticket: null };
  if (ticket.status === "cancelled") return { result: "cancelled", ticket };
  const below = door.revoked.get(token.ticket_id) || 0;
  if (token.reissue < ticket.reissue || token.reissue < below) return { result: "revoked", ticket };
  if (token.reissue > ticket.reissue) return { result: "invalid", ticket: null };
  if (ticket.status === "waitlisted") return { result: "waitlisted", ticket };
  if (now < door.opensAt || now > door.closesAt) return { result: "not_open", ticket };
  if (ticket.admitted_at) return { result: "already_checked_in", ticket };
  const mine = door.mine.get(token.ticket_id);
  if (mine) return { result: "already_checked_in", ticket, mine };
  return { result: "admitted", ticket, ticketId: token.ticket_id };
}
