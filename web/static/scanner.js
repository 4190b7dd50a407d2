// The door scanner: the camera (camera.js), hardware-scanner field, manual look-up,
// walk-ins, undo; offline verdicts (door-verify.js) wait in the shared scan queue
// (scan-queue.js), which syncs them through POST /api/v1/checkins/batch. Every visible string comes from the page's #door-data block
// (translated there); none is written here.
import { cameraSupported, qrDecoder, startCamera } from "./camera.js";
import { decideOffline, makeVerifier } from "./door-verify.js";
import { getJSON, kvGet, kvPut, postJSON as post, scanQueue, uuid } from "./scan-queue.js";

const DATA = JSON.parse(document.getElementById("door-data").textContent);
const T = DATA.strings;
const ACTIVITY = DATA.activity_id;
const SLOW_MS = 2000; // a verdict slower than this is decided on the phone
const SAME_CODE_MS = 4000; // the camera ignores a code it saw this recently
const SYNC_EVERY_MS = 5000;
const REFRESH_EVERY_MS = 30000;

const $ = (selector) => document.querySelector(selector);
const fill = (text, values) =>
  String(text).replace(/\{(\w+)\}/g, (_m, name) => (name in values ? values[name] : ""));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Exposed for the tests and the benchmark (timings, no personal data).
const stats = { frame_to_verdict_ms: [], offline_verify_ms: [], decoder: null, verifier: null };
window.unionhallDoor = { stats };

// --- what the door holds -----------------------------------------------------------------

const door = {
  activityId: ACTIVITY,
  opensAt: Date.parse(DATA.opens_at),
  closesAt: Date.parse(DATA.closes_at),
  roster: new Map(),
  revoked: new Map(),
  mine: new Map(),
  verifier: null,
};
let rosterCursor = null;
let revocationCursor = 0;
let counts = { admitted: DATA.admitted, confirmed: DATA.confirmed, walk_ins: DATA.walk_ins };
let twice = [];
let lastAdmission = null;

async function saveDoor() {
  await kvPut(`roster:${ACTIVITY}`, { cursor: rosterCursor, tickets: [...door.roster.values()] });
  await kvPut(`revoked:${ACTIVITY}`, { cursor: revocationCursor, items: [...door.revoked] });
  await kvPut(`mine:${ACTIVITY}`, [...door.mine]);
  await kvPut(`twice:${ACTIVITY}`, twice);
}

async function loadStored() {
  const roster = await kvGet(`roster:${ACTIVITY}`);
  if (roster) {
    rosterCursor = roster.cursor;
    for (const ticket of roster.tickets) door.roster.set(ticket.ticket_id, ticket);
  }
  const revoked = await kvGet(`revoked:${ACTIVITY}`);
  if (revoked) {
    revocationCursor = revoked.cursor;
    door.revoked = new Map(revoked.items);
  }
  door.mine = new Map((await kvGet(`mine:${ACTIVITY}`)) || []);
  twice = (await kvGet(`twice:${ACTIVITY}`)) || [];
  const keys = await kvGet("keys");
  if (keys) door.verifier = await makeVerifier(keys, DATA.noble);
}

const postJSON = (url, body) => post(url, body, DATA.csrf);

async function refreshKeys() {
  const answer = await getJSON("/api/v1/ticket-keys");
  await kvPut("keys", answer.keys);
  door.verifier = await makeVerifier(answer.keys, DATA.noble);
  stats.verifier = door.verifier.engine;
}

function mergeRoster(tickets) {
  for (const ticket of tickets) {
    door.roster.set(ticket.ticket_id, ticket);
    const mine = door.mine.get(ticket.ticket_id);
    // Another scanner's admission stands on the server: this phone's one was a duplicate.
    if (mine && mine.synced && ticket.admitted_client_id && ticket.admitted_client_id !== mine.client_id) {
      addTwice(mine.name, { first_gate: ticket.admitted_gate, first_scanner: ticket.admitted_by, first_checked_in_at: ticket.admitted_at });
      door.mine.delete(ticket.ticket_id);
    } else if (mine && mine.synced && ticket.admitted_client_id === mine.client_id) {
      door.mine.delete(ticket.ticket_id);
    }
  }
}

async function refreshRoster() {
  const since = rosterCursor ? `?since=${encodeURIComponent(rosterCursor)}` : "";
  const answer = await getJSON(`/api/v1/activities/${ACTIVITY}/roster${since}`);
  if (answer.full) door.roster.clear();
  mergeRoster(answer.tickets);
  rosterCursor = answer.cursor;
  const revoked = await getJSON(`/api/v1/revocations?activity_id=${ACTIVITY}&since=${revocationCursor}`);
  for (const item of revoked.items) {
    door.revoked.set(item.ticket_id, Math.max(door.revoked.get(item.ticket_id) || 0, item.below_reissue));
  }
  revocationCursor = revoked.cursor;
  await saveDoor();
  renderTwice();
}

async function refreshCounts() {
  const state = await getJSON(`/api/v1/activities/${ACTIVITY}/door`);
  counts = { admitted: state.admitted, confirmed: state.confirmed, walk_ins: state.walk_ins };
  door.opensAt = Date.parse(state.opens_at);
  door.closesAt = Date.parse(state.closes_at);
  renderCounts();
}

// --- the page ----------------------------------------------------------------------------

/** The server's count plus this phone's admissions still waiting to sync (kept in
 * IndexedDB, so a reload while offline does not lose them from the count). */
function renderCounts() {
  const waiting = [...door.mine.values()].filter((mine) => !mine.synced).length;
  $("#count").textContent = fill(T.count, { ...counts, admitted: counts.admitted + waiting });
  $("#walk-ins").textContent = counts.walk_ins ? fill(T.walk_ins, { n: counts.walk_ins }) : "";
}

function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString(DATA.lang, { hour: "2-digit", minute: "2-digit", hour12: false });
}

/** A moment that may be another day: the date too (24-hour time in both languages). */
function whenDay(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(DATA.lang, { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });
}

function firstLine(answer) {
  const values = { time: when(answer.first_checked_in_at), gate: answer.first_gate || "", by: answer.first_scanner || "" };
  return fill(values.gate ? T.first_at_gate : T.first_at, values);
}

/** The line under a verdict: who let the ticket in first, whose activity it is for, or when
 * the door opens. */
function verdictDetail(answer) {
  if (answer.result === "already_checked_in") return firstLine(answer);
  if (answer.result === "wrong_activity" && answer.ticket_activity) return fill(T.ticket_for, { title: answer.ticket_activity });
  if (answer.result === "not_open" && answer.opens_at) return fill(T.opens_at, { time: whenDay(answer.opens_at) });
  return answer.walk_in ? T.walk_in_done : "";
}

function addTwice(name, answer) {
  const values = { name, time: when(answer.first_checked_in_at), gate: answer.first_gate || "", by: answer.first_scanner || "" };
  twice.push(fill(values.gate ? T.twice_gate : T.twice, values));
}

function renderTwice() {
  const box = $("#twice");
  box.hidden = twice.length === 0;
  const list = $("#twice-list");
  list.replaceChildren(
    ...twice.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }),
  );
}

let audio = null;
function sound(colour) {
  try {
    audio = audio || new AudioContext();
    const tones = colour === "green" ? [[880, 0.12]] : colour === "amber" ? [[660, 0.1], [660, 0.1]] : [[220, 0.35]];
    let at = audio.currentTime;
    for (const [frequency, length] of tones) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.value = 0.25;
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + length);
      at += length + 0.06;
    }
  } catch {
    // no sound on this phone
  }
  if (navigator.vibrate) navigator.vibrate(colour === "green" ? 80 : colour === "amber" ? [80, 60, 80] : 300);
}

let showing = false;
let onVerdictHidden = null;

/** Full-screen verdict. It stays until a tap or the next scan (amber and red need to be
 * read); the camera keeps looking behind it, and the code still in view is not sent again. */
function showVerdict(answer, { local = false, message = "" } = {}) {
  const result = answer.result;
  const colour = DATA.colours[result] || "red";
  const box = $("#verdict");
  box.className = `verdict verdict-${colour}`;
  box.dataset.result = result;
  box.dataset.local = local ? "1" : "";
  $("#verdict-label").textContent = message || DATA.labels[result] || result;
  $("#verdict-name").textContent = answer.attendee ? answer.attendee.name : "";
  $("#verdict-phone").textContent = answer.attendee ? answer.attendee.phone_masked : "";
  $("#verdict-detail").textContent = verdictDetail(answer);
  $("#verdict-local").textContent = local ? T.decided_offline : "";
  box.hidden = false;
  showing = true;
  sound(colour);
}

function hideVerdict() {
  $("#verdict").hidden = true;
  showing = false;
  if (onVerdictHidden) onVerdictHidden();
}

function say(text, bad = false) {
  const line = $("#door-message");
  line.textContent = text;
  line.classList.toggle("form-error", bad);
}

function currentGate() {
  return DATA.gates.length ? $("#gate").value : "";
}

function needGate() {
  if (DATA.gates.length && !currentGate()) {
    say(T.choose_gate, true);
    return true;
  }
  return false;
}

function admittedOnline(answer, gate) {
  if (answer.result !== "admitted") return;
  counts.admitted += 1;
  if (answer.walk_in) {
    // A walk-in now holds a confirmed place too, as the server counts it.
    counts.walk_ins += 1;
    counts.confirmed += 1;
  }
  renderCounts();
  const ticket = door.roster.get(answer.registration_id);
  if (ticket) {
    Object.assign(ticket, {
      admitted_at: answer.first_checked_in_at || new Date().toISOString(),
      admitted_client_id: answer.client_id,
      admitted_gate: gate,
      admitted_by: answer.first_scanner,
    });
  }
  lastAdmission = { scan_id: answer.scan_id, name: answer.attendee ? answer.attendee.name : "", ticket_id: answer.registration_id };
  renderUndo();
}

function renderUndo() {
  const button = $("#undo");
  button.hidden = !lastAdmission;
  if (lastAdmission) button.textContent = fill(T.undo, { name: lastAdmission.name });
}

// --- deciding a code ---------------------------------------------------------------------

let busy = false;

/** A code from the camera or the hardware field: the server decides, or this phone does
 * when the answer is slow (> 2 s) or the network is gone. */
async function submitCode(code, source) {
  code = String(code || "").trim();
  if (!code || needGate()) return;
  busy = true;
  const started = source && source.frameAt;
  const scan = { activity_id: ACTIVITY, code, client_id: uuid(), scanned_at: new Date().toISOString(), gate: currentGate() };
  try {
    let answer = null;
    if (!queue.offline && navigator.onLine) {
      const request = postJSON("/api/v1/checkins", scan).catch(() => null);
      answer = await Promise.race([request, sleep(SLOW_MS).then(() => "slow")]);
      if (answer && answer !== "slow" && answer.status >= 400 && answer.status < 500) {
        say(answer.json && answer.json.message ? answer.json.message : T.failed, true);
        showVerdict({ result: "invalid" }, { message: answer.json && answer.json.message });
        return;
      }
      if (answer && answer !== "slow" && answer.ok) {
        say("");
        admittedOnline(answer.json, scan.gate);
        showVerdict(answer.json);
        if (started) stats.frame_to_verdict_ms.push(performance.now() - started);
        if (queue.waiting) sync();
        return;
      }
      queue.setOffline(true);
    }
    await decideHere(scan);
    if (started) stats.frame_to_verdict_ms.push(performance.now() - started);
  } finally {
    busy = false;
  }
}

async function decideHere(scan) {
  if (!door.verifier) {
    await queue.add({ ...scan, local_result: "unknown", name: "" });
    showVerdict({ result: "invalid" }, { local: true, message: T.no_offline_data });
    return;
  }
  const begin = performance.now();
  const decided = await decideOffline(door, scan.code);
  stats.offline_verify_ms.push(performance.now() - begin);
  const ticket = decided.ticket;
  const answer = { result: decided.result, attendee: ticket ? { name: ticket.name, phone_masked: ticket.phone_masked } : null };
  if (decided.result === "already_checked_in") {
    const first = decided.mine
      ? { first_checked_in_at: decided.mine.at, first_gate: decided.mine.gate, first_scanner: T.this_phone }
      : { first_checked_in_at: ticket.admitted_at, first_gate: ticket.admitted_gate, first_scanner: ticket.admitted_by };
    Object.assign(answer, first);
  }
  if (decided.result === "admitted") {
    door.mine.set(decided.ticketId, { client_id: scan.client_id, at: scan.scanned_at, gate: scan.gate, name: ticket.name, synced: false });
    renderCounts();
    lastAdmission = { offline: true, client_id: scan.client_id, name: ticket.name, ticket_id: decided.ticketId };
    renderUndo();
  }
  // Every scan goes to the server's log once back online, not only admissions.
  await queue.add({ ...scan, local_result: decided.result, name: ticket ? ticket.name : "" });
  await kvPut(`mine:${ACTIVITY}`, [...door.mine]);
  showVerdict(answer, { local: true });
}

// --- syncing -----------------------------------------------------------------------------

const queue = scanQueue({
  pointType: "door",
  pointId: ACTIVITY,
  endpoint: "/api/v1/checkins/batch",
  csrf: DATA.csrf,
  badge: document.getElementById("sync-badge"),
  strings: T,
  batchBody: (gate, scans) => ({ activity_id: ACTIVITY, gate, scans }),
  groupOf: (item) => item.gate,
  probe: () => getJSON(`/api/v1/activities/${ACTIVITY}/door`, 5000),
  onSettled: settle,
  onRefused: async (chunk, answer) => {
    for (const item of chunk) {
      twice.push(fill(T.refused, { name: item.name || "?", label: (answer.json && answer.json.message) || T.failed }));
    }
  },
  afterSync: async () => {
    await refreshRoster();
    await refreshCounts();
  },
});

async function sync() {
  await queue.sync();
  await saveDoor();
  renderTwice();
}

/** A synced chunk's answers: this phone's admissions that lost to an earlier scan, or
 * were refused, are reported in the "scanned twice" list. */
async function settle(chunk, results) {
  chunk.forEach((item, index) => {
    const answer = results[index];
    if (item.local_result !== "admitted") return;
    const ticketId = [...door.mine].find(([, mine]) => mine.client_id === item.client_id);
    if (answer.result === "admitted") {
      if (ticketId) ticketId[1].synced = true;
      return;
    }
    if (ticketId) door.mine.delete(ticketId[0]);
    const name = item.name || (answer.attendee && answer.attendee.name) || "";
    if (answer.result === "already_checked_in") addTwice(name, answer);
    else twice.push(fill(T.refused, { name, label: DATA.labels[answer.result] || answer.result }));
  });
}

// --- the camera (camera.js) ----------------------------------------------------------------

const seen = new Map(); // code → when the camera last saw it

/** No camera: the black box collapses to its retry button, and the code field and the
 * look-up below it come first. */
function cameraFailed() {
  say(T.camera_failed, true);
  $("#camera-box").classList.add("failed");
  $("#camera-start").hidden = false;
}

/** A code in view: sent once, not again while it stays in view or its verdict is read. */
async function cameraCode(text, { frameAt }) {
  const now = Date.now();
  const last = seen.get(text);
  seen.set(text, now);
  if (last && now - last <= SAME_CODE_MS) return;
  onVerdictHidden = () => seen.set(text, Date.now());
  await submitCode(text, { frameAt });
}

async function startScanning() {
  $("#camera-start").hidden = true;
  try {
    const camera = await startCamera($("#camera"), {
      onCode: cameraCode,
      ready: () => !busy && !(DATA.gates.length && !currentGate()),
    });
    stats.decoder = camera.decoder;
  } catch {
    cameraFailed();
    return;
  }
  if (DATA.gates.length && !currentGate()) say(T.choose_gate);
  $("#camera-box").classList.remove("failed");
  $("#camera-box").classList.add("live");
}

// --- forms -------------------------------------------------------------------------------

function wireForms() {
  $("#verdict").addEventListener("click", hideVerdict);
  $("#camera-start").addEventListener("click", startScanning);
  if (DATA.gates.length) {
    const gate = $("#gate");
    gate.value = localStorage.getItem(`door-gate:${ACTIVITY}`) || "";
    gate.addEventListener("change", () => {
      localStorage.setItem(`door-gate:${ACTIVITY}`, gate.value);
      say(gate.value ? "" : T.choose_gate, !gate.value);
    });
    if (!gate.value) say(T.choose_gate);
  }
  $("#code-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = $("#code");
    const code = field.value;
    field.value = "";
    await submitCode(code, null);
    field.focus();
  });
  $("#search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await search($("#q").value.trim());
  });
  $("#walk-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (needGate()) return;
    const form = event.target;
    const body = {
      activity_id: ACTIVITY,
      phone: form.phone.value,
      name: form.name.value,
      client_id: uuid(),
      gate: currentGate(),
    };
    const answer = await online("/api/v1/checkins/walk-in", body, $("#walk-in-error"));
    if (answer) {
      form.reset();
      admittedOnline(answer, body.gate);
      showVerdict(answer);
    }
  });
  $("#undo").addEventListener("click", undoLast);
}

/** A request that needs the server (manual admit, walk-in, undo). */
async function online(url, body, errorLine) {
  errorLine.textContent = "";
  let answer;
  try {
    answer = await postJSON(url, body);
  } catch {
    errorLine.textContent = T.needs_connection;
    return null;
  }
  if (!answer.ok) {
    errorLine.textContent = (answer.json && answer.json.message) || T.failed;
    return null;
  }
  return answer.json;
}

async function search(query) {
  const list = $("#search-results");
  const errorLine = $("#search-error");
  errorLine.textContent = "";
  if (!query) return;
  let found;
  try {
    found = await getJSON(`/api/v1/activities/${ACTIVITY}/door/search?q=${encodeURIComponent(query)}`, 5000);
  } catch {
    // Offline: look in the downloaded roster (names and the last four digits).
    const q = query.toLowerCase();
    found = [...door.roster.values()].filter(
      (t) => t.name.toLowerCase().includes(q) || (/^\d{4}$/.test(q) && t.phone_masked.endsWith(q)),
    ).slice(0, 20);
    errorLine.textContent = T.needs_connection_admit;
  }
  list.replaceChildren(
    ...found.map((ticket) => {
      const item = document.createElement("li");
      const who = document.createElement("span");
      who.innerHTML = "<strong></strong> <span class='phone'></span> <span class='muted'></span>";
      who.querySelector("strong").textContent = ticket.name;
      who.querySelector(".phone").textContent = ticket.phone_masked;
      const admitted = ticket.admitted_at || door.mine.has(ticket.ticket_id);
      who.querySelector(".muted").textContent = admitted ? T.already_in : DATA.statuses[ticket.status] || ticket.status;
      item.append(who);
      if (!admitted && ticket.status === "confirmed") {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = T.admit;
        button.addEventListener("click", async () => {
          if (needGate()) return;
          const body = { activity_id: ACTIVITY, registration_id: ticket.ticket_id, client_id: uuid(), gate: currentGate() };
          const answer = await online("/api/v1/checkins/manual", body, errorLine);
          if (answer) {
            admittedOnline(answer, body.gate);
            showVerdict(answer);
            list.replaceChildren();
            $("#q").value = "";
          }
        });
        item.append(button);
      }
      return item;
    }),
  );
  if (!found.length) {
    const item = document.createElement("li");
    item.textContent = T.nobody;
    list.append(item);
  }
}

async function undoLast() {
  if (!lastAdmission || !confirm(fill(T.undo_confirm, { name: lastAdmission.name }))) return;
  const errorLine = $("#undo-error");
  if (lastAdmission.offline) {
    const queued = (await queue.all()).some((item) => item.client_id === lastAdmission.client_id);
    if (!queued) {
      errorLine.textContent = T.needs_connection;
      return;
    }
    await queue.remove(lastAdmission.client_id);
    door.mine.delete(lastAdmission.ticket_id);
    await kvPut(`mine:${ACTIVITY}`, [...door.mine]);
    await queue.renderBadge();
  } else {
    const answer = await online(`/api/v1/checkins/${lastAdmission.scan_id}/undo`, { reason: T.undo_reason }, errorLine);
    if (!answer) return;
    const ticket = door.roster.get(lastAdmission.ticket_id);
    if (ticket) Object.assign(ticket, { admitted_at: null, admitted_client_id: null, admitted_gate: null, admitted_by: null });
    counts.admitted = Math.max(0, counts.admitted - 1);
  }
  renderCounts();
  say(fill(T.undone, { name: lastAdmission.name }));
  lastAdmission = null;
  renderUndo();
}

// --- start -------------------------------------------------------------------------------

async function start() {
  wireForms();
  renderCounts();
  await loadStored().catch(() => {});
  renderCounts();  // with this phone's admissions still waiting to sync
  renderTwice();
  await queue.renderBadge();
  try {
    await refreshKeys();
    await refreshRoster();
  } catch {
    queue.setOffline(true);
  }
  // The decoder is fetched now, while the network is there.
  const decoder = await qrDecoder().catch(() => null);
  if (decoder) stats.decoder = decoder.name;
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => queue.setOffline(true));
  // A boosted link may swap this page out: the timers stop with it.
  const every = (ms, work) => {
    const timer = setInterval(() => (document.getElementById("door-data") ? work() : clearInterval(timer)), ms);
  };
  every(SYNC_EVERY_MS, () => {
    if (queue.offline || queue.waiting) sync();
  });
  every(REFRESH_EVERY_MS, () => {
    if (!queue.offline && !queue.waiting) Promise.all([refreshRoster(), refreshCounts()]).catch(() => queue.setOffline(true));
  });
  if (cameraSupported() && decoder) await startScanning();
  else cameraFailed();
  document.body.dataset.doorReady = "1";
  if (queue.waiting) sync();
}

start();
