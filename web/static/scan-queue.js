// The offline queue of every scanner page (a door today; a booth or a delivery site
// next): scans decided on the phone wait in IndexedDB, are synced to the point's batch
// endpoint oldest first (the server settles them earliest-first, service/scans), and the
// "offline, N waiting" badge says how many wait. A page names its point and its endpoint;
// what a settled answer means (a duplicate to report, a refusal) stays with the page.

// One database for every scanner page. It keeps the door's name, so a queue written
// before this module existed is still synced after the upgrade.
const DB_NAME = "unionhall-door";
const CHUNK = 200; // scans a request; the server takes at most 500

let dbPromise = null;
function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore("kv");
        open.result.createObjectStore("queue", { keyPath: "client_id" });
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }
  return dbPromise;
}

async function store(name, mode, action) {
  const handle = await db();
  return new Promise((resolve, reject) => {
    const tx = handle.transaction(name, mode);
    const request = action(tx.objectStore(name));
    tx.oncomplete = () => resolve(request ? request.result : undefined);
    tx.onerror = () => reject(tx.error);
  });
}

/** What a page keeps offline besides its queue (roster, keys, …), by key. */
export const kvGet = (key) => store("kv", "readonly", (s) => s.get(key)).catch(() => undefined);
export const kvPut = (key, value) => store("kv", "readwrite", (s) => s.put(value, key)).catch(() => {});

export const uuid = () =>
  crypto.randomUUID
    ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

export async function getJSON(url, timeout = 10000) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { accept: "application/json" },
    signal: AbortSignal.timeout(timeout),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

export async function postJSON(url, body, csrf, timeout = 15000) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "application/json", "x-csrftoken": csrf },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeout),
  });
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  return { ok: response.ok, status: response.status, json };
}

const fill = (text, values) =>
  String(text).replace(/\{(\w+)\}/g, (_m, name) => (name in values ? values[name] : ""));

/**
 * The queue of one scan point.
 *
 * options:
 *   pointType, pointId  the point (e.g. "door", the activity id)
 *   endpoint            its batch endpoint (POST {…batchBody(group, scans)})
 *   csrf                the page's CSRF token
 *   badge               the badge element; strings.offline_waiting / strings.waiting ({n})
 *   batchBody(group, scans)   the request body for one chunk of one group
 *   groupOf(item)       scans sent together share a group (the door: its gate); default one
 *   scanOf(item)        what of a queued item is sent (default: code, client_id, scanned_at)
 *   probe()             a cheap request that proves the network is back (when nothing waits)
 *   onSettled(chunk, results)  the answers of a synced chunk, in the order sent
 *   onRefused(chunk, answer)   the server refused a chunk as a whole (a 4xx): it is dropped
 *   afterSync()         after every chunk went through (refresh what the page shows)
 *   onOffline(offline)  the page's own reaction when the network goes or comes back
 */
export function scanQueue(options) {
  const {
    pointType,
    pointId,
    endpoint,
    csrf,
    badge,
    strings,
    batchBody,
    groupOf = () => "",
    scanOf = ({ code, client_id, scanned_at }) => ({ code, client_id, scanned_at }),
    probe = async () => {},
    onSettled = async () => {},
    onRefused = async () => {},
    afterSync = async () => {},
    onOffline = () => {},
  } = options;
  let offline = !navigator.onLine;
  let waiting = 0;
  let syncing = false;

  // Items queued by the door scanner before this module carry no point: only an activity.
  const mine = (item) =>
    item.point_type === undefined
      ? pointType === "door" && item.activity_id === pointId
      : item.point_type === pointType && item.point_id === pointId;

  const all = async () =>
    ((await store("queue", "readonly", (s) => s.getAll()).catch(() => [])) || []).filter(mine);
  const remove = (clientId) => store("queue", "readwrite", (s) => s.delete(clientId));

  async function add(item) {
    await store("queue", "readwrite", (s) => s.put({ ...item, point_type: pointType, point_id: pointId }));
    await renderBadge();
  }

  async function renderBadge() {
    waiting = (await all()).length;
    if (!badge) return;
    if (offline) badge.textContent = fill(strings.offline_waiting, { n: waiting });
    else if (waiting) badge.textContent = fill(strings.waiting, { n: waiting });
    badge.hidden = !offline && !waiting;
    badge.classList.toggle("offline", offline);
  }

  function setOffline(value) {
    if (offline === value) return;
    offline = value;
    onOffline(value);
    renderBadge();
  }

  /** Send what waits, oldest first, in chunks; a failure leaves the rest for later. */
  async function sync() {
    if (syncing || !navigator.onLine) return;
    syncing = true;
    try {
      const items = await all();
      if (!items.length) {
        if (offline) {
          // Nothing waiting: try the network before saying we are back.
          await probe();
          setOffline(false);
        }
        return;
      }
      items.sort((a, b) => a.scanned_at.localeCompare(b.scanned_at));
      const groups = new Map();
      for (const item of items) {
        const group = groupOf(item);
        if (!groups.has(group)) groups.set(group, []);
        groups.get(group).push(item);
      }
      for (const [group, members] of groups) {
        for (let start = 0; start < members.length; start += CHUNK) {
          const chunk = members.slice(start, start + CHUNK);
          const answer = await postJSON(endpoint, batchBody(group, chunk.map(scanOf)), csrf);
          if (answer.status >= 500 || answer.status === 401 || answer.status === 403) throw new Error("later");
          if (answer.ok) await onSettled(chunk, answer.json.results);
          else await onRefused(chunk, answer); // e.g. a gate removed: keep nothing stuck
          for (const item of chunk) await remove(item.client_id);
        }
      }
      setOffline(false);
      await afterSync();
    } catch {
      setOffline(true);
    } finally {
      syncing = false;
      await renderBadge();
    }
  }

  return {
    add,
    all,
    remove,
    sync,
    setOffline,
    renderBadge,
    get offline() {
      return offline;
    },
    get waiting() {
      return waiting;
    },
  };
}
