// After a failed save the architecture form comes back with an error
// summary at the top. Moving focus there lets keyboard and screen-reader
// users start from the list of problems, each a link to its field, instead
// of from the top of the page.
(function () {
  "use strict";
  var summary = document.getElementById("problems");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.scrollIntoView({ block: "start" });
})();
