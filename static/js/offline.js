document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector('[data-testid="offline-balance"]');
  var saved = null;
  try { saved = JSON.parse(localStorage.getItem("abonent.balance") || "null"); } catch (e) {}
  if (!box || !saved || !saved.text) { return; }
  box.querySelector('[data-role="balance"]').textContent = saved.text;
  box.querySelector('[data-role="when"]').textContent = new Date(saved.at).toLocaleString(document.documentElement.lang || undefined);
  box.hidden = false;
});
