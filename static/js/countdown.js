// Counts the resend cooldown down and enables the button when it is over.
(function () {
  var button = document.querySelector("[data-countdown]");
  var label = document.querySelector("[data-countdown-label]");
  if (!button) return;
  var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
  var template = label ? label.getAttribute("data-template") : "%s";
  function tick() {
    if (left <= 0) {
      button.disabled = false;
      if (label) label.textContent = "";
      return;
    }
    button.disabled = true;
    if (label) label.textContent = template.replace("%s", left);
    left -= 1;
    setTimeout(tick, 1000);
  }
  tick();
})();
