/* Review at keyboard speed: the workbench's keys on the review page and `n` on the review queue.
 * Digits choose a step (typed within a short pause they make one number: 1 then 2 is Step 12), 0 alone
 * means "all steps correct", s sets the final label, n opens the next solution needing review, r writes
 * the note, j/k move and Enter chooses, ? shows the keys. Without this script the page is a plain form.
 * review-critique.js (error type, explanation) extends it through window.prmwebReview. */
(function () {
  "use strict";

  var DIGIT_PAUSE_MS = 900;
  var feedback = document.getElementById("review-keys");
  var nextLink = document.getElementById("next-in-queue");

  function say(text) {
    if (feedback) {
      feedback.textContent = text;
    }
  }

  function isTyping(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) {
      return true;
    }
    return tag === "input" && ["radio", "checkbox", "submit", "button"].indexOf(target.type) < 0;
  }

  function goNext() {
    if (nextLink) {
      say("Opening the next solution needing review…");
      window.location.assign(nextLink.href);
    } else {
      say("Nothing else needs review in this dataset.");
    }
  }

  var form = document.getElementById("decide-form");
  if (!form) {
    document.addEventListener("keydown", function (event) {
      if (event.key === "n" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target)) {
        event.preventDefault();
        goNext();
      }
    });
    return;
  }

  var numSteps = parseInt(form.getAttribute("data-num-steps"), 10) || 0;
  var rows = Array.prototype.slice.call(document.querySelectorAll("#review-steps .review-step"));
  var allCorrectRow = document.getElementById("review-step-all-correct");
  var choice = document.getElementById("review-choice");
  var note = document.getElementById("id_note");
  var help = document.getElementById("review-shortcuts");
  var digits = "";
  var digitTimer = null;
  var focusIndex = -1;
  var submitting = false;
  var paintListeners = [];

  function radios() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="label"][form="decide-form"]'));
  }

  function chosenValue() {
    var checked = radios().filter(function (input) { return input.checked; })[0];
    return checked ? parseInt(checked.value, 10) : null;
  }

  function paint() {
    var value = chosenValue();
    rows.forEach(function (row, index) {
      row.classList.toggle("is-chosen", value === index);
      row.classList.toggle("is-focused", index === focusIndex);
    });
    if (allCorrectRow) {
      allCorrectRow.classList.toggle("is-chosen", value === -1);
    }
    if (choice) {
      choice.textContent = value === null ? "none chosen" : value === -1 ? "All correct" : "Step " + (value + 1);
    }
    paintListeners.forEach(function (listener) { listener(value); });
  }

  function choose(value) {
    var input = radios().filter(function (candidate) { return parseInt(candidate.value, 10) === value; })[0];
    if (!input) {
      return;
    }
    input.checked = true;
    var row = value === -1 ? allCorrectRow : rows[value];
    if (value >= 0) {
      focusIndex = value;
    }
    if (row) {
      row.scrollIntoView({ block: "nearest" });
    }
    paint();
  }

  function endNumber() {
    digits = "";
    if (digitTimer !== null) {
      window.clearTimeout(digitTimer);
      digitTimer = null;
    }
  }

  function typeDigit(digit) {
    if (digits === "" && digit === "0") {
      endNumber();
      choose(-1);
      say("All steps correct");
      return;
    }
    digits += digit;
    var number = parseInt(digits, 10);
    if (number < 1 || number > numSteps) {
      say("No step " + number + ": this solution has " + numSteps + " step" + (numSteps === 1 ? "" : "s") + ".");
      endNumber();
      return;
    }
    choose(number - 1);
    if (number * 10 > numSteps) {
      say("Step " + number);
      endNumber();
      return;
    }
    say("Step " + number + "… (another digit for step " + number + "0 and up)");
    if (digitTimer !== null) {
      window.clearTimeout(digitTimer);
    }
    digitTimer = window.setTimeout(function () { say("Step " + number); endNumber(); }, DIGIT_PAUSE_MS);
  }

  function submitDecision() {
    if (chosenValue() === null) {
      say("Choose a step (its number) or 0 for all correct first.");
      return;
    }
    if (!submitting) {
      submitting = true;
      say("Setting the final label…");
      form.requestSubmit();
    }
  }

  function moveFocus(delta) {
    if (!rows.length) {
      return;
    }
    if (focusIndex < 0) {
      var value = chosenValue();
      focusIndex = value !== null && value >= 0 ? value : delta > 0 ? -1 : rows.length;
    }
    focusIndex = Math.min(Math.max(focusIndex + delta, 0), rows.length - 1);
    rows[focusIndex].focus({ preventScroll: true });
    rows[focusIndex].scrollIntoView({ block: "nearest" });
    paint();
  }

  function toggleHelp(show) {
    if (help) {
      help.hidden = !show;
    }
  }

  var keys = {
    s: submitDecision,
    n: goNext,
    j: function () { moveFocus(1); },
    k: function () { moveFocus(-1); },
    ArrowDown: function () { moveFocus(1); },
    ArrowUp: function () { moveFocus(-1); },
    Enter: function () { if (focusIndex >= 0) { choose(focusIndex); say("Step " + (focusIndex + 1)); } },
    g: function () { endNumber(); say("Step …"); },
    r: function () { if (note) { note.focus(); } },
    "?": function () { toggleHelp(help && help.hidden); }
  };

  var review = {
    form: form,
    keys: keys,
    say: say,
    chosenValue: chosenValue,
    choose: choose,
    onPaint: function (listener) { paintListeners.push(listener); }
  };
  window.prmwebReview = review;

  function onTypingKey(event) {
    if (event.key === "Escape") {
      event.target.blur();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.form === form) {
      event.preventDefault();
      submitDecision();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (isTyping(event.target)) {
      onTypingKey(event);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (help && !help.hidden) {
      if (event.key === "Escape" || event.key === "?") {
        toggleHelp(false);
        event.preventDefault();
      }
      return;
    }
    if (event.key === "Enter" && event.target.closest && event.target.closest("a, button, summary")) {
      return;
    }
    if (review.takeKey && review.takeKey(event)) {
      event.preventDefault();  /* e.g. the key after "t" names an error type */
      return;
    }
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      typeDigit(event.key);
    } else if (Object.prototype.hasOwnProperty.call(keys, event.key)) {
      event.preventDefault();
      keys[event.key]();
    }
  });

  rows.forEach(function (row, index) {
    row.addEventListener("click", function (event) {
      if (!event.target.closest("a, details, summary, input, label")) {
        choose(index);
      }
    });
  });
  form.addEventListener("submit", function () { submitting = true; });
  document.addEventListener("change", function (event) {
    if (event.target.name === "label") {
      paint();
    }
  });
  var helpButton = document.getElementById("review-help-button");
  if (helpButton) {
    helpButton.addEventListener("click", function () { toggleHelp(true); });
  }
  var helpClose = document.getElementById("review-shortcuts-close");
  if (helpClose) {
    helpClose.addEventListener("click", function () { toggleHelp(false); });
  }
  paint();
})();
