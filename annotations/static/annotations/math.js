/* Typeset the LaTeX that the server kept verbatim in <span class="math"> (see annotations/rendering.py).
 * Only those spans are handed to KaTeX: a "$5" in plain text is never taken for math.
 * trust: false keeps \href, \url and friends inert; throwOnError: false shows bad LaTeX as its source. */
(function () {
  "use strict";

  var ENVIRONMENTS = ["equation", "equation*", "align", "align*", "alignat", "alignat*", "gather", "gather*", "CD"];
  var DELIMITERS = [
    { left: "$$", right: "$$", display: true },
    { left: "\\[", right: "\\]", display: true },
    { left: "\\(", right: "\\)", display: false },
    { left: "$", right: "$", display: false }
  ].concat(ENVIRONMENTS.map(function (name) {
    return { left: "\\begin{" + name + "}", right: "\\end{" + name + "}", display: true };
  }));

  var OPTIONS = {
    delimiters: DELIMITERS,
    throwOnError: false,
    trust: false,
    strict: "ignore",
    maxSize: 20,
    maxExpand: 1000,
    errorColor: "#b45309",
    errorCallback: function () { /* the source text stays visible */ }
  };

  function renderMath(root) {
    if (typeof window.renderMathInElement !== "function") {
      return;
    }
    var spans = (root || document).querySelectorAll(".math:not([data-typeset])");
    Array.prototype.forEach.call(spans, function (span) {
      try {
        window.renderMathInElement(span, OPTIONS);
      } catch (error) {
        /* leave the source text in place */
      }
      span.setAttribute("data-typeset", span.querySelector(".katex") ? "ok" : "source");
    });
    document.documentElement.setAttribute("data-math", "ready");
  }

  /* A display formula (or a table in a .table-scroll box) wider than its box scrolls sideways; with overlay
   * scrollbars nothing shows that it goes on, so its cut edge fades (site.css: .more-left, .more-right) until
   * it is scrolled to that end. */
  var WIDE = ".katex-display, .table-scroll";

  function markWide(box) {
    var wide = box.scrollWidth > box.clientWidth + 1;
    box.classList.toggle("more-left", wide && box.scrollLeft > 1);
    box.classList.toggle("more-right", wide && box.scrollLeft + box.clientWidth < box.scrollWidth - 1);
    if (wide) {
      box.title = box.classList.contains("table-scroll") ? "The table goes on: scroll it sideways"
        : "The formula goes on: scroll it sideways";
    } else {
      box.removeAttribute("title");
    }
  }

  function markAllWide(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(WIDE), function (box) {
      if (!box.hasAttribute("data-wide-watch")) {
        box.setAttribute("data-wide-watch", "");
        box.addEventListener("scroll", function () { markWide(box); }, { passive: true });
      }
      markWide(box);
    });
  }

  function typeset(root) {
    renderMath(root);
    markAllWide(root);
  }

  window.prmwebRenderMath = typeset;
  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () { markAllWide(document); }, 150);
  });
  document.addEventListener("toggle", function (event) { markAllWide(event.target); }, true);  /* <details> opened */
  if (document.fonts && document.fonts.ready) {
    document.fonts.ready.then(function () { markAllWide(document); });  /* KaTeX's fonts change the widths */
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { typeset(document); });
  } else {
    typeset(document);
  }
})();
