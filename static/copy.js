// Adds a Copy button to every file of the rollout bundle on a run's page,
// so the winner's config can be pasted as is. Without JavaScript the text
// is still there to select by hand.
(function () {
  "use strict";
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll(".rollout pre, .memo pre").forEach(function (pre) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.addEventListener("click", function () {
      var code = pre.querySelector("code") || pre;
      navigator.clipboard.writeText(code.textContent).then(function () {
        button.textContent = "Copied";
      }, function () {
        button.textContent = "Copy failed: select the text";
      });
    });
    pre.parentNode.insertBefore(button, pre);
  });
})();
