/* The critique a reviewer's decision carries, by keyboard: "t" then a type's key sets the error type
 * (Backspace: the explanation's own), "e" picks the next annotator's explanation of the chosen step (after
 * the last: as agreed), "w" writes an own explanation. Picking an annotator's explanation chooses the step
 * they marked. Extends review.js through window.prmwebReview; without it the page is a plain form. */
(function () {
  "use strict";

  var review = window.prmwebReview;
  var types = document.getElementById("review-error-types");
  if (!review || !types) {
    return;
  }
  var TYPE_WAIT_MS = 5000;
  var form = review.form;
  var agreed = document.getElementById("id_explanation_agreed");
  var own = document.getElementById("id_explanation_own");
  var ownBox = document.getElementById("own-explanation");
  var ownText = document.getElementById("id_explanation");
  var agreedText = document.getElementById("agreed-explanation");
  var picked = document.getElementById("picked-explanation");
  var keepType = document.getElementById("id_review_type_keep");
  var choosingType = false;
  var typeTimer = null;

  function typeInputs() {
    return Array.prototype.slice.call(types.querySelectorAll('input[name="error_type"]'));
  }

  function picks() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="explanation_annotation"][data-label]'));
  }

  function pickedInput() {
    return picks().filter(function (input) { return input.checked; })[0] || null;
  }

  function rowOf(value) {
    return document.getElementById(value === -1 ? "review-step-all-correct" : "review-step-" + value);
  }

  function agreedLine(value) {
    if (value === null) {
      return "As agreed: the longest of those who gave the label";
    }
    var row = rowOf(value);
    var author = row ? row.getAttribute("data-agreed-by") : "";
    return author ? "As agreed: " + author + "'s" : "As agreed: none written for this label";
  }

  function pickedLine() {
    var input = pickedInput();
    if (!input) {
      return "";
    }
    var label = parseInt(input.getAttribute("data-label"), 10);
    return "Picked: " + input.getAttribute("data-annotator") + "'s (" + (label === -1 ? "all correct" : "step " + (label + 1)) + ")";
  }

  /* the own box shows (and is posted) only with "My own"; the type goes only with a marked step */
  function update(value) {
    var input = pickedInput();
    if (input && value !== null && parseInt(input.getAttribute("data-label"), 10) !== value) {
      agreed.checked = true;  /* an explanation of another label cannot go with this one */
    }
    ownBox.classList.toggle("is-open", own.checked);
    ownText.disabled = !own.checked;
    types.disabled = value === -1;
    agreedText.textContent = agreedLine(value);
    picked.textContent = pickedLine();
  }
  form.classList.add("has-keys");
  review.onPaint(update);
  update(review.chosenValue());

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.name !== "explanation_annotation") {
      return;
    }
    var label = target.getAttribute("data-label");
    if (label !== null && parseInt(label, 10) !== review.chosenValue()) {
      review.choose(parseInt(label, 10));  /* picking an explanation chooses the step it explains */
    }
    update(review.chosenValue());
  });

  /* ---- "t" then the type's key ---- */
  function typeTitle(input) {
    return input.parentNode.textContent.replace(/\s+[a-z]\s*$/, "").trim();
  }

  function stopChoosing() {
    choosingType = false;
    types.classList.remove("is-choosing");
    if (typeTimer !== null) {
      window.clearTimeout(typeTimer);
      typeTimer = null;
    }
  }

  review.keys.t = function () {
    if (review.chosenValue() === -1) {
      review.say("All correct takes no error type.");
      return;
    }
    choosingType = true;
    types.classList.add("is-choosing");
    review.say("Error type: press its key (Backspace: the explanation's, Esc: cancel).");
    typeTimer = window.setTimeout(function () { stopChoosing(); review.say(""); }, TYPE_WAIT_MS);
  };

  function chooseType(key) {
    var input = typeInputs().filter(function (candidate) { return candidate.getAttribute("data-key") === key; })[0];
    if (!input) {
      review.say("No error type has the key " + key + ".");
      return;
    }
    input.checked = true;
    review.say("Error type: " + typeTitle(input));
  }

  review.takeKey = function (event) {
    if (!choosingType) {
      return false;
    }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    stopChoosing();
    if (key === "Escape") {
      review.say("");
    } else if (key === "Backspace" || key === "Delete") {
      keepType.checked = true;
      review.say("Error type: the explanation's");
    } else if (/^[a-z]$/.test(key)) {
      chooseType(key);
    } else {
      return false;
    }
    return true;
  };

  /* ---- "e": the next annotator's explanation of the chosen step; "w": my own ---- */
  review.keys.e = function () {
    var value = review.chosenValue();
    if (value === null) {
      review.say("Choose a step (its number) or 0 for all correct first.");
      return;
    }
    var candidates = picks().filter(function (input) { return parseInt(input.getAttribute("data-label"), 10) === value; });
    if (!candidates.length) {
      review.say("Nobody who gave this label wrote an explanation: w writes yours.");
      return;
    }
    var next = candidates[candidates.indexOf(pickedInput()) + 1];
    if (next) {
      next.checked = true;
      next.closest(".opinion").scrollIntoView({ block: "nearest" });
    } else {
      agreed.checked = true;
    }
    update(value);
    review.say(next ? pickedLine() : agreedLine(value));
  };

  review.keys.w = function () {
    own.checked = true;
    update(review.chosenValue());
    review.say("Explanation: your own (Esc leaves the box)");
    ownText.focus();
  };
})();
