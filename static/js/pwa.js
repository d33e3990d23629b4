// Registers the service worker, and keeps the last balance the home page showed so
// the offline page can show it (nothing else about the subscriber is stored).
(function () {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
  document.addEventListener("DOMContentLoaded", function () {
    var balance = document.querySelector('[data-testid="balance"]');
    if (balance && window.localStorage) {
      try {
        localStorage.setItem("abonent.balance", JSON.stringify({
          text: balance.textContent.trim(),
          at: new Date().toISOString(),
        }));
      } catch (e) { /* storage full or disabled: nothing to keep */ }
    }
  });
  document.addEventListener("submit", function (event) {
    // Logging out forgets the balance too.
    if (event.target && event.target.action && event.target.action.indexOf("/logout/") !== -1) {
      try { localStorage.removeItem("abonent.balance"); } catch (e) {}
    }
  });
})();
