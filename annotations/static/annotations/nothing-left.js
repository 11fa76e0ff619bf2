/* The "Nothing left to annotate" page: b opens my previous item, as on the annotation page. */
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    var link = document.getElementById("previous-link");
    if (!link || event.key !== "b" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
      return;
    }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    event.preventDefault();
    window.location.assign(link.href);
  });
})();
