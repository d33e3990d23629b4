// "Turn on notifications on this device": subscribes the browser (or the installed
// app) to web push with the server's VAPID key and hands the subscription over.
(function () {
  var button = document.querySelector("[data-push-key]");
  if (!button || !("serviceWorker" in navigator) || !("PushManager" in window)) { return; }
  button.hidden = false;
  function key(base64) {
    var padded = (base64 + "===".slice((base64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function csrf() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  button.addEventListener("click", function () {
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { return; }
      return navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: key(button.dataset.pushKey),
        });
      }).then(function (subscription) {
        return fetch(button.dataset.pushUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
          body: JSON.stringify(subscription.toJSON()),
        });
      }).then(function () { button.disabled = true; });
    });
  });
})();
