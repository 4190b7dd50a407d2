// Profile page: turn Web Push on or off for this browser. The server's VAPID key comes
// from /api/v1/push/key; the subscription goes to /api/v1/me/push-subscriptions.
(function () {
  const box = document.getElementById("push");
  if (!box) return;
  const onButton = document.getElementById("push-on");
  const offButton = document.getElementById("push-off");
  const status = document.getElementById("push-status");
  const say = (name) => { status.textContent = box.dataset[name] || ""; };
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    onButton.hidden = true;
    say("unsupported");
    return;
  }
  // The page's CSRF token, as boot.js reads it for htmx (the boot.js script tag carries it).
  const headers = () => {
    const tag = document.querySelector("script[data-csrf-token]");
    return { "Content-Type": "application/json", "x-csrftoken": tag ? tag.getAttribute("data-csrf-token") : "" };
  };
  const keyBytes = (text) => {
    const base64 = (text + "=".repeat((4 - (text.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  };
  const show = (subscribed) => {
    onButton.hidden = subscribed;
    offButton.hidden = !subscribed;
    say(subscribed ? "on" : (Notification.permission === "denied" ? "denied" : "off"));
  };
  navigator.serviceWorker.ready
    .then((registration) => registration.pushManager.getSubscription())
    .then((subscription) => show(Boolean(subscription)))
    .catch(() => show(false));

  onButton.onclick = async () => {
    onButton.disabled = true;
    try {
      if ((await Notification.requestPermission()) !== "granted") { show(false); return; }
      const registration = await navigator.serviceWorker.ready;
      const { public_key: key } = await (await fetch("/api/v1/push/key")).json();
      const subscription = (await registration.pushManager.getSubscription()) ||
        (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
      const response = await fetch("/api/v1/me/push-subscriptions", {
        method: "POST", headers: headers(), credentials: "same-origin",
        body: JSON.stringify(subscription.toJSON()),
      });
      if (!response.ok) throw new Error(String(response.status));
      show(true);
    } catch (error) {
      say("failed");
    } finally {
      onButton.disabled = false;
    }
  };

  offButton.onclick = async () => {
    offButton.disabled = true;
    try {
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        await fetch("/api/v1/me/push-subscriptions", {
          method: "DELETE", headers: headers(), credentials: "same-origin",
          body: JSON.stringify({ endpoint: subscription.endpoint }),
        });
        await subscription.unsubscribe();
      }
      show(false);
    } catch (error) {
      say("failed");
    } finally {
      offButton.disabled = false;
    }
  };
})();
