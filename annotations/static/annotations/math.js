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

  window.prmwebRenderMath = renderMath;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { renderMath(document); });
  } else {
    renderMath(document);
  }
})();
